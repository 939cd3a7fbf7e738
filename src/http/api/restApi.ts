import type { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { OrchError } from '../../errors.js';
import { renderApiDocs, type OpenApiDocument } from '../../web/apiDocs.js';
import { apiErrorResponse } from '../apiError.js';
import { PAGE_HEADERS } from '../ui/assets.js';
import { aliasRoutes } from './aliasRoutes.js';
import { apiAuth, SAFE_METHODS, type ApiEnv } from './apiAuth.js';
import { auditRoutes } from './auditRoutes.js';
import { batchRoutes } from './batchRoutes.js';
import { daemonRoutes } from './daemonRoutes.js';
import { deploymentsRoutes } from './deploymentsRoutes.js';
import type { ApiDeps } from './deps.js';
import { fleetRoutes } from './fleetRoutes.js';
import { keysRoutes } from './keysRoutes.js';
import { projectsRoutes } from './projectsRoutes.js';
import { apiApp } from './routeKit.js';
import { serversRoutes } from './serversRoutes.js';
import { toolsRoutes } from './toolsRoutes.js';

/** The short forms of batch tasks' routes, outside /api. */
const BATCH_PATHS = ['/batch', '/batch/*', '/projects/:project/batch', '/projects/:project/batch/*'] as const;

/** The paths of the REST surface outside /api: the hybrid-proxy aliases and the batch routes' short forms. */
const ALIAS_PATHS = ['/tools', '/tools/*', '/servers', '/servers/reload', ...BATCH_PATHS] as const;

/**
 * What the main app hands to this one besides /api/*. A static `/servers/reload` beside the MCP
 * routes' `/servers/:server/mcp` would push the main router off hono's RegExpRouter, so POSTs to
 * any `/servers/:name` come here, where all but /servers/reload are unknown routes.
 */
export const REST_MOUNTS = {
  get: ['/tools', '/tools/*', '/servers', ...BATCH_PATHS],
  post: ['/tools/*', '/servers/:alias', ...BATCH_PATHS],
  delete: BATCH_PATHS,
} as const;

export const OPENAPI_PATH = '/api/openapi.json';

/** Media types a JSON body comes with by mistake or by default (curl, fetch with a string). */
const LOOSE_TYPES = /^(text\/plain|application\/x-www-form-urlencoded)\b/i;
export const DOCS_PATH = '/api/docs';

/** A framework error (malformed JSON, a wrong Content-Type) as one of ours, for the one error shape. */
function asOrchError(error: unknown): unknown {
  if (!(error instanceof HTTPException)) return error;
  if (error.status === 415) {
    return new OrchError('UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON', { hint: 'send Content-Type: application/json' });
  }
  if (error.status === 400) return new OrchError('BAD_REQUEST', error.message, { hint: 'send a JSON body' });
  return new OrchError('INTERNAL', error.message);
}

/**
 * The REST API: every route under /api plus the aliases, each defined once with zod schemas that
 * validate its input, type its answer and make the OpenAPI 3.1 document at /api/openapi.json
 * (rendered at /api/docs; both need no credentials). Everything else needs the admin token, an
 * API key or a dashboard session (see apiAuth); errors have one shape, from errors.ts.
 */
export function createRestApi(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  app.onError((error) => apiErrorResponse(asOrchError(error)));
  app.notFound((c) =>
    apiErrorResponse(
      new OrchError('UNKNOWN_ROUTE', `no route for ${c.req.method} ${c.req.path}`, { hint: `the API's routes are listed at ${DOCS_PATH}` }),
    ),
  );

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: "an mcpo_ API key, or the daemon's token from <data dir>/admin-token",
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'session', {
    type: 'apiKey',
    in: 'cookie',
    name: 'mcpo_session_<port>',
    description:
      "a dashboard login (the cookie's name ends with the daemon's port); requests that change something also send its X-CSRF-Token",
  });
  const documentConfig = {
    openapi: '3.1.0',
    info: {
      title: 'mcp-orch REST API',
      version: deps.version,
      description: 'Servers, tools, projects, members, keys, secrets, the audit log, metrics and batch tasks of an mcp-orch daemon.',
    },
    security: [{ bearer: [] as string[] }, { session: [] as string[] }] as Record<string, string[]>[],
  };
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  const openApiDocument = () => (document ??= app.getOpenAPI31Document(documentConfig));
  // Before the guard: the document describes the API and holds nothing secret.
  app.get(OPENAPI_PATH, (c) => c.json(openApiDocument()));
  app.get(DOCS_PATH, (c) => c.html(renderApiDocs(openApiDocument() as OpenApiDocument), 200, PAGE_HEADERS));

  // A body sent without a JSON media type (`curl -d`, `fetch` with a string) is read as JSON: the
  // media type is no defence here, since changes by a dashboard session need its CSRF header.
  app.use('*', async (c, next) => {
    const type = c.req.header('content-type');
    if (SAFE_METHODS.has(c.req.method) || (type !== undefined && !LOOSE_TYPES.test(type))) return next();
    const text = await c.req.raw.clone().text();
    // No body at all (a POST that needs none) stays as it came.
    if (text === '') return next();
    const headers = new Headers(c.req.raw.headers);
    headers.set('content-type', 'application/json');
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: text, signal: c.req.raw.signal });
    await next();
  });

  const guard = apiAuth(deps);
  app.use('/api/*', guard);
  for (const path of ALIAS_PATHS) app.use(path, guard);

  // The fleet's before the tools': GET /api/tools/pins is its own, not the tools of a server "pins".
  for (const routes of [
    fleetRoutes,
    serversRoutes,
    toolsRoutes,
    projectsRoutes,
    keysRoutes,
    auditRoutes,
    daemonRoutes,
    deploymentsRoutes,
    batchRoutes,
  ]) {
    app.route('/api', routes(deps));
  }
  app.route('/', aliasRoutes(deps));
  return app;
}
