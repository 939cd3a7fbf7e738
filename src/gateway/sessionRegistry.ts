import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Access } from '../auth/access.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Upstream } from '../upstream/upstream.js';
import { samePrincipal, type Connection, type SessionTransport } from './caller.js';
import { LIST_CHANGED } from './constants.js';
import type { RequestObserver } from './forward.js';
import { allowsBatches } from './limits.js';
import type { Peer } from './serverRequests.js';
import type { GatewaySession } from './session.js';
import type { ViewSpec } from './view.js';

/** One open 2025-11-25 session, its transport, and when its client last sent anything. */
export interface OpenSession {
  session: GatewaySession;
  transport: Transport & {
    protocolVersion?: string | undefined;
    /** An event stream of the session's own is open to its client: its GET stream, or a legacy SSE session's one. */
    readonly streaming?: boolean;
  };
  lastSeen: number;
}

export interface SessionRegistryOptions {
  log: Logger;
  access: Access;
  observers: readonly RequestObserver[];
  /** Requests a session may have in flight (orch.limits.inFlight). */
  maxInFlight: number;
}

/**
 * The open sessions: who opened them (a session stays its key's), what each may be sent (batches,
 * requests in flight), and their end: idle, a key that stopped working, or the gateway closing.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, OpenSession>();

  constructor(private readonly options: SessionRegistryOptions) {}

  add(session: GatewaySession, transport: OpenSession['transport'], release: () => void = () => undefined): OpenSession {
    const open: OpenSession = { session, transport, lastSeen: Date.now() };
    this.sessions.set(session.id, open);
    for (const observer of this.options.observers) observer.sessionOpened?.(session.caller);
    session.onclose = () => {
      this.sessions.delete(session.id);
      release();
      for (const observer of this.options.observers) observer.sessionClosed?.(session.caller);
      // Stryker disable next-line ObjectLiteral,StringLiteral: a debug log's fields and wording; nothing depends on them
      this.options.log.debug({ session: session.id }, 'session closed');
    };
    return open;
  }

  /** The session `id` names, if it belongs to an endpoint of `spec`. */
  get(id: string, spec: ViewSpec): OpenSession | undefined {
    const open = this.sessions.get(id);
    return open?.session.view.matches(spec) ? open : undefined;
  }

  /** A session as a peer outside any request of its own (what its own server instances ask). */
  peer(id: string): Peer | undefined {
    return this.sessions.get(id)?.session.peer;
  }

  /** The session owning an isolated instance. */
  owner(upstream: Upstream): GatewaySession | undefined {
    // Stryker disable next-line ConditionalExpression: looking up an undefined owner finds no session either; the check spares the lookup
    return upstream.owner === undefined ? undefined : this.sessions.get(upstream.owner)?.session;
  }

  /** Every open session that `upstream`'s notifications are for. */
  *seeing(upstream: Upstream): Iterable<GatewaySession> {
    for (const { session } of this.sessions.values()) if (session.sees(upstream)) yield session;
  }

  *all(): Iterable<GatewaySession> {
    for (const { session } of this.sessions.values()) yield session;
  }

  /**
   * Why a request to an open session is refused, if it is: another key than the one that opened it,
   * or a body over its limits (overLimit; a GET or DELETE has none). A request let through refreshes
   * the session's principal (a changed role counts at once).
   */
  refuse(open: OpenSession, connection: Connection, body: unknown): OrchError | undefined {
    if (!samePrincipal(open.session.principal, connection.principal)) {
      return new OrchError('FORBIDDEN', 'this session was opened with another key', {
        hint: 'use the key that opened it, or send initialize again without Mcp-Session-Id',
      });
    }
    open.lastSeen = Date.now();
    open.session.principal = connection.principal;
    return this.overLimit(open, body);
  }

  /**
   * What a message to a session may not carry: a batch on a revision that dropped batches, or more
   * requests than the session may have in flight; `inFlight` as its transport counts them when it
   * counts its own (a WebSocket's burst arrives before the session sees any of it).
   */
  overLimit(open: OpenSession, body: unknown, inFlight = open.session.inFlight): OrchError | undefined {
    const version = open.transport.protocolVersion;
    if (Array.isArray(body) && !allowsBatches(version)) {
      return new OrchError('BAD_REQUEST', `Invalid Request: JSON-RPC batches are not part of protocol ${version}`, {
        hint: 'send each message in a request of its own',
      });
    }
    const max = this.options.maxInFlight;
    if (inFlight + requestsIn(body) > max) {
      return new OrchError('RATE_LIMITED', `too many requests in flight on this session: ${max} at most`, {
        hint: 'wait for answers before sending more, or raise orch.limits.inFlight',
        retryAfterSec: 1,
        data: { limit: 'inFlight', max },
      });
    }
    return undefined;
  }

  /**
   * Closes HTTP sessions whose client sent nothing since `cutoff` (a client that vanished without
   * DELETE). A session with a request in flight, an event stream or a WebSocket open is held, and
   * counts as seen: its idle time starts when the last of them ends, so that a client whose stream
   * broke may open another. Such a stream is bounded as every stream is (orch.limits.streams, and dropped once its
   * client leaves streamBufferBytes unread or its connection fails).
   */
  closeIdle(cutoff: number): void {
    const now = Date.now();
    for (const open of this.sessions.values()) {
      if (open.session.transportKind === 'stdio') continue;
      if (open.session.inFlight > 0 || open.transport.streaming === true) open.lastSeen = now;
      if (open.lastSeen > cutoff) continue;
      // Stryker disable next-line ObjectLiteral,StringLiteral: a log's fields and wording; the closing itself is tested
      this.options.log.info({ session: open.session.id, endpoint: open.session.view.label }, 'closing idle session');
      void open.session.close();
    }
  }

  /**
   * Projects, members or keys changed: a session whose key stopped working is closed, the others
   * take their principal as it is now, and every client hears that its lists may have changed (a
   * server turned on or off, a key narrowed).
   */
  accessChanged(): void {
    for (const { session } of this.sessions.values()) {
      const principal = this.options.access.refresh(session.principal);
      if (!principal) {
        // Stryker disable next-line ObjectLiteral,StringLiteral: a log's fields and wording; the closing itself is tested
        this.options.log.info({ session: session.id, key: session.principal.keyPrefix }, 'closing a session whose key no longer works');
        void session.close();
        continue;
      }
      session.principal = principal;
      for (const method of new Set(Object.values(LIST_CHANGED))) session.notify({ method });
    }
  }

  /** Open sessions by transport, for status and metrics. */
  counts(): Record<SessionTransport, number> {
    const counts: Record<SessionTransport, number> = { 'streamable-http': 0, sse: 0, stdio: 0, websocket: 0 };
    for (const { session } of this.sessions.values()) counts[session.transportKind]++;
    return counts;
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map(({ session }) => session.close()));
  }
}

/** What a JSON-RPC body asks of a session: how many requests it carries. */
function requestsIn(body: unknown): number {
  const messages = Array.isArray(body) ? body : [body];
  return messages.filter((m) => m && typeof m === 'object' && 'method' in m && 'id' in m).length;
}
