import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, Request as McpRequest, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import { OrchError } from '../errors.js';
import type { Access } from '../auth/access.js';
import type { Principal } from '../auth/policy.js';
import type { Logger } from '../log.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { ResponseCache } from './cache.js';
import type { Connection, SessionTransport } from './caller.js';
import { Forwarder, type RequestObserver } from './forward.js';
import type { OwnTools } from './ownTools.js';
import { Quotas, type Limits } from './limits.js';
import { LogLevelRegistry } from './logLevels.js';
import { classifyEra } from './modern/classify.js';
import { ModernFront } from './modern/front.js';
import { ListenStreams } from './modern/listen.js';
import { RequestStateCodec } from './modern/requestState.js';
import { errorResponse, requestIdOf } from './responses.js';
import { RestCalls } from './rest.js';
import { routePoolEvents } from './poolEvents.js';
import { ServerRequestRouter } from './serverRequests.js';
import { SessionRegistry } from './sessionRegistry.js';
import { GatewaySession, type SessionDeps } from './session.js';
import { SseServerTransport } from './sseTransport.js';
import { StreamableHttpServerTransport } from './streamableTransport.js';
import { SubscriptionRegistry } from './subscriptions.js';
import { WebSocketServerTransport, type WebSocketOpening } from './wsTransport.js';
import { createView, unknownServer, type View, type ViewSpec } from './view.js';

export interface GatewayOptions {
  pool: UpstreamPool;
  logger: Logger;
  separator: string;
  version: string;
  /** Told of every finished request (metrics; next, the audit). */
  observers?: RequestObserver[];
  /** HTTP sessions without a request for this long are closed (clients that vanished without DELETE). */
  sessionIdleMs?: number;
  /**
   * The daemon's data dir: the key that signs requestState (input_required results issued for 2025
   * servers to 2026 clients) is kept in `<dataDir>/request-state.key`, created 0600 when missing,
   * so that the daemon signs with the same key after a restart. Without it the key is random per
   * process.
   */
  dataDir?: string;
  /** How long such a requestState is valid, and the server's request waits for the client's answers. Default 5 minutes. */
  requestStateTtlMs?: number;
  /** What clients may make the gateway hold (orch.limits). */
  limits: Limits;
  /** Who may do what: every request is checked against it on the one forwarding path. */
  access: Access;
  /** Tools the gateway answers itself on the unified endpoint. */
  ownTools?: OwnTools;
  /** Tools definition pinning withholds (changed since approved), with why; none when absent. */
  held?: (server: string, tool: string) => string | undefined;
  /** Bytes of answers the response cache keeps at most (orch.cache.maxMb); servers opt in with `cache`. */
  cacheMaxBytes: number;
}

const DEFAULT_REQUEST_STATE_TTL_MS = 5 * 60 * 1000;

/**
 * The downstream side: MCP sessions over Streamable HTTP, legacy SSE and stdio (2025-11-25) and
 * stateless 2026-07-28 requests, each on a view (one server or all of them), all taking one
 * forwarding path to the shared upstream pool. Speaks web-standard Request/Response, so any HTTP
 * framework can front it.
 */
export class Gateway {
  readonly subscriptions = new SubscriptionRegistry();
  readonly logLevels = new LogLevelRegistry();
  readonly router: ServerRequestRouter;
  readonly quotas: Quotas;
  /** The one forwarding path, for requests that come from no client session (batch steps). */
  readonly forwarder: Forwarder;
  readonly cache: ResponseCache;
  private readonly sessions: SessionRegistry;
  private unified: View | undefined;
  /** By server name. */
  private readonly serverViews = new Map<string, View>();
  private readonly deps: SessionDeps;
  private readonly log: Logger;
  private readonly detachPool: () => void;
  private readonly detachAccess: () => void;
  private readonly sweeper: NodeJS.Timeout | undefined;
  private readonly listen: ListenStreams;
  /** Answers 2026-07-28 (stateless) requests; 2025 ones keep the sessions below. */
  private readonly modern: ModernFront;
  /** Tools called over REST, on the same forwarding path. */
  private readonly rest: RestCalls;

