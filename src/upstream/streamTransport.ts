import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const CR = 13;

/**
 * Output that is not JSON-RPC beyond this many bytes within one second is taken for a broken
 * stream, not a server's log lines: a chatty server writes kilobytes a second, not megabytes.
 */
export const STRAY_BYTES_PER_SECOND = 2 * 1024 * 1024;
const STRAY_WINDOW_MS = 1000;
/** What the transport tells its owner about a child's stdout beyond the messages themselves. */
export interface StdoutEvents {
  /** A line that is not a JSON-RPC message (a server logging to stdout): skipped, for the log. */
  onStray(line: string): void;
  /**
   * The stream cannot be trusted any more: a line broke off inside a message, or stray output came
   * faster than any log. `reason` says what was seen without quoting it (a broken message may hold
   * another client's data); `line` is the line that showed it, for the server's log. Nothing more
   * is read.
   */
  onCorrupt(reason: string, line: string): void;
}

export class StreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Keeps a character whose UTF-8 bytes are split across two chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  /** Text from the first undelivered line on; its last line may be incomplete. */
  private pending = '';
  /** Text after `pending` that holds no newline yet: kept apart, so that a large line is joined once. */
  private tail: string[] = [];
  private corked = false;
  private closed = false;
  private started = false;
  /** Set once onCorrupt was told: nothing more from this stream is delivered. */
  private corrupt = false;
  /** Stray output in the current one-second window. */
  private strayWindowStart = 0;
  private strayBytes = 0;
  private strayLines = 0;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly events: StdoutEvents,
    private readonly now: () => number = Date.now,
  ) {}

  /** Idempotent: the server/discover probe starts the transport before the client connects it. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('error', this.onStreamError);
    this.output.on('error', this.onStreamError);
  }

  private readonly onData = (chunk: Buffer): void => {
    // Stryker disable next-line ConditionalExpression: work saved only; drain delivers nothing once corrupt
    if (this.corrupt) return;
    const text = this.decoder.write(chunk);
    // Stryker disable next-line all: a chunk without a newline would end in pending all the same; the tail only saves re-joining a long line
    if (!text.includes('\n')) {
      this.tail.push(text);
      return;
    }
    this.pending += this.tail.join('') + text;
    this.tail = [];
    this.drain();
  };

  /**
   * Delivers every complete line at once. (Progress of a forwarded request is handled as it arrives,
   * by the request channel, so a response read in the same chunk cannot overtake it.)
   */
  private drain(): void {
    const text = this.pending;
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline !== -1 && !this.closed && !this.corrupt) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: at newline === start the char before is the previous newline (or none at 0), never CR
      const end = newline > start && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      const line = text.slice(start, end);
      start = newline + 1;
      newline = text.indexOf('\n', start);
      if (line.trim() !== '') this.receive(line);
    }
    // Stryker disable next-line all: once corrupt or closed nothing more is read, so what pending holds is never looked at
    this.pending = this.corrupt || this.closed ? '' : text.slice(start);
  }

  /**
   * A light envelope check instead of the SDK's full schema parse: the Protocol layer validates what
   * it dispatches, and skipping a second parse of every (possibly large) result keeps the hot path lean.
   */
  private receive(line: string): void {
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      if (brokenMessage(line)) {
        const reason =
          `wrote a line to stdout that breaks off inside a JSON-RPC message (${Buffer.byteLength(line)} bytes that open ` +
          'a message but are not valid JSON): a newline inside a message, or other output written into one';
        this.fail(reason, line);
      } else {
        this.stray(line);
      }
      return;
    }
    // A JSON number, string or boolean has no jsonrpc property; null has none to read.
    if ((message as { jsonrpc?: unknown } | null)?.jsonrpc !== '2.0') {
      this.stray(line);
      return;
    }
    this.onmessage?.(message as JSONRPCMessage);
  }

  /** A line that is no message: skipped, unless stray output has passed what any log writes in a second. */
  private stray(line: string): void {
    const now = this.now();
    if (now - this.strayWindowStart >= STRAY_WINDOW_MS) {
      this.strayWindowStart = now;
      this.strayBytes = 0;
      this.strayLines = 0;
    }
    this.strayBytes += Buffer.byteLength(line) + 1;
    this.strayLines++;
    if (this.strayBytes > STRAY_BYTES_PER_SECOND) {
      const megabytes = (this.strayBytes / (1024 * 1024)).toFixed(1);
      const reason =
        `wrote ${megabytes} MiB of output that is not JSON-RPC to stdout within a second (${this.strayLines} lines), ` +
        `more than the ${STRAY_BYTES_PER_SECOND / (1024 * 1024)} MiB a server may log there`;
      this.fail(reason, line);
      return;
    }
    this.events.onStray(line);
  }

  private fail(reason: string, line: string): void {
    this.corrupt = true;
    this.events.onCorrupt(reason, line);
  }

  private readonly onEnd = (): void => {
    void this.close();
  };

  private readonly onStreamError = (error: Error): void => {
    // EPIPE after the child died is expected; the exit path reports the cause.
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return;
    this.onerror?.(error);
  };

  /**
   * Writes are corked until the end of this turn of the event loop (setImmediate runs right after
   * the poll phase), so that the requests of every session whose HTTP request arrived in this turn
   * reach the child in one write instead of one syscall, and one wake-up of the child, each.
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed || this.output.destroyed) return Promise.reject(new Error('the server process is not running'));
    // Stryker disable next-line ConditionalExpression: corking again within a turn is counted and undone by as many uncorks in the same turn: still one write
    if (!this.corked) {
      // Stryker disable next-line BooleanLiteral: as above
      this.corked = true;
      this.output.cork();
      setImmediate(this.uncork);
    }
    return new Promise((resolve) => {
      if (this.output.write(serializeMessage(message))) resolve();
      else this.output.once('drain', resolve);
    });
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.output.uncork();
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.pending = '';
    this.tail = [];
    this.onclose?.();
  }
}

/**
 * Whether a line that does not parse was meant as a JSON-RPC message: it opens a JSON object (a
 * quoted key; a JavaScript object printed by console.log has bare keys) and names "jsonrpc". A log
 * line that merely quotes a message does not start like one, and one that parses is no break.
 */
function brokenMessage(line: string): boolean {
  return /^\s*\{\s*"/.test(line) && line.includes('"jsonrpc"');
}
