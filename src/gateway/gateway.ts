import { join } from 'node:path';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, Request as McpRequest, Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { CatalogKind } from '../upstream/catalog.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream, UpstreamState } from '../upstream/upstream.js';
import { unionCapabilities } from './capabilities.js';
import { errorResponse, requestIdOf } from './responses.js';
import { LogLevelRegistry } from './logLevels.js';
import { classifyEra } from './modern/classify.js';
import { ModernFront } from './modern/front.js';
import { REQUEST_STATE_KEY_FILE, RequestStateCodec } from './modern/requestState.js';
import { ServerRequestRouter } from './serverRequests.js';
import { GatewaySession, type RequestObserver, type SessionDeps, type SessionSetup } from './session.js';
import { SseServerTransport } from './sseTransport.js';
import { StreamableHttpServerTransport } from './streamableTransport.js';
import { SubscriptionRegistry } from './subscriptions.js';
import { createView, type ViewSpec } from './view.js';
import { waitBounded } from './wait.js';

export interface GatewayOptions {
  pool: UpstreamPool;
  logger: Logger;
  separator: string;
  version: string;
  observer?: RequestObserver;
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
}

const DEFAULT_REQUEST_STATE_TTL_MS = 5 * 60 * 1000;

type TransportKind = SessionSetup['transportKind'];

interface OpenSession {
  session: GatewaySession;
  transport: StreamableHttpServerTransport | SseServerTransport | Transport;
  lastSeen: number;
}

/** Bound on how long a new unified session waits for servers that are still starting. */
const UNIFIED_START_WAIT_MS = 10_000;

const LIST_CHANGED: Record<CatalogKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

/**
 * The downstream side: MCP sessions over Streamable HTTP, legacy SSE and stdio, each bound to a
 * view (one server or all of them), all sharing the upstream pool. Speaks web-standard
 * Request/Response, so any HTTP framework can front it.
 */
export class Gateway {
  readonly router = new ServerRequestRouter();
  readonly subscriptions = new SubscriptionRegistry();
  readonly logLevels = new LogLevelRegistry();
  private readonly sessions = new Map<string, OpenSession>();
  private readonly deps: SessionDeps;
  private readonly log: Logger;
  private readonly detachPool: () => void;
  private readonly sweeper: NodeJS.Timeout | undefined;
  /** Answers 2026-07-28 (stateless) requests; 2025 ones keep the sessions below. */
  private readonly modern: ModernFront;

  constructor(private readonly options: GatewayOptions) {
    this.log = options.logger.child({ component: 'gateway' });
    this.deps = {
      logger: this.log,
      router: this.router,
      subscriptions: this.subscriptions,
      logLevels: this.logLevels,
      validator: new AjvJsonSchemaValidator(),
      version: options.version,
      ...(options.observer ? { observer: options.observer } : {}),
    };
    this.detachPool = this.watchPool(options.pool);
    this.modern = new ModernFront({
      ...options,
      logger: this.log,
      router: this.router,
      codec: this.requestStateCodec(options.dataDir),
      requestStateTtlMs: options.requestStateTtlMs ?? DEFAULT_REQUEST_STATE_TTL_MS,
    });
    const idleMs = options.sessionIdleMs ?? 0;
    if (idleMs > 0) {
      this.sweeper = setInterval(() => this.closeIdle(idleMs), Math.min(60_000, Math.max(1000, idleMs / 2)));
      this.sweeper.unref();
    }
  }

  /** The requestState key from the data dir; a random one when there is none or it cannot be read. */
  private requestStateCodec(dataDir: string | undefined): RequestStateCodec {
    if (!dataDir) return RequestStateCodec.ephemeral();
    const path = join(dataDir, REQUEST_STATE_KEY_FILE);
    try {
      return RequestStateCodec.fromKeyFile(path);
    } catch (error) {
      this.log.warn({ path, err: (error as Error).message }, 'cannot use the requestState key file; using a key for this process only');
      return RequestStateCodec.ephemeral();
    }
  }

