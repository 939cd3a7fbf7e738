import { Hono, type Context } from 'hono';
import { OrchError } from '../errors.js';
import type { Connection, TransportKind } from '../gateway/caller.js';
import type { Gateway } from '../gateway/gateway.js';
import { errorResponse } from '../gateway/responses.js';
import type { ViewSpec } from '../gateway/view.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { poolStatus } from '../upstream/status.js';
import { addressOf, apiErrorResponse } from './apiError.js';
import { bodyBound } from './bodyBound.js';
import { REST_MOUNTS } from './api/restApi.js';
import { coalesceEventStream } from './coalesce.js';
import { isEventStream } from '../eventStream.js';
import { hostGuard, type HostAllowlist } from './host.js';
import type { Identify } from './identify.js';
import { originGuard } from './origin.js';
import type { Deployments } from './api/deps.js';
import { createGitHook } from './gitHook.js';
import { webSocketRoute } from './websocket.js';
import type { Principal } from '../auth/policy.js';
import type { Ticket } from '../auth/tickets.js';

/** An app mounted under a path of this one: what it answers, it answers whole. */
export interface SubApp {
  fetch(request: Request, env: unknown): Response | Promise<Response>;
}

export interface AppDeps {
  gateway: Gateway;
  /** Who a request is, from its Authorization header and path (401/403/404 otherwise). */
  identify: Identify;
  /** The project of the short paths (/mcp, /sse, /servers/{name}/...). */
  defaultProject: string;
  pool: UpstreamPool;
  version: string;
  /** The Host names answered; every other Host is refused on every route. */
  hosts: HostAllowlist;
  allowedOrigins: readonly string[];
  maxBodyBytes: number;
  isShuttingDown: () => boolean;
  /**
   * The REST API (/api and its aliases; see api/restApi.ts) and the dashboard (/ui; see
   * ui/dashboard.tsx), each an app of its own called from this one. Without them, 404.
   */
  rest?: SubApp;
  ui?: SubApp;
  /** Served at /metrics in the Prometheus text format. */
  metrics?: { contentType: string; text(): Promise<string> };
  /** A WebSocket ticket for a principal (POST /ws-tickets); without it that route answers 404. */
  issueTicket?: (principal: Principal) => Ticket;
  /** Servers deployed from git: the signed /hooks/git/{name} (their API is part of the REST API's). */
  deployments?: Pick<Deployments, 'webhook'>;
}

