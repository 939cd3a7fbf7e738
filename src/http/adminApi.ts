import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ConfigDiff } from '../config/diff.js';
import { apiErrorBody, httpStatusOf, OrchError } from '../errors.js';
import { EventStream } from '../eventStream.js';
import { allGroups, groupsOf } from '../config/fleet.js';
import { unknownServer } from '../gateway/view.js';
import type { PinStatus } from '../pinning/guard.js';
import type { StatsReader } from '../metrics/liveStats.js';
import type { Stats, Transition } from '../supervisor/lifecycle.js';
import type { LogLine } from '../supervisor/logBuffer.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { serverStatus, type ServerStatus } from '../upstream/status.js';
import type { Upstream } from '../upstream/upstream.js';

export type ControlAction = 'start' | 'stop' | 'restart';
export const CONTROL_ACTIONS: readonly ControlAction[] = ['start', 'stop', 'restart'];

/** A config reload as the API reports it: what changed, and which settings wait for a daemon restart. */
export type ReloadReport = Pick<ConfigDiff, 'added' | 'removed' | 'changed' | 'unchanged' | 'updated' | 'restartRequired'> & {
  file: string;
};

/** What the admin API asks of the daemon; the composition root supplies it. */
export interface AdminControl {
  /** Starts, stops or restarts one server of the pool; resolves when the action has settled. */
  control(name: string, action: ControlAction): Promise<void>;
  /** The same for several, in dependency order (dependents stop first). */
  controlMany(names: readonly string[], action: ControlAction): Promise<void>;
  /** Re-reads the config file; rejects with the config error (and keeps the running config) when it is invalid. */
  reloadFromFile(): Promise<ReloadReport>;
}

export interface AdminApiDeps {
  pool: UpstreamPool;
  control: AdminControl;
  /** Fresh CPU/memory per server; without it, the lifecycle's last sample. */
  readStats?: StatsReader;
  /** Each server's tools whose definition changed since approved, and those withheld for it. */
  pinStatus?: (server: string) => PinStatus;
}

/** A server's status for the admin API and `mcp-orch status`: the public status plus supervision figures. */
export interface AdminServerStatus extends ServerStatus {
  uptimeSec: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  lastError: string | null;
  history: Transition[];
  /** Definition pinning: tools whose definition changed since approved, and those withheld for it. */
  pinning: PinStatus;
}

const HISTORY_SHOWN = 10;
const DEFAULT_LOG_LINES = 100;

/** A server's admin status; `stats` (a fresher sample) replaces the lifecycle's last one when given. */
export function adminStatus(
  upstream: Upstream,
  stats: Stats | undefined = upstream.lifecycle.stats,
  pinning: PinStatus = { changed: [], held: [] },
  now = Date.now(),
): AdminServerStatus {
  const { lifecycle } = upstream;
  const { startedAt } = lifecycle;
  return {
    ...serverStatus(upstream),
    uptimeSec: startedAt === undefined ? null : Math.max(0, Math.round((now - startedAt) / 1000)),
    restarts: lifecycle.restarts,
    cpuPercent: stats?.cpuPercent ?? null,
    memoryBytes: stats?.memoryBytes ?? null,
    lastError: lifecycle.lastError ?? null,
    history: lifecycle.history.slice(-HISTORY_SHOWN),
    pinning,
  };
}

function toolList(upstream: Upstream): { name: string; description?: string }[] {
  return upstream.catalog.tools.map(({ name, description }) => (description === undefined ? { name } : { name, description }));
}

/** Every error of the admin API, in its one JSON shape with the status of the one mapping. */
function failure(c: Context, error: unknown): Response {
  return c.json(apiErrorBody(error), httpStatusOf(error) as ContentfulStatusCode);
}

function parseLines(raw: string | undefined, capacity: number): number {
  const n = raw === undefined ? DEFAULT_LOG_LINES : Number.parseInt(raw, 10);
  return Number.isFinite(n) ? Math.max(0, Math.min(n, capacity)) : DEFAULT_LOG_LINES;
}

/**
 * The admin REST API under /api (mount it behind adminAuth): server status, logs (also followed as
 * Server-Sent Events), start/stop/restart of one server or all, and config reload.
 */
