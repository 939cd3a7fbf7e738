import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireOperator, type ApiUser } from '../../auth/adminPolicy.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json, recordChange, seesServer, visibleUpstreams } from './routeKit.js';
import { daemonStatusSchema, doneSchema, metricSampleSchema, secretInfoSchema } from './schemas.js';

/** How far back each range reaches, and the resolution it is drawn at (10 s rows are kept a day). */
export const RANGES = {
  '5m': 300_000,
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
} as const;
export type Range = keyof typeof RANGES;
export const resolutionOf = (range: Range): 10 | 300 => (RANGES[range] <= RANGES['24h'] ? 10 : 300);

/** The daemon as a whole: who is asking, what runs, and the load. */
export function daemonStatus(deps: ApiDeps, user: ApiUser): z.infer<typeof daemonStatusSchema> {
  const servers: Record<string, number> = {};
  for (const upstream of visibleUpstreams(deps, user)) servers[upstream.state] = (servers[upstream.state] ?? 0) + 1;
  const { principal } = user;
  return {
    version: deps.version,
    startedAt: deps.startedAt,
    uptimeSec: Math.round((Date.now() - deps.startedAt) / 1000),
    sessions: deps.gateway.sessionCounts(),
    callsPerSecond: Math.round(deps.calls.perSecond() * 100) / 100,
    servers,
    you: {
      via: user.via,
      operator: user.operator,
      project: principal.project,
      role: principal.role,
      member: principal.member ?? null,
      keyPrefix: principal.keyPrefix ?? null,
    },
  };
}

/** Daemon status, the metrics history, and the secret store (names only). */
export function daemonRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/status',
      tags: ['daemon'],
      summary: "The daemon's version, uptime, sessions by transport, calls per second, servers by state, and who is asking",
      responses: { 200: json(daemonStatusSchema, 'the status'), ...errors() },
    }),
    (c) => c.json(daemonStatus(deps, c.get('user')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/metrics/history',
      tags: ['daemon'],
      summary: 'CPU, memory, calls, errors and latency p50/p95 per server over time (10 s rows for a day, 5 min rows for 30 days)',
      request: {
        query: z.object({
          server: z.string().optional().openapi({ description: 'one server; all the caller sees when absent' }),
          range: z
            .enum(Object.keys(RANGES) as [Range, ...Range[]])
            .optional()
            .openapi({ description: 'default 1h' }),
        }),
      },
      responses: {
        200: json(z.object({ range: z.string(), resolution: z.number().int(), samples: z.array(metricSampleSchema) }), 'oldest first'),
        ...errors(400, 404),
      },
    }),
    (c) => {
      const user = c.get('user');
      const { server, range = '1h' } = c.req.valid('query');
      const resolution = resolutionOf(range);
      const since = Date.now() - RANGES[range];
      const samples = deps.store.metrics.query({ resolution, server, since }).filter((sample) => seesServer(deps, user, sample.server));
      return c.json({ range, resolution, samples }, 200);
    },
  );

  const tag = ['secrets'];
  const nameParam = z.object({
    name: z
      .string()
      .min(1)
      .openapi({ param: { name: 'name', in: 'path' }, example: 'GITHUB_TOKEN' }),
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/secrets',
      tags: tag,
      summary: 'The stored secrets: names and dates, never values',
      responses: { 200: json(z.object({ secrets: z.array(secretInfoSchema) }), 'the secrets'), ...errors(403) },
    }),
    (c) => {
      requireOperator(c.get('user'), 'list secrets');
      return c.json({ secrets: deps.store.secrets.list() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/secrets/{name}',
      tags: tag,
      summary: 'Store a secret, encrypted; use it in the config as ${secret:NAME}',
      request: { params: nameParam, body: body(z.object({ value: z.string().min(1) })) },
      responses: { 200: json(doneSchema, 'stored'), ...errors(400, 403) },
    }),
    (c) => {
      const user = c.get('user');
      requireOperator(user, 'set secrets');
      const { name } = c.req.valid('param');
      deps.store.secrets.set(name, c.req.valid('json').value);
      recordChange(deps, user, 'secrets.set', { target: name });
      return c.json({ done: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/secrets/{name}',
      tags: tag,
      summary: 'Delete a secret; servers that use it do not start again until it is set',
      request: { params: nameParam },
      responses: { 200: json(doneSchema, 'deleted'), ...errors(403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      requireOperator(user, 'delete secrets');
      const { name } = c.req.valid('param');
      deps.store.secrets.delete(name);
      recordChange(deps, user, 'secrets.delete', { target: name });
      return c.json({ done: true as const }, 200);
    },
  );

  return app;
}
