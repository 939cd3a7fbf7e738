import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, Progress, Request, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import { stripSdkPrefix, WireError } from '../errors.js';

/** The connection under the requests went away. */
export class ChannelClosedError extends Error {}

/**
 * The connection went away before this request reached the server, which never saw it (a remote
 * server that restarted answered 404 to the session): it may be sent again on a new connection.
 */
export class ChannelUndeliveredError extends ChannelClosedError {}

/** The server did not answer within the timeout (extended while progress arrives). */
export class ChannelTimeoutError extends Error {}

/** The request could not be delivered: the transport failed (a remote server that cannot be reached). */
export class ChannelSendError extends Error {}

export interface ChannelRequestOptions {
  signal?: AbortSignal | undefined;
  onprogress?: ((progress: Progress) => void) | undefined;
  /** No answer (and no progress) for this long cancels the request. */
  timeoutMs: number;
  /** Told the request's JSON-RPC id as it is sent, before any answer can arrive. */
  onSent?: ((id: RequestId) => void) | undefined;
}

interface Pending {
  resolve(result: Result): void;
  reject(error: Error): void;
  onprogress: ((progress: Progress) => void) | undefined;
  arm(): void;
  done(): void;
}

/** Ids of the channel's requests; the SDK Client beside it numbers its own from 0. */
const PREFIX = 'o';

/**
 * The gateway's own requests to one server, sent on the transport the SDK Client was connected on,
 * beside it: ids of its own, progress relayed, cancellation sent as notifications/cancelled, a
 * timeout reset by progress. Results are passed on as the server wrote them, unparsed. The SDK
 * Client keeps what a session needs (initialize, ping, the server's requests and notifications);
 * every forwarded request takes this path, which costs a map entry and a timer per request.
 */
export class RequestChannel {
  private next = 0;
  /** Keyed by the ids the channel gives (strings); looked up by any id or token a message carries, which finds nothing unless it is one. */
  private readonly pending = new Map<unknown, Pending>();
  private closed: Error | undefined;

  constructor(private readonly transport: Transport) {}

  request(request: Pick<Request, 'method' | 'params'>, options: ChannelRequestOptions): Promise<Result> {
    if (this.closed) return Promise.reject(this.closed);
    if (options.signal?.aborted) return Promise.reject(abortReason(options.signal));
    const id = `${PREFIX}${++this.next}`;
    const params = options.onprogress ? { ...request.params, _meta: { ...request.params?._meta, progressToken: id } } : request.params;
    return new Promise<Result>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        pending.done();
        reject(abortReason(options.signal!));
        this.transport
          .send({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: String(abortReason(options.signal!).message) },
          })
          .catch(() => undefined);
      };
      const pending: Pending = {
        resolve,
        reject,
        onprogress: options.onprogress,
        arm: () => {
          clearTimeout(timer);
          timer = setTimeout(() => {
            pending.done();
            reject(new ChannelTimeoutError(`no answer within ${options.timeoutMs} ms`));
            this.transport
              .send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'timed out' } })
              .catch(() => undefined);
          }, options.timeoutMs);
        },
        done: () => {
          clearTimeout(timer);
          this.pending.delete(id);
          options.signal?.removeEventListener('abort', onAbort);
        },
      };
      this.pending.set(id, pending);
      pending.arm();
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once, and done() removes the listener anyway
      options.signal?.addEventListener('abort', onAbort, { once: true });
      options.onSent?.(id);
      const message = { jsonrpc: '2.0', id, method: request.method, ...(params === undefined ? {} : { params }) } as JSONRPCMessage;
      this.transport.send(message).catch((error: unknown) => {
        pending.done();
        reject(new ChannelSendError(error instanceof Error ? error.message : String(error), { cause: error }));
      });
    });
  }

  /** Takes an inbound message that is an answer to (or progress of) one of the channel's requests. */
  accept(message: JSONRPCMessage): boolean {
    const m = message as { id?: unknown; method?: unknown; params?: { progressToken?: unknown }; result?: Result; error?: unknown };
    if (m.method === 'notifications/progress') {
      const pending = this.pending.get(m.params?.progressToken);
      if (!pending) return false;
      pending.arm();
      const { progressToken: _token, ...progress } = m.params as Progress & { progressToken: unknown };
      pending.onprogress?.(progress as Progress);
      return true;
    }
    if (m.method !== undefined) return false;
    const pending = this.pending.get(m.id);
    if (!pending) return false;
    pending.done();
    if (m.error !== undefined) {
      const error = (m.error ?? {}) as { code?: unknown; message?: unknown; data?: unknown };
      // A server built on the SDK prefixes its own errors' messages ("MCP error -32600: ..."); the
      // client's SDK adds the prefix again, so it goes on without one.
      const message = stripSdkPrefix(String(error.message ?? 'error'));
      pending.reject(new WireError(typeof error.code === 'number' ? error.code : -32603, message, error.data));
    } else {
      pending.resolve(m.result ?? {});
    }
    return true;
  }

  /** Fails every request in flight and every later one; idempotent. `undelivered` is the id of a request the server never saw. */
  close(reason = 'connection closed', undelivered?: string): void {
    this.closed ??= new ChannelClosedError(reason);
    for (const [id, pending] of [...this.pending]) {
      pending.done();
      pending.reject(id === undelivered ? new ChannelUndeliveredError(reason) : this.closed);
    }
  }

  get size(): number {
    return this.pending.size;
  }
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  // Stryker disable next-line StringLiteral: defensive; an aborted signal always has a reason (abort() gives an AbortError)
  return reason instanceof Error ? reason : new Error(String(reason ?? 'aborted'));
}
