import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireOperator, requireProjectAdmin } from '../../auth/adminPolicy.js';
import { PINNING_MODES, shapingSchema } from '../../config/schema.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json, recordChange } from './routeKit.js';
import { fleetOverviewSchema, pinSchema, projectParam, serverNameParam } from './schemas.js';

// Schemas made before zod-openapi was loaded have no .openapi(): an extension made now names it.
const rulesSchema = shapingSchema.extend({}).openapi('ShapingRules');
const serverRules = z.object({
  project: projectParam,
  server: z
    .string()
    .min(1)
    .openapi({ param: { name: 'server', in: 'path' } }),
});

/**
 * What clients see and what operators hear: definition pinning (what changed, and its approval),
 * alerts and groups (operators), and each project's filters and overrides of a server (its admins).
 */
export function fleetRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  const { fleet } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/fleet',
      tags: ['fleet'],
      summary: 'The pinning mode, each alert target with its deliveries, and the groups with their servers',
      responses: { 200: json(fleetOverviewSchema, 'the overview'), ...errors(403) },
    }),
    (c) => {
      requireOperator(c.get('user'), 'see the fleet');
      return c.json(fleet.overview(), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tools/pins',
      tags: ['fleet'],
      summary:
        'Pinned tool definitions (of one server with ?server=), with what changed since they were approved (?changed for those only)',
      request: { query: z.object({ server: z.string().optional(), changed: z.string().optional() }) },
      responses: { 200: json(z.object({ mode: z.enum(PINNING_MODES), pins: z.array(pinSchema) }), 'the pins'), ...errors(403) },
    }),
    (c) => {
      requireOperator(c.get('user'), 'review tool definitions');
      const query = c.req.valid('query');
      const changed = ['1', 'true', ''].includes(query.changed ?? 'no');
      return c.json({ mode: fleet.overview().pinning.mode, pins: fleet.pins(query.server || undefined, changed) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/servers/{name}/tools/approve',
      tags: ['fleet'],
      summary: 'Approve what a server offers now: one tool, or every changed one',
      request: { params: z.object({ name: serverNameParam }), body: body(z.object({ tool: z.string().optional() }), false) },
      responses: {
        200: json(z.object({ server: z.string(), approved: z.array(z.string()) }), 'what was approved'),
        ...errors(400, 403, 404),
      },
    }),
    (c) => {
      requireOperator(c.get('user'), 'approve tool definitions');
      const server = c.req.valid('param').name;
      return c.json({ server, approved: fleet.approve(server, c.req.valid('json').tool) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}/rules',
      tags: ['projects'],
      summary: "A project's filters and overrides, by server",
      request: { params: z.object({ project: projectParam }) },
      responses: {
        200: json(z.object({ project: z.string(), rules: z.record(z.string(), rulesSchema) }), 'the rules'),
        ...errors(403, 404),
      },
    }),
    (c) => {
      const { project } = c.req.valid('param');
      requireProjectAdmin(c.get('user'), project, "see the project's rules");
      return c.json({ project, rules: fleet.rules(project) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/projects/{project}/servers/{server}/rules',
      tags: ['projects'],
      summary: "Replace what a project's clients see of a server: tool, prompt and resource filters and overrides",
      request: { params: serverRules, body: body(rulesSchema.strict()) },
      responses: {
        200: json(z.object({ project: z.string(), server: z.string(), rules: rulesSchema.nullable() }), 'the rules'),
        ...errors(400, 403, 404),
      },
    }),
    (c) => {
      const user = c.get('user');
      const { project, server } = c.req.valid('param');
      requireProjectAdmin(user, project, "change the project's rules");
      const rules = fleet.setRules(project, server, c.req.valid('json'))[server] ?? null;
      recordChange(deps, user, 'projects.rules.set', { project, target: server, detail: { rules } });
      return c.json({ project, server, rules }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project}/servers/{server}/rules',
      tags: ['projects'],
      summary: "Remove a project's filters and overrides of a server",
      request: { params: serverRules },
      responses: { 200: json(z.object({ project: z.string(), server: z.string(), rules: z.null() }), 'removed'), ...errors(403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const { project, server } = c.req.valid('param');
      requireProjectAdmin(user, project, "change the project's rules");
      fleet.setRules(project, server, null);
      recordChange(deps, user, 'projects.rules.clear', { project, target: server });
      return c.json({ project, server, rules: null }, 200);
    },
  );

  return app;
}