  constructor(private readonly options: GatewayOptions) {
    // Stryker disable next-line ObjectLiteral,StringLiteral: a field of the gateway's log lines; no behaviour depends on it
    this.log = options.logger.child({ component: 'gateway' });
    this.quotas = new Quotas(options.limits, this.log);
    this.sessions = new SessionRegistry({
      log: this.log,
      access: options.access,
      // Stryker disable next-line ArrayDeclaration: the registry calls only an observer's optional session hooks, so an element without them is passed over as none
      observers: options.observers ?? [],
      maxInFlight: options.limits.inFlight,
    });
    // Stryker disable next-line ArrowFunction: static (made as each test file's daemon starts in beforeAll); killed by session.test.ts "tells only the session's own server instances that its roots changed", checked by hand
    this.router = new ServerRequestRouter((id) => this.sessions.peer(id));
    this.cache = new ResponseCache(options.pool, options.cacheMaxBytes);
    const forwarder = new Forwarder({
      cache: this.cache,
      router: this.router,
      access: options.access,
      subscriptions: this.subscriptions,
      logLevels: this.logLevels,
      observers: options.observers ?? [],
      ...(options.ownTools ? { ownTools: options.ownTools } : {}),
    });
    this.forwarder = forwarder;
    this.deps = {
      logger: this.log,
      forwarder,
      subscriptions: this.subscriptions,
      logLevels: this.logLevels,
      validator: new AjvJsonSchemaValidator(),
    };
    this.detachPool = routePoolEvents({
      pool: options.pool,
      sessions: this.sessions,
      subscriptions: this.subscriptions,
      logLevels: this.logLevels,
      router: this.router,
      log: this.log,
    });
    this.listen = new ListenStreams({
      pool: options.pool,
      openStream: (address, streamOptions) => this.quotas.openStream(address, streamOptions),
    });
    this.modern = new ModernFront({
      forwarder,
      quotas: this.quotas,
      listen: this.listen,
      logger: this.log,
      version: options.version,
      codec: RequestStateCodec.forDataDir(options.dataDir, this.log),
      requestStateTtlMs: options.requestStateTtlMs ?? DEFAULT_REQUEST_STATE_TTL_MS,
    });
    this.rest = new RestCalls({ forwarder, validator: this.deps.validator, viewFor: (spec) => this.viewFor(spec) });
    this.detachAccess = options.access.onChange(() => {
      this.sessions.accessChanged();
      this.listen.accessChanged((principal) => options.access.refresh(principal));
    });
    const idleMs = options.sessionIdleMs ?? 0;
    if (idleMs > 0) {
      // Stryker disable next-line MethodExpression: sweeping more often closes each session no earlier than its idle time, only nearer to it; the floor bounds the sweeps' cost
      const halfIdle = Math.max(1000, idleMs / 2);
      this.sweeper = setInterval(() => this.closeIdle(idleMs), Math.min(60_000, halfIdle));
      this.sweeper.unref();
    }
  }

  /**
   * The view of an endpoint; an unknown server is refused here, from the path, before anything in
   * the body is looked at. Views are kept, so that the unified one's tables are built once per change
   * and a server's lists shaped once.
   */
  viewFor(spec: ViewSpec): View {
    if (spec.kind === 'unified') return (this.unified ??= this.newView(spec));
    // Asked on every request, not only when the view is made: a server removed from the pool is refused again.
    if (!this.options.pool.get(spec.server)) throw unknownServer(spec.server, this.options.pool.names());
    const view = this.serverViews.get(spec.server) ?? this.newView(spec);
    this.serverViews.set(spec.server, view);
    return view;
  }

  private newView(spec: ViewSpec): View {
    return createView(spec, this.options.pool, { separator: this.options.separator, held: this.options.held });
  }