export function createAdminApi(deps: AdminApiDeps): Hono {
  const api = new Hono();
  const { pool, control } = deps;
  const readStats: StatsReader = deps.readStats ?? (async (upstream) => upstream.lifecycle.stats);
  const statusOf = async (upstream: Upstream): Promise<AdminServerStatus> =>
    adminStatus(upstream, await readStats(upstream), deps.pinStatus?.(upstream.name));
  /** The pool's servers, or those of `?group=`. */
  const chosen = (c: Context): Upstream[] => inGroup(pool.all(), c.req.query('group'));

  api.get('/servers', async (c) => {
    try {
      const withTools = c.req.query('catalog') !== undefined;
      const servers = await Promise.all(
        chosen(c).map(async (upstream) => ({ ...(await statusOf(upstream)), ...(withTools ? { toolList: toolList(upstream) } : {}) })),
      );
      return c.json({ servers });
    } catch (error) {
      return failure(c, error);
    }
  });

  for (const action of CONTROL_ACTIONS) {
    api.post(`/servers/${action}-all`, async (c) => {
      try {
        // Disabled servers are not part of "all": each one is started by name only.
        const servers = chosen(c).filter((upstream) => upstream.state !== 'disabled');
        await control.controlMany(
          servers.map((upstream) => upstream.name),
          action,
        );
        return c.json({ action, servers: await Promise.all(chosen(c).map(statusOf)) });
      } catch (error) {
        return failure(c, error);
      }
    });
  }

  api.get('/servers/:name', async (c) => {
    const upstream = pool.get(c.req.param('name'));
    if (!upstream) return failure(c, unknownServer(c.req.param('name'), pool.names()));
    return c.json({ ...(await statusOf(upstream)), catalog: upstream.catalog, stderr: upstream.logs.lines(50) });
  });

  api.get('/servers/:name/logs', (c) => {
    const upstream = pool.get(c.req.param('name'));
    if (!upstream) return failure(c, unknownServer(c.req.param('name'), pool.names()));
    const follow = ['1', 'true', ''].includes(c.req.query('follow') ?? 'no');
    const lines = parseLines(c.req.query('lines'), upstream.logs.capacity);
    if (!follow) return c.json({ server: upstream.name, lines: upstream.logs.lines(lines) });
    // Until the client goes away, or the server leaves the pool (removed from the config).
    const stream: EventStream = new EventStream({
      onend: () => {
        unsubscribe();
        pool.off('changed', onChanged);
      },
    });
    const send = (entry: LogLine): void => void stream.event(JSON.stringify(entry), 'line');
    for (const entry of upstream.logs.lines(c.req.query('lines') === undefined ? 0 : lines)) send(entry);
    const unsubscribe = upstream.logs.onLine(send);
    const onChanged = (): void => {
      if (pool.get(upstream.name) !== upstream) stream.end();
    };
    pool.on('changed', onChanged);
    c.req.raw.signal.addEventListener('abort', () => stream.end(), { once: true });
    return stream.response();
  });

  api.post('/servers/:name/:action', async (c) => {
    const { name, action } = c.req.param();
    if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
      return failure(c, new OrchError('UNKNOWN_ROUTE', `unknown action "${action}"`, { hint: `use one of ${CONTROL_ACTIONS.join(', ')}` }));
    }
    if (!pool.get(name)) return failure(c, unknownServer(name, pool.names()));
    try {
      await control.control(name, action as ControlAction);
      const upstream = pool.get(name);
      return c.json({ action, server: upstream ? await statusOf(upstream) : null });
    } catch (error) {
      return failure(c, error);
    }
  });

  api.post('/reload', async (c) => {
    try {
      return c.json(await control.reloadFromFile());
    } catch (error) {
      return failure(c, error);
    }
  });

  return api;
}

/** The servers of `group` (all without one); a group no server is in is NOT_FOUND naming the groups there are. */
function inGroup(upstreams: Upstream[], group: string | undefined): Upstream[] {
  if (group === undefined || group === '') return upstreams;
  const members = upstreams.filter((upstream) => groupsOf(upstream.config).includes(group));
  if (members.length > 0) return members;
  const groups = allGroups(Object.fromEntries(upstreams.map((upstream) => [upstream.name, upstream.config])));
  throw new OrchError('NOT_FOUND', `no server is in group "${group}"`, {
    hint: groups.length ? `groups: ${groups.join(', ')}` : 'no server has a "group" in the config',
    data: { group, groups },
  });
}
