import type { ClientCapabilities, Notification, Request, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Caller } from './caller.js';
import { CAPABILITY_FOR } from './constants.js';

/** Where the server->client requests tied to one forwarded request go: the client that sent it. */
export interface Peer {
  /** What the client declared it can answer (sampling, elicitation, roots). */
  capabilities(): ClientCapabilities | undefined;
  /** Sends a request to the client, on the stream of its own request where there is one. */
  request(request: Request, signal: AbortSignal): Promise<Result>;
  /** Delivers a notification that belongs to something this client started (a URL elicitation, a task). */
  notify?(notification: Notification): void;
}

/** One downstream request in flight to an upstream: who sent it, and the id the upstream knows it by. */
export interface Tie {
  readonly caller: Caller;
  readonly peer: Peer;
  /** The JSON-RPC id of the upstream request, once sent; what a Streamable HTTP server ties its requests to. */
  upstreamId: RequestId | undefined;
  release(): void;
}

/** How long a notification tie (a URL elicitation, a task) is kept for its completion. */
const NOTIFICATION_TIE_MS = 60 * 60 * 1000;
const MAX_NOTIFICATION_TIES = 10_000;

/**
 * Routes server->client requests (sampling, elicitation, roots) to the one client whose request
 * caused them, and never guesses. Where the wire says which request a server request belongs to (a
 * Streamable HTTP server sending it on the response stream of that request), that request's client
 * gets it. A stdio or legacy SSE server says nothing, so the tie is certain only while one client has
 * requests in flight to it; with several, the server's request is refused with an error that says to
 * give the server `isolation: "session"`, and with none it is refused too. A server instance of one
 * session's own (isolation) asks its session, in or outside a request.
 */
export class ServerRequestRouter {
  /** Weak: a server instance that is gone (a session's own, say) takes its empty set with it. */
  private readonly inFlight = new WeakMap<Upstream, Set<Tie>>();
  private readonly ties = new Map<string, { notify: (notification: Notification) => void; expires: number }>();

  /** @param ownerPeer the peer of the session that owns an isolated server instance, by caller id. */
  constructor(private readonly ownerPeer: (callerId: string) => Peer | undefined = () => undefined) {}

  /** Marks a downstream request as in flight to `upstream` until `release()`. */
  track(upstream: Upstream, caller: Caller, peer: Peer): Tie {
    let set = this.inFlight.get(upstream);
    if (!set) {
      set = new Set();
      this.inFlight.set(upstream, set);
    }
    const tie: Tie = {
      caller,
      peer,
      upstreamId: undefined,
      release: () => void set.delete(tie),
    };
    set.add(tie);
    return tie;
  }

  /**
   * Sends a server->client request to the client it belongs to. `related` is the id of the upstream
   * request the server tied it to on the wire, when the transport says.
   */
  async route(upstream: Upstream, request: Request, signal: AbortSignal, related?: RequestId): Promise<Result> {
    if (request.method === 'roots/list' && upstream.owner === undefined) {
      // A shared server's roots are its configured ones (answered by the upstream itself): one
      // client's roots would widen what the server may touch for every other client.
      throw new OrchError('CLIENT_REQUEST_REFUSED', `mcp-orch: server "${upstream.name}" asked for roots, and it has none configured`, {
        hint: `give "${upstream.name}" "roots": [...] in the config, or "isolation": "session" to ask each client for its own`,
      });
    }
    const peer = this.peerFor(upstream, request.method, related);
    const capability = CAPABILITY_FOR[request.method];
    if (capability !== undefined && !peer.capabilities()?.[capability]) {
      throw new OrchError(
        'CLIENT_REQUEST_REFUSED',
        `mcp-orch: server "${upstream.name}" sent ${request.method}, but the client did not declare the "${capability}" capability`,
      );
    }
    const params = (request.params ?? {}) as { mode?: unknown; elicitationId?: unknown };
    if (request.method === 'elicitation/create' && params.mode === 'url' && typeof params.elicitationId === 'string' && peer.notify) {
      this.tie(upstream, `elicitation:${params.elicitationId}`, peer.notify);
    }
    return peer.request(request, signal);
  }

  private peerFor(upstream: Upstream, method: string, related: RequestId | undefined): Peer {
    const inFlight = [...(this.inFlight.get(upstream) ?? [])];
    if (related !== undefined) {
      const tie = inFlight.find((candidate) => candidate.upstreamId === related);
      if (tie) return tie.peer;
    } else {
      const callers = new Set(inFlight.map((tie) => tie.caller.id));
      if (callers.size === 1) return inFlight.at(-1)!.peer;
      // Any callers left are several: one has returned above.
      if (callers.size > 0 && upstream.owner === undefined) {
        throw new OrchError(
          'CLIENT_REQUEST_REFUSED',
          `mcp-orch: server "${upstream.name}" sent ${method} while ${callers.size} clients had requests in flight to it, ` +
            'and it does not say which one it is for',
          { hint: `give "${upstream.name}" "isolation": "session" in the config, so that each client has an instance of its own` },
        );
      }
    }
    // Stryker disable next-line ConditionalExpression: the owner lookup is by session id, and no session has the id undefined
    const owner = upstream.owner === undefined ? undefined : this.ownerPeer(upstream.owner);
    if (owner) return owner;
    throw new OrchError('CLIENT_REQUEST_REFUSED', `mcp-orch: server "${upstream.name}" sent ${method} outside of any client request`, {
      hint: `a shared server may ask a client only while that client's request is in flight; give "${upstream.name}" "isolation": "session" for more`,
    });
  }

  /** Remembers which client a later notification of `upstream` under `key` belongs to. */
  tie(upstream: Upstream, key: string, notify: (notification: Notification) => void): void {
    const now = Date.now();
    for (const [old, entry] of this.ties) {
      if (entry.expires > now && this.ties.size < MAX_NOTIFICATION_TIES) break;
      this.ties.delete(old);
    }
    this.ties.set(`${upstream.name}\u0000${key}`, { notify, expires: now + NOTIFICATION_TIE_MS });
  }

  /** Delivers a notification to the client tied to `key`; false when none is. */
  deliver(upstream: Upstream, key: string, notification: Notification): boolean {
    const entry = this.ties.get(`${upstream.name}\u0000${key}`);
    if (!entry || entry.expires < Date.now()) return false;
    entry.notify(notification);
    return true;
  }
}
