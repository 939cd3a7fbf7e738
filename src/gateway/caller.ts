import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/policy.js';

/** How a client reaches the gateway; `batch` is a step of a batch task, run for the key that submitted it. */
export type TransportKind = 'streamable-http' | 'sse' | 'stdio' | 'websocket' | 'batch';

/** The transports that hold sessions. */
export type SessionTransport = Exclude<TransportKind, 'batch'>;

/**
 * Who sent a request, as plain data: what authorisation, audit, metrics and the routing of
 * server->client requests go by. A 2025-11-25 session is one caller for its whole life; each
 * 2026-07-28 request is a caller of its own, since the revision is stateless and two requests with
 * the same credentials may come from different people.
 */
export interface Caller {
  /** The session id (2025-11-25), or an id of this request alone (2026-07-28). */
  readonly id: string;
  readonly era: '2025-11-25' | '2026-07-28';
  readonly transport: TransportKind;
  /** The endpoint's label: a server's name, or "unified". */
  readonly endpoint: string;
  /** The client's network address, when it came over HTTP. */
  readonly address?: string | undefined;
  /** What the client said it is (initialize, or the request's envelope). */
  readonly client?: Implementation | undefined;
  /** Who, as authentication found them: the project, member and key the request goes by. */
  readonly principal: Principal;
  /** The batch task a request is a step of. */
  readonly task?: string | undefined;
}

/** Everything the gateway knows about the connection a request arrived on, from the HTTP layer. */
export interface Connection {
  /** The client's network address. */
  address?: string | undefined;
  /** Who sent the request, as authentication found them. */
  principal: Principal;
}

/** Whether two principals are the same key (or the same owner of the data dir) in the same project. */
export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.kind === b.kind && a.project === b.project && a.keyId === b.keyId;
}
