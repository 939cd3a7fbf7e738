import type { Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../auth/policy.js';

/**
 * How a client reaches the gateway: an MCP transport, a plain REST call (`POST /api/tools/{server}/{tool}`),
 * or a step of a batch task, run for the key that submitted it.
 */
export type TransportKind = 'streamable-http' | 'sse' | 'stdio' | 'websocket' | 'rest' | 'batch';

/** The transports that hold MCP sessions (a REST call or a batch step is one request, never a session). */
export type SessionTransport = Exclude<TransportKind, 'rest' | 'batch'>;

/**
 * The MCP revision a caller speaks: a 2025-11-25 session, a stateless 2026-07-28 request, or none
 * (a REST call, a batch step). Only a 2025 session outlives its request.
 */
export type CallerEra = '2025-11-25' | '2026-07-28' | null;

/**
 * Who sent a request, as plain data: what authorisation, audit, metrics and the routing of
 * server->client requests go by. A 2025-11-25 session is one caller for its whole life; each
 * 2026-07-28 request is a caller of its own, since the revision is stateless and two requests with
 * the same credentials may come from different people.
 */
export interface Caller {
  /** The session id (2025-11-25), or an id of this request alone (2026-07-28, REST). */
  readonly id: string;
  readonly era: CallerEra;
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
  return (
    a.project === b.project &&
    a.keyId === b.keyId &&
    // Stryker disable next-line ConditionalExpression: a key always has an id and the owner never has one, so the ids already tell them apart
    a.kind === b.kind
  );
}