/**
 * The HTTP surface: MCP endpoints (Streamable HTTP and legacy SSE, unified and per server), health,
 * metrics, the REST API and the dashboard. Routes only translate HTTP into gateway calls.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const { gateway } = deps;
  // Before every route: a request to another site's name (DNS rebinding) or from another site's page reaches nothing.
  app.use(hostGuard(deps.hosts), originGuard(deps.allowedOrigins, deps.hosts));

  app.get('/health', (c) => {
    const servers = poolStatus(deps.pool).map(({ name, state }) => ({ name, state }));
    // Crashed servers gave up restarting: the gateway serves, but not everything it should.
    const crashed = servers.filter((server) => server.state === 'crashed').map((server) => server.name);
    const status = deps.isShuttingDown() ? 'shutting-down' : crashed.length ? 'degraded' : 'ok';
    const body = { status, version: deps.version, ...(crashed.length ? { crashed } : {}), servers };
    return c.json(body, deps.isShuttingDown() ? 503 : 200);
  });

  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get('/metrics', async (c) => c.body(await metrics.text(), 200, { 'Content-Type': metrics.contentType }));
  }

  // Apps of their own, called rather than merged: their routes (`/api/servers/start-all` beside
  // `/api/servers/:name/:action`) would push the whole router off hono's RegExpRouter onto the
  // slower TrieRouter, and every MCP request would pay for that.
  const { rest, ui } = deps;
  // Every body a client can send is bounded, on the REST API and the dashboard's forms as on MCP.
  const bound = bodyBound(deps.maxBodyBytes, (error) => apiErrorResponse(error));
  if (rest) {
    const toRest = (c: Context): Response | Promise<Response> => rest.fetch(c.req.raw, c.env);
    app.all('/api/*', bound, toRest);
    for (const path of REST_MOUNTS.get) app.get(path, toRest);
    for (const path of REST_MOUNTS.post) app.post(path, bound, toRest);
    for (const path of REST_MOUNTS.delete) app.delete(path, toRest);
  }
  if (ui) {
    const toUi = (c: Context): Response | Promise<Response> => ui.fetch(c.req.raw, c.env);
    app.all('/ui', bound, toUi);
    app.all('/ui/*', bound, toUi);
  }
  if (deps.deployments) app.route('/hooks/git', createGitHook(deps.deployments, deps.maxBodyBytes, addressOf));

  const mcp = new Hono();
  const mcpBound = bodyBound(deps.maxBodyBytes, (error) => errorResponse(error));
  // One middleware for what every MCP request is checked for first (each one is a step of hono's
  // chain on every call): shutting down, then the body's size.
  mcp.use(async (c, next) => {
    if (deps.isShuttingDown()) {
      return errorResponse(new OrchError('SHUTTING_DOWN', 'mcp-orch is shutting down', { hint: 'connect again once it has restarted' }));
    }
    return mcpBound(c, next);
  });

  /** Who sent the request, from its Authorization header and the project its path names; or the refusal to send. */
  const identify = (c: Context, project: string, transport: TransportKind, ticket?: string): Connection | Response => {
    const address = addressOf(c);
    const found = deps.identify({ authorization: c.req.header('authorization'), ticket, project, address, transport });
    if ('error' in found) return errorResponse(found.error, null, found.headers);
    return { address, principal: found.principal };
  };

  const streamable = async (c: Context, spec: ViewSpec, project: string): Promise<Response> => {
    const connection = identify(c, project, 'streamable-http');
    if (connection instanceof Response) return connection;
    let body: unknown;
    if (c.req.method === 'POST') {
      const parsed = await readJson(c);
      if (parsed instanceof Response) return parsed;
      body = parsed;
    }
    const response = await gateway.streamable(c.req.raw, spec, body, connection);
    // Asked of the response rather than its headers, which a JSON answer keeps as a plain object.
    return c.req.method === 'POST' && isEventStream(response) ? coalesceEventStream(response) : response;
  };
  const sseConnect = (c: Context, spec: ViewSpec, project: string): Response | Promise<Response> => {
    const connection = identify(c, project, 'sse');
    if (connection instanceof Response) return connection;
    // Messages go beside the stream: /sse -> /messages, under the same project and server.
    return gateway.sseConnect(spec, c.req.path.replace(/\/sse$/, '/messages'), connection);
  };
  const sseMessage = async (c: Context, spec: ViewSpec, project: string): Promise<Response> => {
    const connection = identify(c, project, 'sse');
    if (connection instanceof Response) return connection;
    const parsed = await readJson(c);
    if (parsed instanceof Response) return parsed;
    return gateway.sseMessage(c.req.query('sessionId'), spec, parsed, connection);
  };

  const websocket = (c: Context, spec: ViewSpec, project: string): Promise<Response> =>
    webSocketRoute(c, async () => {
      const connection = identify(c, project, 'websocket', c.req.query('ticket'));
      if (connection instanceof Response) return connection;
      return gateway.openWebSocket(spec, connection).catch((error: unknown) => errorResponse(error));
    });
  const issueTicket = deps.issueTicket;
  const ticket = (c: Context, project: string): Response => {
    const connection = identify(c, project, 'websocket');
    if (connection instanceof Response) return connection;
    if (!issueTicket) return errorResponse(new OrchError('UNKNOWN_ROUTE', 'this daemon issues no WebSocket tickets'));
    try {
      return c.json(issueTicket(connection.principal));
    } catch (error) {
      return errorResponse(error);
    }
  };

  const unified: ViewSpec = { kind: 'unified' };
  const server = (c: Context): ViewSpec => ({ kind: 'server', server: c.req.param('server') ?? '' });

  /** The endpoints of a project under `base`: the short paths are the default project's. */
  const endpoints = (base: string, projectOf: (c: Context) => string): void => {
    mcp.on(['POST', 'GET', 'DELETE'], `${base}/mcp`, (c) => streamable(c, unified, projectOf(c)));
    mcp.get(`${base}/sse`, (c) => sseConnect(c, unified, projectOf(c)));
    mcp.post(`${base}/messages`, (c) => sseMessage(c, unified, projectOf(c)));
    mcp.post(`${base}/sse`, (c) => sseMessage(c, unified, projectOf(c)));
    mcp.on(['POST', 'GET', 'DELETE'], `${base}/servers/:server/mcp`, (c) => streamable(c, server(c), projectOf(c)));
    mcp.get(`${base}/servers/:server/sse`, (c) => sseConnect(c, server(c), projectOf(c)));
    mcp.post(`${base}/servers/:server/messages`, (c) => sseMessage(c, server(c), projectOf(c)));
    mcp.post(`${base}/servers/:server/sse`, (c) => sseMessage(c, server(c), projectOf(c)));
    mcp.get(`${base}/mcp/ws`, (c) => websocket(c, unified, projectOf(c)));
    mcp.get(`${base}/servers/:server/ws`, (c) => websocket(c, server(c), projectOf(c)));
    mcp.post(`${base}/ws-tickets`, (c) => ticket(c, projectOf(c)));
  };
  endpoints('', () => deps.defaultProject);
  endpoints('/projects/:project', (c) => c.req.param('project') ?? '');

  app.route('/', mcp);
  return withFallbacks(app);
}

/** Unknown routes and thrown errors answer in the REST API's JSON error shape, from the one mapping. */
function withFallbacks(app: Hono): Hono {
  app.notFound((c) =>
    apiErrorResponse(
      new OrchError('UNKNOWN_ROUTE', `no route for ${c.req.method} ${c.req.path}`, {
        hint: 'MCP endpoints: /mcp, /sse, /mcp/ws, /servers/{name}/mcp, /servers/{name}/sse, /servers/{name}/ws, and the same under /projects/{project}; also /health, /metrics, /api (see /api/docs) and /ui',
      }),
    ),
  );
  app.onError((error) => apiErrorResponse(error));
  return app;
}

/** Parses a JSON-RPC body; malformed JSON is a JSON-RPC parse error (-32700) with HTTP 400. */
async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    return errorResponse(
      new OrchError('PARSE_ERROR', `Parse error: ${(error as Error).message}`, { hint: 'the body must be a JSON-RPC message or batch' }),
    );
  }
}
