import { createRoute, z } from '@hono/zod-openapi';
import { requireOperator, type ApiUser } from '../../auth/adminPolicy.js';
import { EventStream } from '../../eventStream.js';
import { allGroups, groupsOf } from '../../config/fleet.js';
import { OrchError } from '../../errors.js';
import type { PinStatus } from '../../pinning/guard.js';
import type { Stats } from '../../supervisor/lifecycle.js';
import type { LogLine } from '../../supervisor/logBuffer.js';
import { serverStatus } from '../../upstream/status.js';
import type { Upstream } from '../../upstream/upstream.js';
import { CONTROL_ACTIONS, type ApiDeps, type ReloadReport } from './deps.js';
import { apiApp, body, errors, json, recordChange, visibleUpstream, visibleUpstreams } from './routeKit.js';
import {
  adminServerSchema,
  logLineSchema,
  reloadReportSchema,
  serverAddSchema,
  serverChangeSchema,
  serverConfigSchema,
  serverDetailSchema,
  serverEditSchema,
  serverNameParam,
  type AdminServerStatus,
} from './schemas.js';

const HISTORY_SHOWN = 10;
const DEFAULT_LOG_LINES = 100;

/** A server's admin status; `stats` (a fresher sample) replaces the lifecycle's last one when given. */
export function adminStatus(
  upstream: Upstream,
  live: { stats?: Stats | undefined; calls: ApiDeps['calls']; pinning: PinStatus },
  now = Date.now(),
): AdminServerStatus {
  const { lifecycle } = upstream;
  const { startedAt } = lifecycle;
  const stats = live.stats ?? lifecycle.stats;
  const running = upstream.pid !== undefined;
  const { callsPerMinute, errorRate } = live.calls.recent(upstream.name);
  return {
    ...serverStatus(upstream),
    uptimeSec: startedAt === undefined || !running ? null : Math.max(0, Math.round((now - startedAt) / 1000)),
    restarts: lifecycle.restarts,
    cpuPercent: running ? (stats?.cpuPercent ?? null) : null,
    memoryBytes: running ? (stats?.memoryBytes ?? null) : null,
    lastError: lifecycle.lastError ?? null,
    history: lifecycle.history.slice(-HISTORY_SHOWN),
    callsPerMinute,
    errorRate,
    pinning: live.pinning,
  };
}

/** The servers of `group` (all without one); a group no server is in is NOT_FOUND naming the groups there are. */
export function inGroup(upstreams: Upstream[], group: string | undefined): Upstream[] {
  if (group === undefined || group === '') return upstreams;
  const members = upstreams.filter((upstream) => groupsOf(upstream.config).includes(group));
  if (members.length > 0) return members;
  const groups = allGroups(Object.fromEntries(upstreams.map((upstream) => [upstream.name, upstream.config])));
  throw new OrchError('NOT_FOUND', `no server is in group "${group}"`, {
    hint: groups.length ? `groups: ${groups.join(', ')}` : 'no server has a "group" in the config',
    data: { group, groups },
  });
}

/** The servers the user sees (of `group`, when given), with their tool names when asked. */
export async function listServers(
  deps: ApiDeps,
  user: ApiUser,
  withTools: boolean,
  group?: string | undefined,
): Promise<{ servers: AdminServerStatus[] }> {
  const upstreams = inGroup(visibleUpstreams(deps, user), group);
  const statuses = await statusesOf(upstreams, deps);
  const servers = statuses.map((status, i) =>
    withTools
      ? {
          ...status,
          toolList: upstreams[i]!.catalog.tools.map(({ name, description }) =>
            description === undefined ? { name } : { name, description },
          ),
        }
      : status,
  );
  return { servers };
}

/** Reads the config file again (operators), recorded in the audit log. */
export async function reload(deps: ApiDeps, user: ApiUser): Promise<ReloadReport> {
  requireOperator(user, 'reload the config');
  const report = await deps.control.reloadFromFile();
  recordChange(deps, user, 'config.reload', { detail: { added: report.added, removed: report.removed, changed: report.changed } });
  return report;
}

/** Every status of `upstreams`, sampled at once. */
export async function statusesOf(
  upstreams: Upstream[],
  deps: Pick<ApiDeps, 'readStats' | 'calls' | 'pinStatus'>,
): Promise<AdminServerStatus[]> {
  const stats = await Promise.all(upstreams.map(deps.readStats));
  return upstreams.map((upstream, i) =>
    adminStatus(upstream, { stats: stats[i], calls: deps.calls, pinning: deps.pinStatus(upstream.name) }),
  );
}

