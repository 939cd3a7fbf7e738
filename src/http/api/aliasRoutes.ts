import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { OrchError } from '../../errors.js';
import { unknownServer } from '../../gateway/view.js';
import type { ApiEnv } from './apiAuth.js';
import { batchRoutes } from './batchRoutes.js';
import type { ApiDeps } from './deps.js';
import { apiApp, errors, json, seesServer } from './routeKit.js';
import { adminServerSchema, reloadReportSchema, toolArgumentsSchema } from './schemas.js';
import { listServers, reload } from './serversRoutes.js';
import { callTool, toolCallResponses, toolListRoutes } from './toolsRoutes.js';

const tag = ['aliases'];

/**
 * `server.tool` of a call path: the longest configured server name the user sees followed by a dot
 * (server and tool names may both contain dots).
 */
export function splitCall(deps: ApiDeps, user: Parameters<typeof seesServer>[1], call: string): { server: string; tool: string } {
  const servers = deps.pool
    .names()
    .filter((server) => call.startsWith(`${server}.`) && call.length > server.length + 1 && seesServer(deps, user, server))
    .sort((a, b) => b.length - a.length);
  const server = servers[0];
  if (server === undefined) {
    if (!call.includes('.')) {
      throw new OrchError('BAD_REQUEST', `"${call}" does not name a tool as {server}.{tool}`, {
        hint: 'POST /tools/memory.read_graph, say',
      });
    }
    throw unknownServer(
      call.slice(0, call.indexOf('.')),
      deps.pool.names().filter((name) => seesServer(deps, user, name)),
    );
  }
  return { server, tool: call.slice(server.length + 1) };
}

/**
 * The REST surface of the hybrid-proxy design, as aliases of the /api routes with the same answers
 * and the same credentials: GET /tools, GET /tools/{server}, POST /tools/{server}.{tool},
 * GET /servers and POST /servers/reload; and batch tasks' /batch/... and /projects/{project}/batch/...
 */
export function aliasRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();

  app.route('/', toolListRoutes(deps, tag));

  // `{server}.{tool}` is one path segment, which hono's router cannot split: the route takes the
  // segment whole and splitCall finds the server; the document shows the path as clients write it.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/tools/{server}.{tool}',
    tags: tag,
    summary: 'As POST /api/tools/{server}/{tool}',
    request: {
      params: z.object({
        server: z.string().openapi({ param: { name: 'server', in: 'path' }, example: 'memory' }),
        tool: z.string().openapi({ param: { name: 'tool', in: 'path' }, example: 'read_graph' }),
      }),
      body: { required: false, content: { 'application/json': { schema: toolArgumentsSchema } } },
    },
    responses: toolCallResponses,
  });
  app.post('/tools/:call', async (c) => {
    const { server, tool } = splitCall(deps, c.get('user'), c.req.param('call'));
    const text = await c.req.text();
    let args: unknown = {};
    try {
      if (text.trim() !== '') args = JSON.parse(text);
    } catch (error) {
      throw new OrchError('BAD_REQUEST', `the body is not JSON: ${(error as Error).message}`, {
        hint: "send the tool's arguments as a JSON object",
      });
    }
    return c.json(await callTool(deps, c, server, tool, args), 200);
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/servers',
      tags: tag,
      summary: 'As GET /api/servers',
      responses: { 200: json(z.object({ servers: z.array(adminServerSchema) }), 'the servers'), ...errors() },
    }),
    async (c) => c.json(await listServers(deps, c.get('user'), false), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/servers/reload',
      tags: tag,
      summary: 'As POST /api/reload',
      responses: { 200: json(reloadReportSchema, 'what changed'), ...errors(400, 403) },
    }),
    async (c) => c.json(await reload(deps, c.get('user')), 200),
  );

  app.route('/', batchRoutes(deps, 'short'));
  app.route('/', batchRoutes(deps, 'project'));
  return app;
}
