import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ApiUser } from '../../auth/adminPolicy.js';
import type { Upstream } from '../../upstream/upstream.js';
import { addressOf } from '../apiError.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json, visibleUpstream, visibleUpstreams } from './routeKit.js';
import {
  promptsOfServerSchema,
  resourcesOfServerSchema,
  serverNameParam,
  toolArgumentsSchema,
  toolResultSchema,
  toolsOfServerSchema,
} from './schemas.js';

const tag = ['tools'];
const serverParam = z.object({ server: serverNameParam.openapi({ param: { name: 'server', in: 'path' } }) });

type ServerTools = z.infer<typeof toolsOfServerSchema>;

/** One server's tools, as MCP lists them. */
function toolsOfServer(upstream: Upstream): ServerTools {
  return { server: upstream.name, state: upstream.state, tools: upstream.catalog.tools as ServerTools['tools'] };
}

/** The tools of each server the user sees. */
export function allTools(deps: ApiDeps, user: ApiUser): { servers: ServerTools[] } {
  return { servers: visibleUpstreams(deps, user).map(toolsOfServer) };
}

/** The tools of one server the user sees (404 for the others). */
export function serverTools(deps: ApiDeps, user: ApiUser, server: string): ServerTools {
  return toolsOfServer(visibleUpstream(deps, user, server));
}

/** A tool call over REST, on the gateway's forwarding path with the user's principal. */
export async function callTool(deps: ApiDeps, c: Context<ApiEnv>, server: string, tool: string, args: unknown): Promise<ToolResult> {
  const user = c.get('user');
  visibleUpstream(deps, user, server);
  const result = await deps.gateway.callTool({ address: addressOf(c), principal: user.principal }, server, tool, args, c.req.raw.signal);
  return result as ToolResult;
}

type ToolResult = z.infer<typeof toolResultSchema>;

export const toolCallResponses = {
  200: json(toolResultSchema, "the tool's result (isError: true for a tool error)"),
  ...errors(400, 403, 404, 429, 503),
};

/**
 * GET /tools and GET /tools/{server}: under /api, and as the hybrid-proxy aliases with `tags`
 * ['aliases'], the same routes with the same answers.
 */
export function toolListRoutes(deps: ApiDeps, tags: string[] = tag): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tools',
      tags,
      summary: 'Every tool of every server the caller sees, by server, with its input schema',
      responses: { 200: json(z.object({ servers: z.array(toolsOfServerSchema) }), 'the tools by server'), ...errors() },
    }),
    (c) => c.json(allTools(deps, c.get('user')), 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tools/{server}',
      tags,
      summary: "One server's tools",
      request: { params: serverParam },
      responses: { 200: json(toolsOfServerSchema, 'its tools'), ...errors(404) },
    }),
    (c) => c.json(serverTools(deps, c.get('user'), c.req.valid('param').server), 200),
  );
  return app;
}

/**
 * Tools, prompts and resources of the servers the user sees, and tools called as plain REST: the
 * arguments are the JSON body, checked against the tool's input schema, and the call takes the
 * gateway's one forwarding path (role checks, rate limits, the audit log and metrics as over MCP).
 */
export function toolsRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  app.route('/', toolListRoutes(deps));

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tools/{server}/{tool}',
      tags: tag,
      summary: 'Call a tool with the JSON body as its arguments',
      request: {
        params: serverParam.extend({
          tool: z
            .string()
            .min(1)
            .openapi({ param: { name: 'tool', in: 'path' }, example: 'echo' }),
        }),
        body: body(toolArgumentsSchema, false),
      },
      responses: toolCallResponses,
    }),
    async (c) => {
      const { server, tool } = c.req.valid('param');
      return c.json(await callTool(deps, c, server, tool, c.req.valid('json')), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/prompts',
      tags: tag,
      summary: 'Every prompt of every server the caller sees, by server',
      responses: { 200: json(z.object({ servers: z.array(promptsOfServerSchema) }), 'the prompts by server'), ...errors() },
    }),
    (c) =>
      c.json(
        {
          servers: visibleUpstreams(deps, c.get('user')).map((u) => ({
            server: u.name,
            prompts: u.catalog.prompts as z.infer<typeof promptsOfServerSchema>['prompts'],
          })),
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/resources',
      tags: tag,
      summary: 'Every resource and resource template of every server the caller sees, by server',
      responses: { 200: json(z.object({ servers: z.array(resourcesOfServerSchema) }), 'the resources by server'), ...errors() },
    }),
    (c) =>
      c.json(
        {
          servers: visibleUpstreams(deps, c.get('user')).map((u) => ({
            server: u.name,
            resources: u.catalog.resources as z.infer<typeof resourcesOfServerSchema>['resources'],
            resourceTemplates: u.catalog.resourceTemplates as z.infer<typeof resourcesOfServerSchema>['resourceTemplates'],
          })),
        },
        200,
      ),
  );

  return app;
}