const name = z.object({ name: serverNameParam });
const tag = ['servers'];

/**
 * Servers: status (every user sees the servers their project exposes), logs and the config block
 * (operators), start/stop/restart one or all and reload (operators), and adding, editing and
 * removing a server in mcp-config.json (operators), which the file watcher applies.
 */
export function serversRoutes(deps: ApiDeps) {
  const app = apiApp();
  const statusOf = async (upstream: Upstream): Promise<AdminServerStatus> => (await statusesOf([upstream], deps))[0]!;
  const group = z.object({ group: z.string().optional().openapi({ description: 'only the servers of this group' }) });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/servers',
      tags: tag,
      summary:
        'Every server the caller sees (of a group with ?group=), with state, era, pid, uptime, restarts, CPU, memory, calls and last error',
      request: {
        query: group.extend({ catalog: z.string().optional().openapi({ description: "present: add each server's tool names" }) }),
      },
      responses: { 200: json(z.object({ servers: z.array(adminServerSchema) }), 'the servers'), ...errors() },
    }),
    async (c) => {
      const query = c.req.valid('query');
      return c.json(await listServers(deps, c.get('user'), query.catalog !== undefined, query.group), 200);
    },
  );

  for (const action of CONTROL_ACTIONS) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/servers/${action}-all`,
        tags: tag,
        summary: `${action[0]!.toUpperCase()}${action.slice(1)} every server that is not disabled (of a group with ?group=), in dependency order`,
        request: { query: group },
        responses: {
          200: json(z.object({ action: z.enum(CONTROL_ACTIONS), servers: z.array(adminServerSchema) }), 'done'),
          ...errors(403, 404),
        },
      }),
      async (c) => {
        const user = c.get('user');
        requireOperator(user, `${action} servers`);
        const chosen = (): Upstream[] => inGroup(deps.pool.all(), c.req.valid('query').group);
        // Disabled servers are not part of "all": each one is started by name only.
        const names = chosen()
          .filter((upstream) => upstream.state !== 'disabled')
          .map((upstream) => upstream.name);
        await deps.control.controlMany(names, action);
        recordChange(deps, user, `servers.${action}-all`, { detail: { group: c.req.valid('query').group } });
        return c.json({ action, servers: await statusesOf(chosen(), deps) }, 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/servers/{name}',
      tags: tag,
      summary: 'One server, with its catalog and recent stderr (stderr for operators only)',
      request: { params: name },
      responses: { 200: json(serverDetailSchema, 'the server'), ...errors(404) },
    }),
    async (c) => {
      const user = c.get('user');
      const upstream = visibleUpstream(deps, user, c.req.valid('param').name);
      const { tools, prompts, resources, resourceTemplates } = upstream.catalog;
      return c.json(
        {
          ...(await statusOf(upstream)),
          catalog: { tools, prompts, resources, resourceTemplates } as z.infer<typeof serverDetailSchema>['catalog'],
          stderr: user.operator ? upstream.logs.lines(50) : [],
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/servers/{name}/logs',
      tags: tag,
      summary: "A server's recent stderr lines; with follow, new lines as Server-Sent Events (event `line`)",
      request: {
        params: name,
        query: z.object({
          lines: z.coerce
            .number()
            .int()
            .min(0)
            .optional()
            .openapi({ description: `how many recent lines (default ${DEFAULT_LOG_LINES})` }),
          follow: z.string().optional().openapi({ description: '1, true or empty: keep the stream open' }),
        }),
      },
      responses: {
        200: {
          description: 'the lines, or a stream of them',
          content: {
            'application/json': { schema: z.object({ server: z.string(), lines: z.array(logLineSchema) }) },
            'text/event-stream': { schema: z.string().openapi({ description: 'event: line, data: a LogLine as JSON' }) },
          },
        },
        ...errors(403, 404),
      },
    }),
    (c) => {
      const user = c.get('user');
      const upstream = visibleUpstream(deps, user, c.req.valid('param').name);
      requireOperator(user, "read a server's logs");
      const query = c.req.valid('query');
      const lines = Math.min(query.lines ?? DEFAULT_LOG_LINES, upstream.logs.capacity);
      if (!['1', 'true', ''].includes(query.follow ?? 'no'))
        return c.json({ server: upstream.name, lines: upstream.logs.lines(lines) }, 200);
      return followLogs(deps, upstream, query.lines === undefined ? 0 : lines, c.req.raw.signal);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/servers/{name}/{action}',
      tags: tag,
      summary: 'Start, stop or restart one server; answers when the action has settled',
      request: {
        params: z.object({ name: serverNameParam, action: z.enum(CONTROL_ACTIONS).openapi({ param: { name: 'action', in: 'path' } }) }),
      },
      responses: {
        200: json(z.object({ action: z.enum(CONTROL_ACTIONS), server: adminServerSchema.nullable() }), 'done'),
        ...errors(400, 403, 404),
      },
    }),
    async (c) => {
      const user = c.get('user');
      const { name: server, action } = c.req.valid('param');
      visibleUpstream(deps, user, server);
      requireOperator(user, `${action} servers`);
      await deps.control.control(server, action);
      recordChange(deps, user, `servers.${action}`, { target: server });
      const upstream = deps.pool.get(server);
      return c.json({ action, server: upstream ? await statusOf(upstream) : null }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/reload',
      tags: tag,
      summary: "Read the config file again and apply it; 400 with the file's errors keeps the running config",
      responses: { 200: json(reloadReportSchema, 'what changed'), ...errors(400, 403) },
    }),
    async (c) => c.json(await reload(deps, c.get('user')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/servers/{name}/config',
      tags: tag,
      summary: "A server's entry in the config file, as written, with secrets masked",
      request: { params: name },
      responses: { 200: json(serverConfigSchema, 'the entry'), ...errors(403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      requireOperator(user, "read a server's config");
      return c.json(deps.config.read(c.req.valid('param').name), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/servers',
      tags: tag,
      summary: 'Add a server to the config file; validated as the file is, applied by the file watcher',
      request: { body: body(serverAddSchema) },
      responses: { 201: json(serverChangeSchema, 'written to the config file'), ...errors(400, 403, 409) },
    }),
    async (c) => {
      const user = c.get('user');
      requireOperator(user, 'add servers');
      const { name: server, config, secrets } = c.req.valid('json');
      const change = await deps.config.add(server, config, secrets ?? {});
      recordChange(deps, user, 'servers.add', { target: server, detail: { secrets: Object.keys(secrets ?? {}) } });
      return c.json(change, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/servers/{name}/config',
      tags: tag,
      summary: "Replace a server's entry in the config file; the file watcher restarts it",
      request: { params: name, body: body(serverEditSchema) },
      responses: { 200: json(serverChangeSchema, 'written to the config file'), ...errors(400, 403, 404) },
    }),
    async (c) => {
      const user = c.get('user');
      requireOperator(user, 'edit servers');
      const { config, secrets } = c.req.valid('json');
      const server = c.req.valid('param').name;
      const change = await deps.config.replace(server, config, secrets ?? {});
      recordChange(deps, user, 'servers.edit', { target: server, detail: { secrets: Object.keys(secrets ?? {}) } });
      return c.json(change, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/servers/{name}',
      tags: tag,
      summary: 'Remove a server from the config file; the file watcher stops it',
      request: { params: name },
      responses: { 200: json(serverChangeSchema, 'written to the config file'), ...errors(403, 404) },
    }),
    async (c) => {
      const user = c.get('user');
      requireOperator(user, 'remove servers');
      const server = c.req.valid('param').name;
      const change = await deps.config.remove(server);
      recordChange(deps, user, 'servers.remove', { target: server });
      return c.json(change, 200);
    },
  );

  return app;
}

/** New log lines as events until the client goes away or the server leaves the pool (removed from the config). */
function followLogs(deps: ApiDeps, upstream: Upstream, backlog: number, signal: AbortSignal): Response {
  const stream: EventStream = new EventStream({
    onend: () => {
      unsubscribe();
      deps.pool.off('changed', onChanged);
    },
  });
  const send = (entry: LogLine): void => void stream.event(JSON.stringify(entry), 'line');
  for (const entry of upstream.logs.lines(backlog)) send(entry);
  const unsubscribe = upstream.logs.onLine(send);
  const onChanged = (): void => {
    if (deps.pool.get(upstream.name) !== upstream) stream.end();
  };
  deps.pool.on('changed', onChanged);
  signal.addEventListener('abort', () => stream.end(), { once: true });
  return stream.response();
}