  /** Closes HTTP sessions whose client stopped sending requests without ending the session. */
  private closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const open of this.sessions.values()) {
      // SSE and stdio sessions end when their stream does; only Streamable HTTP ones can be abandoned.
      if (open.session.transportKind !== 'streamable-http' || open.lastSeen > cutoff) continue;
      this.log.info({ session: open.session.id, endpoint: open.session.view.label }, 'closing idle session');
      void open.session.close();
    }
  }

  /** Open sessions by transport, for status and metrics. */
  sessionCounts(): Record<TransportKind, number> {
    const counts: Record<TransportKind, number> = { 'streamable-http': 0, sse: 0, stdio: 0 };
    for (const { session } of this.sessions.values()) counts[session.transportKind]++;
    return counts;
  }

  /** Routes the server->client requests of an upstream; wired into each Upstream by the daemon. */
  routeServerRequest = (upstream: Upstream, request: McpRequest, signal: AbortSignal): Promise<Result> =>
    this.router.route(upstream, request, signal);

  /** Creates a session for a view once its servers are ready, with the capabilities they offer. */
  async openSession(spec: ViewSpec, transportKind: TransportKind): Promise<GatewaySession> {
    const view = createView(spec, this.options.pool, this.options.separator);
    let setup: SessionSetup;
    if (spec.kind === 'server') {
      const [upstream] = view.upstreams();
      if (!upstream) view.tools(); // throws the unknown-server error naming the known ones
      await upstream!.ready();
      setup = {
        view,
        transportKind,
        capabilities: { ...upstream!.capabilities },
        serverInfo: upstream!.serverInfo ?? { name: upstream!.name, version: this.options.version },
        ...(upstream!.instructions ? { instructions: upstream!.instructions } : {}),
      };
    } else {
      const upstreams = view.upstreams();
      for (const upstream of upstreams) upstream.wakeForCatalog();
      await waitBounded(
        upstreams.map((u) => u.settled()),
        UNIFIED_START_WAIT_MS,
      );
      const running = upstreams.filter((u) => u.available);
      const instructions = running
        .filter((u) => u.instructions)
        .map((u) => `## ${u.name}\n${u.instructions}`)
        .join('\n\n');
      setup = {
        view,
        transportKind,
        capabilities: unionCapabilities(running.map((u) => u.capabilities)),
        serverInfo: { name: 'mcp-orch', title: 'mcp-orch unified endpoint', version: this.options.version },
        ...(instructions ? { instructions } : {}),
      };
    }
    return new GatewaySession(setup, this.deps);
  }

  private register(session: GatewaySession, transport: OpenSession['transport']): void {
    this.sessions.set(session.id, { session, transport, lastSeen: Date.now() });
    session.onclose = () => {
      this.sessions.delete(session.id);
      this.log.debug({ session: session.id }, 'session closed');
    };
  }

  /** One Streamable HTTP request (POST, GET or DELETE) on an endpoint of `spec`. */
  async streamable(request: Request, spec: ViewSpec, body: unknown): Promise<Response> {
    const era = classifyEra({ method: request.method, header: (name) => request.headers.get(name), body });
    if (era === 'modern') return this.modern.handle(request, spec, body);
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const open = this.sessionFor(sessionId, spec);
      if (!(open?.transport instanceof StreamableHttpServerTransport)) {
        return errorResponse(
          new OrchError('UNKNOWN_SESSION', `unknown session "${sessionId}"`, {
            hint: 'the session ended or belongs to another endpoint; send initialize again without Mcp-Session-Id',
          }),
          requestIdOf(body),
        );
      }
      open.lastSeen = Date.now();
      return open.transport.handleRequest(request, { parsedBody: body });
    }
    if (request.method !== 'POST' || !isInitialize(body)) {
      return errorResponse(
        new OrchError('MISSING_SESSION', 'Bad Request: Mcp-Session-Id header is required', {
          hint: 'start with an initialize request; its response carries the session id',
        }),
        requestIdOf(body),
      );
    }
    let session: GatewaySession;
    try {
      session = await this.openSession(spec, 'streamable-http');
    } catch (error) {
      return errorResponse(error, requestIdOf(body));
    }
    const transport = new StreamableHttpServerTransport({ sessionIdGenerator: () => session.id });
    this.register(session, transport);
    await session.connect(transport);
    const response = await transport.handleRequest(request, { parsedBody: body });
    // A rejected initialize (bad Accept header, bad version) never becomes a session.
    if (!transport.sessionId) await session.close();
    return response;
  }

  /** GET on a legacy SSE endpoint: a new session whose messages are POSTed to `messagesPath`. */
  async sseConnect(spec: ViewSpec, messagesPath: string): Promise<Response> {
    let session: GatewaySession;
    try {
      session = await this.openSession(spec, 'sse');
    } catch (error) {
      return errorResponse(error);
    }
    const transport = new SseServerTransport(session.id, messagesPath);
    this.register(session, transport);
    const response = transport.response();
    await session.connect(transport);
    return response;
  }

  /** POST of a message to a legacy SSE session. */
  sseMessage(sessionId: string | undefined, spec: ViewSpec, body: unknown): Response {
    const open = sessionId ? this.sessionFor(sessionId, spec) : undefined;
    if (!(open?.transport instanceof SseServerTransport)) {
      const error = sessionId
        ? new OrchError('UNKNOWN_SESSION', `unknown session "${sessionId}"`, { hint: 'open a new stream with GET on the /sse endpoint' })
        : new OrchError('MISSING_SESSION', 'the sessionId query parameter is required', {
            hint: 'POST to the URL given by the endpoint event of the SSE stream',
          });
      return errorResponse(error, requestIdOf(body));
    }
    open.lastSeen = Date.now();
    open.transport.receive(body as JSONRPCMessage | JSONRPCMessage[]);
    return new Response('Accepted', { status: 202 });
  }

  /** A unified session over an already-open transport (`mcp-orch stdio`). */
  async connectTransport(spec: ViewSpec, transport: Transport): Promise<GatewaySession> {
    const session = await this.openSession(spec, 'stdio');
    this.register(session, transport);
    await session.connect(transport);
    return session;
  }

  private sessionFor(id: string, spec: ViewSpec): OpenSession | undefined {
    const open = this.sessions.get(id);
    if (!open) return undefined;
    const own = open.session.view.spec;
    const same = own.kind === spec.kind && (own.kind === 'unified' || (spec.kind === 'server' && own.server === spec.server));
    return same ? open : undefined;
  }

  private watchPool(pool: UpstreamPool): () => void {
    const each = (upstream: Upstream, fn: (session: GatewaySession) => void): void => {
      for (const { session } of this.sessions.values()) if (session.sees(upstream)) fn(session);
    };
    const onCatalog = (upstream: Upstream, kind: CatalogKind): void => {
      each(upstream, (session) => session.notify({ method: LIST_CHANGED[kind] }));
    };
    // A server appearing or disappearing changes what the unified endpoint lists; a restarted one
    // needs the subscriptions its sessions hold.
    const visible = new Map<string, boolean>();
    const onState = (upstream: Upstream, state: UpstreamState): void => {
      if (state === 'running') {
        void this.subscriptions.resubscribe(upstream);
        void this.logLevels.restarted(upstream);
      }
      const now = upstream.available;
      if ((visible.get(upstream.name) ?? false) === now) return;
      visible.set(upstream.name, now);
      for (const { session } of this.sessions.values()) {
        if (session.view.spec.kind !== 'unified') continue;
        for (const method of new Set(Object.values(LIST_CHANGED))) session.notify({ method });
      }
    };
    const onNotification = (upstream: Upstream, notification: Notification): void => {
      const params = (notification.params ?? {}) as Record<string, unknown>;
      switch (notification.method) {
        case 'notifications/message':
          each(upstream, (session) => session.logMessage(upstream, params));
          return;
        case 'notifications/resources/updated':
          this.subscriptions.notify(upstream, String(params.uri));
          return;
        case 'notifications/subscriptions/acknowledged': // of the gateway's own listen stream to a 2026 server
          return;
        default:
          if (notification.method.endsWith('/list_changed')) return; // announced after the catalog refresh
          each(upstream, (session) => {
            if (session.view.spec.kind === 'server') session.notify(notification);
          });
      }
    };
    pool.on('catalog', onCatalog);
    pool.on('state', onState);
    pool.on('notification', onNotification);
    return () => {
      pool.off('catalog', onCatalog);
      pool.off('state', onState);
      pool.off('notification', onNotification);
    };
  }

  /** Closes every session. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.detachPool();
    this.modern.close();
    await Promise.all([...this.sessions.values()].map(({ session }) => session.close()));
  }
}

function isInitialize(body: unknown): boolean {
  const messages = Array.isArray(body) ? body : [body];
  return messages.some((m) => m && typeof m === 'object' && (m as { method?: unknown }).method === 'initialize');
}
