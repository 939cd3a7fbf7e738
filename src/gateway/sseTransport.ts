import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { EventStream, EventStreamOptions } from '../eventStream.js';
import { negotiatedVersion } from './limits.js';

/**
 * The legacy HTTP+SSE server transport (protocol 2024-11-05) on web-standard streams: GET opens an
 * event stream whose first `endpoint` event names the URL to POST messages to; replies travel back
 * as `message` events. The SDK's own SSE transport needs Node's ServerResponse; this one returns a
 * Response, so the gateway stays independent of the HTTP framework. The session ends with its stream.
 */
export class SseServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The revision initialize settled on (what decides whether JSON-RPC batches are allowed). */
  protocolVersion: string | undefined;
  private readonly stream: EventStream;

  /** `openStream` gives the session's one event stream (admitted by the gateway's quotas; may throw). */
  constructor(
    readonly sessionId: string,
    endpoint: string,
    openStream: (options: EventStreamOptions) => EventStream,
  ) {
    // Stryker disable next-line OptionalChaining: the stream is handed out only after the session connected, which sets onclose
    this.stream = openStream({ onend: () => this.onclose?.() });
    const separator = endpoint.includes('?') ? '&' : '?';
    this.stream.event(`${endpoint}${separator}sessionId=${sessionId}`, 'endpoint');
  }

  /** The streaming response for the GET; the endpoint event is its first chunk. */
  response(): Response {
    return this.stream.response();
  }

  /** Until the stream ends, and the session with it. */
  get streaming(): boolean {
    return !this.stream.closed;
  }

  async start(): Promise<void> {}

  /** Delivers the body of one POST (a message or a batch) to the session. */
  receive(body: JSONRPCMessage | JSONRPCMessage[]): void {
    for (const message of Array.isArray(body) ? body : [body]) {
      const { method, params } = message as { method?: unknown; params?: { protocolVersion?: unknown } };
      if (method === 'initialize' && typeof params?.protocolVersion === 'string') {
        this.protocolVersion = negotiatedVersion(params.protocolVersion);
      }
      // Stryker disable next-line OptionalChaining: messages arrive only after the session connected, which sets onmessage
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    // Stryker disable next-line StringLiteral: the message is logged at debug level, never sent to a client
    if (!this.stream.send(message)) throw new Error('SSE stream is closed');
  }

  async close(): Promise<void> {
    this.stream.end();
  }
}
