import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcErrorOf, OrchError } from '../errors.js';
import { kindOf } from '../upstream/messageKind.js';
import { negotiatedVersion } from './limits.js';

/** The sending side of a WebSocket, as the HTTP layer hands it over (the `ws` library's socket has it). */
export interface MessageSocket {
  /** Queues one text frame. */
  send(text: string): void;
  /** Bytes queued for the client and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Starts the closing handshake. */
  close(code: number, reason: string): void;
  /** Ends the connection at once, without a handshake: for a client that does not read. */
  terminate(): void;
}

/** A WebSocket session waiting for its upgrade (Gateway.openWebSocket): bound to the socket once upgraded, or let go. */
export interface WebSocketOpening {
  attach(socket: MessageSocket): WebSocketServerTransport;
  abandon(): void;
}

export interface WebSocketTransportOptions {
  /** Bytes a client may leave unread before its connection is dropped (orch.limits.streamBufferBytes). */
  maxBufferedBytes: number;
  /**
   * What a frame may not carry (a batch too long or not allowed, more requests than may be in flight
   * with the `inFlight` ones): the refusal, or undefined.
   */
  screen?: (body: unknown, inFlight: number) => OrchError | undefined;
  /** Told when the client stopped reading and its connection was dropped. */
  onOverflow?: () => void;
}

/**
 * MCP over WebSocket as the SDK's WebSocketClientTransport speaks it (subprotocol `mcp`): one
 * JSON-RPC message per text frame, each way; one session per connection, which ends with the
 * socket. The HTTP layer delivers frames with `receive` and the socket's end with `closed`; this
 * side never sees the WebSocket library, so the gateway stays independent of it.
 */
export class WebSocketServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The revision initialize settled on (what decides whether JSON-RPC batches are allowed). */
  protocolVersion: string | undefined;
  private ended = false;
  /**
   * Ids of the client's requests not answered yet. Counted here rather than by the session, which
   * hears of a request a microtask later: many frames may arrive in one read of the socket.
   */
  private readonly pending = new Set<string>();

  constructor(
    readonly sessionId: string,
    private readonly socket: MessageSocket,
    private readonly options: WebSocketTransportOptions,
  ) {}

  /**
   * An open socket holds its session through the idle sweep, as an open event stream does: the
   * session ends with the socket, and the heartbeat drops a client that vanished.
   */
  get streaming(): boolean {
    return !this.ended;
  }

  async start(): Promise<void> {}

  /** One text frame from the client: a JSON-RPC message, or a batch where the protocol revision allows them. */
  receive(text: string): void {
    if (this.ended) return;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      this.reply(
        null,
        new OrchError('PARSE_ERROR', `Parse error: ${(error as Error).message}`, { hint: 'send one JSON-RPC message per text frame' }),
      );
      return;
    }
    const messages = Array.isArray(body) ? body : [body];
    if (messages.length === 0 || !messages.every((message) => kindOf(message) !== undefined)) {
      this.reply(idOf(body), new OrchError('BAD_REQUEST', 'Invalid Request: not a JSON-RPC 2.0 message'));
      return;
    }
    const refused = this.options.screen?.(body, this.pending.size);
    if (refused) {
      for (const message of messages) if (kindOf(message) === 'request') this.reply(idOf(message), refused);
      return;
    }
    for (const message of messages as JSONRPCMessage[]) {
      const { id, method, params } = message as { id?: unknown; method?: unknown; params?: Record<string, unknown> };
      const kind = kindOf(message);
      if (kind === 'request') {
        if (this.pending.has(keyOf(id))) {
          this.reply(
            idOf(message),
            new OrchError('BAD_REQUEST', `Invalid Request: id ${JSON.stringify(id)} belongs to a request in flight`),
          );
          continue;
        }
        this.pending.add(keyOf(id));
      } else if (method === 'notifications/cancelled') {
        // A cancelled request gets no answer.
        this.pending.delete(keyOf(params?.requestId));
      }
      if (method === 'initialize' && typeof params?.protocolVersion === 'string') {
        this.protocolVersion = negotiatedVersion(params.protocolVersion);
      }
      this.onmessage?.(message);
    }
  }

  /** The socket is gone (closed by either side, or dropped): the session ends. */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.onclose?.();
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.ended) throw new Error('the WebSocket is closed');
    if ('id' in message && ('result' in message || 'error' in message)) this.pending.delete(keyOf(message.id));
    if (!this.write(JSON.stringify(message))) {
      throw new Error(`the client left more than ${this.options.maxBufferedBytes} bytes unread; its connection was dropped`);
    }
  }

  /** Queues a frame, unless the client left too much unread: then it is dropped, and false. */
  private write(text: string): boolean {
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      // A client that does not read would not read a close frame either.
      this.options.onOverflow?.();
      this.socket.terminate();
      this.closed();
      return false;
    }
    this.socket.send(text);
    return true;
  }

  async close(): Promise<void> {
    if (this.ended) return;
    this.socket.close(1000, 'session closed');
    this.closed();
  }

  /** An error answer sent by the transport itself, before any session handler sees the frame. */
  private reply(id: string | number | null, error: OrchError): void {
    this.write(JSON.stringify({ jsonrpc: '2.0', id, error: jsonRpcErrorOf(error) }));
  }
}

/** A request id as a key: 1 and "1" are different ids. */
function keyOf(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}

function idOf(message: unknown): string | number | null {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}
