import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ConfigDiff } from '../config/diff.js';
import { httpStatusOf, isOrchError } from '../errors.js';
import type { StatsReader } from '../metrics/liveStats.js';
import type { Stats, Transition } from '../supervisor/lifecycle.js';
import type { LogLine } from '../supervisor/logBuffer.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { serverStatus, type ServerStatus } from '../upstream/status.js';
import type { Upstream } from '../upstream/upstream.js';

export type ControlAction = 'start' | 'stop' | 'restart';
export const CONTROL_ACTIONS: readonly ControlAction[] = ['start', 'stop', 'restart'];

/** A config reload as the API reports it: what changed, and which settings wait for a daemon restart. */
export type ReloadReport = Pick<ConfigDiff, 'added' | 'removed' | 'changed' | 'unchanged' | 'restartRequired'> & { file: string };

/** What the admin API asks of the daemon; the composition root supplies it. */
export interface AdminControl {
  /** Starts, stops or restarts one server of the pool; resolves when the action has settled. */
  control(name: string, action: ControlAction): Promise<void>;
  /** Re-reads the config file; rejects with the config error (and keeps the running config) when it is invalid. */
  reloadFromFile(): Promise<ReloadReport>;
}

export interface AdminApiDeps {
  pool: UpstreamPool;
  control: AdminControl;
  /** Fresh CPU/memory per server; without it, the lifecycle's last sample. */
  readStats?: StatsReader;
}

/** A server's status for the admin API and `mcp-orch status`: the public status plus supervision figures. */
export interface AdminServerStatus extends ServerStatus {
  uptimeSec: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  lastError: string | null;
  history: Transition[];
}

const HISTORY_SHOWN = 10;
const DEFAULT_LOG_LINES = 100;
const KEEPALIVE_MS = 15_000;

/** A server's admin status; `stats` (a fresher sample) replaces the lifecycle's last one when given. */
export function adminStatus(upstream: Upstream, stats: Stats | undefined = upstream.lifecycle.stats, now = Date.now()): AdminServerStatus {
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
  };
}

function toolList(upstream: Upstream): { name: string; description?: string }[] {
  return upstream.catalog.tools.map(({ name, description }) => (description === undefined ? { name } : { name, description }));
}

function unknownServer(c: Context, name: string, known: string[]): Response {
  return c.json(
    { error: `unknown server "${name}"`, hint: known.length ? `configured servers: ${known.join(', ')}` : 'no servers are configured' },
    404,
  );
}

function failure(c: Context, error: unknown): Response {
  if (isOrchError(error)) {
    return c.json({ error: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}) }, httpStatusOf(error) as 400);
  }
  return c.json({ error: error instanceof Error ? error.message : String(error), code: 'INTERNAL' }, 500);
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
  const statusOf = async (upstream: Upstream): Promise<AdminServerStatus> => adminStatus(upstream, await readStats(upstream));
  const statusOfAll = (): Promise<AdminServerStatus[]> => Promise.all(pool.all().map(statusOf));

  api.get('/servers', async (c) => {
    const withTools = c.req.query('catalog') !== undefined;
    const servers = await Promise.all(
      pool.all().map(async (upstream) => ({ ...(await statusOf(upstream)), ...(withTools ? { toolList: toolList(upstream) } : {}) })),
    );
    return c.json({ servers });
  });

  for (const action of CONTROL_ACTIONS) {
    api.post(`/servers/${action}-all`, async (c) => {
      try {
        await Promise.all(pool.names().map((name) => control.control(name, action)));
        return c.json({ action, servers: await statusOfAll() });
      } catch (error) {
        return failure(c, error);
      }
    });
  }

  api.get('/servers/:name', async (c) => {
    const upstream = pool.get(c.req.param('name'));
    if (!upstream) return unknownServer(c, c.req.param('name'), pool.names());
    return c.json({ ...(await statusOf(upstream)), catalog: upstream.catalog, stderr: upstream.logs.lines(50) });
  });

  api.get('/servers/:name/logs', (c) => {
    const upstream = pool.get(c.req.param('name'));
    if (!upstream) return unknownServer(c, c.req.param('name'), pool.names());
    const follow = ['1', 'true', ''].includes(c.req.query('follow') ?? 'no');
    const lines = parseLines(c.req.query('lines'), upstream.logs.capacity);
    if (!follow) return c.json({ server: upstream.name, lines: upstream.logs.lines(lines) });
    return streamSSE(c, async (stream) => {
      let chain = Promise.resolve();
      const send = (entry: LogLine): void => {
        chain = chain.then(() => stream.writeSSE({ event: 'line', data: JSON.stringify(entry) })).catch(() => undefined);
      };
      for (const entry of upstream.logs.lines(c.req.query('lines') === undefined ? 0 : lines)) send(entry);
      const unsubscribe = upstream.logs.onLine(send);
      const keepalive = setInterval(() => {
        chain = chain
          .then(() => stream.write(': keepalive\n\n'))
          .then(
            () => undefined,
            () => undefined,
          );
      }, KEEPALIVE_MS);
      // Until the client goes away, or the server leaves the pool (removed from the config).
      let onChanged = (): void => undefined;
      await new Promise<void>((resolve) => {
        onChanged = () => {
          if (pool.get(upstream.name) !== upstream) resolve();
        };
        pool.on('changed', onChanged);
        if (stream.aborted) resolve();
        stream.onAbort(resolve);
      });
      pool.off('changed', onChanged);
      clearInterval(keepalive);
      unsubscribe();
      await chain;
    });
  });

  api.post('/servers/:name/:action', async (c) => {
    const { name, action } = c.req.param();
    if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
      return c.json({ error: `unknown action "${action}"`, hint: `use one of ${CONTROL_ACTIONS.join(', ')}` }, 404);
    }
    if (!pool.get(name)) return unknownServer(c, name, pool.names());
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