  /** Closes idle sessions, and ends listen streams as old: a client that still listens opens a new one. */
  private closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    this.sessions.closeIdle(cutoff);
    this.listen.sweep(cutoff);
  }

  /** Open sessions by transport, for status and metrics. */
  sessionCounts(): Record<SessionTransport, number> {
    return this.sessions.counts();
  }

  /** Routes the server->client requests of an upstream; wired into each Upstream by the daemon. */
  routeServerRequest = (upstream: Upstream, request: McpRequest, signal: AbortSignal, related?: RequestId): Promise<Result> =>
    this.router.route(upstream, request, signal, related);

  /**
   * Creates a session on a view once its servers are ready, with the capabilities they offer. A
   * server the principal may not reach is refused here (403), before anything is started for it.
   */
  private async openSession(view: View, transportKind: SessionTransport, connection: Connection): Promise<GatewaySession> {
    // The unified view (no server) is listed to every role of the principal's project.
    this.options.access.check(connection.principal, view.server, 'tools/list');
    const { capabilities, serverInfo, instructions } = await view.describe(this.options.version);
    return new GatewaySession({ view, transportKind, connection, capabilities, serverInfo, instructions }, this.deps);
  }

  /** One Streamable HTTP request (POST, GET or DELETE) on an endpoint of `spec`; `body` is a POST's JSON, undefined otherwise. */
  async streamable(request: Request, spec: ViewSpec, body: unknown, connection: Connection): Promise<Response> {
    let view: View;
    try {
      view = this.viewFor(spec);
      this.quotas.checkBatch(body);
    } catch (error) {
      return errorResponse(error, requestIdOf(body));
    }
    const era = classifyEra({ method: request.method, header: (name) => request.headers.get(name), body });
    if (era === 'modern') return this.modern.handle(request, view, body, connection);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const open = this.sessions.get(sessionId, spec);
      if (!(open?.transport instanceof StreamableHttpServerTransport)) {
        return errorResponse(
          new OrchError('UNKNOWN_SESSION', `unknown session "${sessionId}"`, {
            hint: 'the session ended or belongs to another endpoint; send initialize again without Mcp-Session-Id',
          }),
          requestIdOf(body),
        );
      }
      const refused = this.sessions.refuse(open, connection, body);
      if (refused) return errorResponse(refused, requestIdOf(body));
      return open.transport.handleRequest(request, { parsedBody: body });
    }
    if (!isInitialize(body)) {
      return errorResponse(
        new OrchError('MISSING_SESSION', 'Bad Request: Mcp-Session-Id header is required', {
          hint: 'start with an initialize request; its response carries the session id',
        }),
        requestIdOf(body),
      );
    }
    let session: GatewaySession;
    let release: () => void;
    try {
      release = this.quotas.admitSession(connection.address);
    } catch (error) {
      return errorResponse(error, requestIdOf(body));
    }
    try {
      session = await this.openSession(view, 'streamable-http', connection);
    } catch (error) {
      release();
      return errorResponse(error, requestIdOf(body));
    }
    const transport = new StreamableHttpServerTransport({
      sessionIdGenerator: () => session.id,
      openStream: (streamOptions) => this.quotas.openStream(connection.address, streamOptions),
    });
    this.sessions.add(session, transport, release);
    await session.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody: body });
    // A rejected initialize (bad Accept header, bad version) never becomes a session.
    if (!transport.sessionId) await session.close();
    return response;
  }

  /** GET on a legacy SSE endpoint: a new session whose messages are POSTed to `messagesPath`. */
  async sseConnect(spec: ViewSpec, messagesPath: string, connection: Connection): Promise<Response> {
    let session: GatewaySession;
    let transport: SseServerTransport;
    let release: () => void = () => undefined;
    try {
      const view = this.viewFor(spec);
      release = this.quotas.admitSession(connection.address);
      session = await this.openSession(view, 'sse', connection);
      transport = new SseServerTransport(session.id, messagesPath, (streamOptions) =>
        this.quotas.openStream(connection.address, streamOptions),
      );
    } catch (error) {
      release();
      return errorResponse(error);
    }
    this.sessions.add(session, transport, release);
    const response = transport.response();
    await session.connect(transport);
    return response;
  }

  /** POST of a message to a legacy SSE session. */
  sseMessage(sessionId: string | undefined, spec: ViewSpec, body: unknown, connection: Connection): Response {
    try {
      this.viewFor(spec);
      this.quotas.checkBatch(body);
    } catch (error) {
      return errorResponse(error, requestIdOf(body));
    }
    const open = sessionId ? this.sessions.get(sessionId, spec) : undefined;
    if (!(open?.transport instanceof SseServerTransport)) {
      const error = sessionId
        ? new OrchError('UNKNOWN_SESSION', `unknown session "${sessionId}"`, { hint: 'open a new stream with GET on the /sse endpoint' })
        : new OrchError('MISSING_SESSION', 'the sessionId query parameter is required', {
            hint: 'POST to the URL given by the endpoint event of the SSE stream',
          });
      return errorResponse(error, requestIdOf(body));
    }
    const refused = this.sessions.refuse(open, connection, body);
    if (refused) return errorResponse(refused, requestIdOf(body));
    open.transport.receive(body as JSONRPCMessage | JSONRPCMessage[]);
    return new Response('Accepted', { status: 202 });
  }

  /**
   * A WebSocket session on an endpoint of `spec`, one per connection: refused (unknown server, no
   * access, quota) or opened before the HTTP layer completes the upgrade, so that a refusal is still
   * an HTTP answer. `attach` binds it to the socket once upgraded; `abandon` lets go if the upgrade failed.
   */
  async openWebSocket(spec: ViewSpec, connection: Connection): Promise<WebSocketOpening> {
    const view = this.viewFor(spec);
    const release = this.quotas.admitSession(connection.address);
    let session: GatewaySession;
    try {
      session = await this.openSession(view, 'websocket', connection);
    } catch (error) {
      release();
      throw error;
    }
    return {
      abandon: release,
      attach: (socket) => {
        const { streamBufferBytes } = this.options.limits;
        const transport: WebSocketServerTransport = new WebSocketServerTransport(session.id, socket, {
          maxBufferedBytes: streamBufferBytes,
          screen: (body, inFlight) => this.quotas.batchRefusal(body) ?? this.sessions.overLimit(open, body, inFlight),
          // Stryker disable ArrowFunction,ObjectLiteral,StringLiteral: a warning's fields and wording; dropping the socket is the transport's, tested there
          onOverflow: () =>
            this.log.warn(
              { client: connection.address, maxBufferedBytes: streamBufferBytes },
              'dropped a WebSocket whose client stopped reading',
            ),
        });
        // Stryker restore ArrowFunction,ObjectLiteral,StringLiteral
        const open = this.sessions.add(session, transport, release);
        void session.connect(transport);
        return transport;
      },
    };
  }

  /**
   * One tool called over REST by the connection's principal: the tool's result (an `isError` result
   * too), or UNKNOWN_SERVER, UNKNOWN_TOOL, INVALID_PARAMS naming the fields, FORBIDDEN, RATE_LIMITED.
   */
  callTool(connection: Connection, server: string, tool: string, args: unknown, signal: AbortSignal): Promise<Result> {
    return this.rest.callTool(connection, server, tool, args, signal);
  }

  /** A session over an already-open transport (`mcp-orch stdio`), for the owner of the data dir in a project. */
  async connectTransport(spec: ViewSpec, transport: Transport, principal: Principal): Promise<GatewaySession> {
    const session = await this.openSession(this.viewFor(spec), 'stdio', { principal });
    this.sessions.add(session, transport);
    await session.connect(transport);
    return session;
  }

  /** Closes every session. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.detachPool();
    this.detachAccess();
    this.cache.close();
    this.modern.close();
    this.listen.close();
    await this.sessions.close();
  }
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => (m as { method?: unknown } | null | undefined)?.method === 'initialize');
}
