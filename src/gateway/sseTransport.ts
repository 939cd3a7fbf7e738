import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const encoder = new TextEncoder();
const KEEPALIVE_MS = 25_000;

/**
 * The legacy HTTP+SSE server transport (protocol 2024-11-05) on web-standard streams: GET opens an
 * event stream whose first `endpoint` event names the URL to POST messages to; replies travel back
 * as `message` events. The SDK's own SSE transport needs Node's ServerResponse; this one returns a
 * Response, so the gateway stays independent of the HTTP framework.
 */
export class SseServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly sessionId: string,
    private readonly endpoint: string,
  ) {}

  /** The streaming response for the GET; the endpoint event is its first chunk. */
  response(): Response {
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
        const separator = this.endpoint.includes('?') ? '&' : '?';
        controller.enqueue(encoder.encode(`event: endpoint\ndata: ${this.endpoint}${separator}sessionId=${this.sessionId}\n\n`));
        // Proxies drop idle connections; a comment line every 25 s keeps the stream open.
        this.keepalive = setInterval(() => this.write(': keepalive\n\n'), KEEPALIVE_MS);
        this.keepalive.unref();
      },
      cancel: () => {
        void this.close();
      },
    });
    return new Response(stream, {
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      },
    });
  }

  async start(): Promise<void> {}

  /** Delivers the body of one POST (a message or a batch) to the session. */
  receive(body: JSONRPCMessage | JSONRPCMessage[]): void {
    for (const message of Array.isArray(body) ? body : [body]) this.onmessage?.(message);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('SSE stream is closed');
    this.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  private write(text: string): void {
    if (this.closed || !this.controller) return;
    try {
      this.controller.enqueue(encoder.encode(text));
    } catch {
      void this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepalive);
    try {
      this.controller?.close();
    } catch {
      // already closed by the client going away
    }
    this.onclose?.();
  }
}
