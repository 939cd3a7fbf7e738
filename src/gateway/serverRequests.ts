import {
  ErrorCode,
  McpError,
  ResultSchema,
  type ClientCapabilities,
  type Request,
  type Result,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Extra } from './forwarding.js';

/** The part of a downstream session this router needs. */
export interface RequestingSession {
  readonly id: string;
  clientCapabilities(): ClientCapabilities | undefined;
  sees(upstream: Upstream): boolean;
  /** Sends a request to this session's client outside of any request of its own. */
  request(request: Request, signal: AbortSignal): Promise<Result>;
}

interface InFlight {
  session: RequestingSession;
  extra: Extra;
}

/** The server->client requests of the 2025 protocol that need a client capability, and which. */
export const CAPABILITY_FOR: Readonly<Record<string, keyof ClientCapabilities>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

/** Sampling and elicitation can wait on a person; the upstream's own timeout is the real bound. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Routes server->client requests (sampling, elicitation, roots) from a shared upstream to the
 * downstream session whose request caused them. A stdio upstream does not say which of its
 * requests a sampling call belongs to, so the newest downstream request in flight to that upstream
 * is taken: exact when one client at a time is working with a server. With none in flight (roots
 * are often asked after a roots/list_changed), the newest session that can see the server answers.
 */
export class ServerRequestRouter {
  private readonly inFlight = new Map<string, InFlight[]>();
  private readonly sessions = new Set<RequestingSession>();

  addSession(session: RequestingSession): () => void {
    this.sessions.add(session);
    return () => this.sessions.delete(session);
  }

  /** Marks a downstream request as in flight to `upstream` until the returned function is called. */
  track(upstream: Upstream, session: RequestingSession, extra: Extra): () => void {
    const entry: InFlight = { session, extra };
    let list = this.inFlight.get(upstream.name);
    if (!list) {
      list = [];
      this.inFlight.set(upstream.name, list);
    }
    list.push(entry);
    return () => {
      const current = this.inFlight.get(upstream.name);
      if (!current) return;
      const index = current.indexOf(entry);
      if (index !== -1) current.splice(index, 1);
      if (current.length === 0) this.inFlight.delete(upstream.name);
    };
  }

  async route(upstream: Upstream, request: Request, signal: AbortSignal): Promise<Result> {
    const capability = CAPABILITY_FOR[request.method];
    const able = (session: RequestingSession): boolean => capability === undefined || Boolean(session.clientCapabilities()?.[capability]);

    const inFlight = this.inFlight.get(upstream.name) ?? [];
    const carrier = inFlight.at(-1);
    if (carrier) {
      if (!able(carrier.session)) throw missingCapability(request.method, capability, upstream);
      // Sent as part of the downstream request, so Streamable HTTP delivers it on that request's stream.
      return carrier.extra.sendRequest(request as ServerRequest, ResultSchema, { signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
    }
    const candidates = [...this.sessions].filter((session) => session.sees(upstream) && able(session));
    const session = candidates.at(-1);
    if (!session) {
      throw new McpError(
        ErrorCode.InvalidRequest,
        `mcp-orch: no connected client can answer ${request.method} for server "${upstream.name}"` +
          (capability ? ` (none declared the "${capability}" capability)` : ''),
      );
    }
    return session.request(request, signal);
  }
}

function missingCapability(method: string, capability: string | undefined, upstream: Upstream): McpError {
  return new McpError(
    ErrorCode.InvalidRequest,
    `mcp-orch: server "${upstream.name}" sent ${method}, but the client did not declare the "${capability ?? method}" capability`,
  );
}
