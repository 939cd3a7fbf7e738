/**
 * The one writer of `text/event-stream` bodies: MCP's Streamable HTTP and legacy SSE transports, the
 * 2026-07-28 answers and listen streams, and the admin API's live logs all write through it. It owns
 * the framing, the headers, keep-alive comments and a bound on what a client that does not read can
 * make the daemon hold: past `maxBufferedBytes` queued, the stream is ended and `onend` says why.
 */
const encoder = new TextEncoder();

export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Proxies drop idle connections; an open stream gets a comment line this often. */
export const KEEPALIVE_MS = 15_000;

/** What a client that stopped reading may leave queued before its stream is dropped. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

const KEEPALIVE = encoder.encode(': keepalive\n\n');

/** desiredSize counts down from this as bytes queue up; only what it says is unread matters here. */
const QUEUE_HIGH_WATER_MARK = 64 * 1024;

/** Why a stream ended: closed by us, cancelled by the client, or dropped because the client did not read. */
export type EndReason = 'closed' | 'cancelled' | 'overflow';

export interface EventStreamOptions {
  /** Keep-alive comment interval; 0 for none. Default KEEPALIVE_MS. */
  keepaliveMs?: number;
  maxBufferedBytes?: number;
  /** Called once when the stream ends, for whatever reason. */
  onend?: (reason: EndReason) => void;
}

/** Responses whose body is an event stream: every one is made by EventStream.response(). */
const streamed = new WeakSet<Response>();

/**
 * Whether `response` streams events, known without reading its headers: on @hono/node-server a
 * Response built with plain-object headers writes them as they are, and reading `headers` would
 * build a web Headers object for every JSON answer first.
 */
export function isEventStream(response: Response): boolean {
  return streamed.has(response);
}

/** One event as text: an optional event name, and data split on newlines as the format requires. */
export function frame(data: string, event?: string): string {
  const head = event ? `event: ${event}\n` : '';
  return `${head}data: ${data.replaceAll('\n', '\ndata: ')}\n\n`;
}

/** One JSON-RPC message as a Server-Sent Event of type `message`. */
export function messageFrame(message: unknown): string {
  return `event: message\ndata: ${JSON.stringify(message)}\n\n`;
}

export class EventStream {
  readonly readable: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private timer: NodeJS.Timeout | undefined;
  private readonly maxBufferedBytes: number;
  private _closed = false;

  constructor(private readonly options: EventStreamOptions = {}) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        cancel: () => this.finish('cancelled'),
      },
      // Counted in bytes, so that desiredSize says how much the client has left unread.
      new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_HIGH_WATER_MARK }),
    );
    const keepaliveMs = options.keepaliveMs ?? KEEPALIVE_MS;
    if (keepaliveMs > 0) {
      this.timer = setInterval(() => this.write(KEEPALIVE), keepaliveMs);
      this.timer.unref();
    }
  }

  get closed(): boolean {
    return this._closed;
  }

  /** Bytes written that the client has not read yet. */
  get queuedBytes(): number {
    return Math.max(0, QUEUE_HIGH_WATER_MARK - (this.controller.desiredSize ?? 0));
  }

  /** Sends one JSON-RPC message. Returns false once the stream has ended. */
  send(message: unknown): boolean {
    return this.write(messageFrame(message));
  }

  /** Sends one event with string data. */
  event(data: string, event?: string): boolean {
    return this.write(frame(data, event));
  }

  /**
   * Writes raw text or bytes. A client that has more than the bound unread already is dropped; one
   * message larger than the bound is let through (what a server answers is bounded upstream).
   */
  write(chunk: string | Uint8Array): boolean {
    if (this._closed) return false;
    const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
    const queued = this.queuedBytes;
    if (queued > 0 && queued + bytes.byteLength > this.maxBufferedBytes) {
      this.end('overflow');
      return false;
    }
    try {
      this.controller.enqueue(bytes);
      return true;
    } catch {
      this.finish('cancelled');
      return false;
    }
  }

  /** Ends the stream; idempotent. Closing flushes what is queued, an overflow discards it. */
  end(reason: EndReason = 'closed'): void {
    if (this._closed) return;
    try {
      if (reason === 'overflow') this.controller.error(new Error('the client did not read its event stream'));
      else this.controller.close();
    } catch {
      // already cancelled by the client
    }
    this.finish(reason);
  }

  /** The streaming response, with the event-stream headers and any others given. */
  response(headers: Record<string, string> = {}, status = 200): Response {
    const response = new Response(this.readable, { status, headers: { ...EVENT_STREAM_HEADERS, ...headers } });
    streamed.add(response);
    return response;
  }

  private finish(reason: EndReason): void {
    if (this._closed) return;
    this._closed = true;
    clearInterval(this.timer);
    this.options.onend?.(reason);
  }
}
