import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { CallStats, PeriodFigures } from '../metrics/callStats.js';
import type { StatsReader } from '../metrics/liveStats.js';
import type { MetricSample, MetricsRepo, Resolution } from '../store/metrics.js';
import type { UpstreamPool } from '../upstream/pool.js';

/** Resolutions kept and for how long: 10 s rows for a day, 5 min rows for 30 days. */
export const RETENTION_MS: Record<Resolution, number> = { 10: 86_400_000, 300: 30 * 86_400_000 };
const PRUNE_EVERY_MS = 3_600_000;

export interface MetricsSamplerOptions {
  pool: UpstreamPool;
  readStats: StatsReader;
  calls: CallStats;
  metrics: Pick<MetricsRepo, 'append' | 'prune'>;
  logger: Logger;
  clock?: () => number;
  /** The finest resolution, in milliseconds; tests shorten it. Default 10 s. */
  intervalMs?: number;
}

export interface MetricsSampler {
  /** Hears each 10 s sample of every server, once written (the dashboard's live figures). */
  on(event: 'sampled', listener: (samples: MetricSample[]) => void): void;
  off(event: 'sampled', listener: (samples: MetricSample[]) => void): void;
  /** Takes one 10 s sample now (the timer's work). */
  tick(): Promise<void>;
  /** Stops the timer and writes the 5 min period so far. Idempotent. */
  close(): Promise<void>;
}

interface Window {
  cpu: number[];
  memory: number[];
}

const average = (values: number[]): number | null =>
  values.length === 0 ? null : Math.round((values.reduce((sum, v) => sum + v, 0) / values.length) * 100) / 100;

/**
 * The metrics history: every 10 s, each server's CPU and memory (a fresh sample) and its calls,
 * errors and latency p50/p95 since the last tick go to SQLite as a 10 s row; every 5 minutes the
 * same figures over those 5 minutes (CPU and memory averaged) as a 5 min row. Rows past their
 * retention are pruned hourly. A timer of the daemon's, stopped at close.
 */
export function startMetricsSampler(options: MetricsSamplerOptions): MetricsSampler {
  const { pool, readStats, calls, metrics } = options;
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 10_000;
  const log = options.logger.child({ component: 'metrics-history' });
  const events = new EventEmitter<{ sampled: [MetricSample[]] }>();
  const windows = new Map<string, Window>();
  let periodStart = Math.floor(clock() / 300_000) * 300_000;
  let lastPrune = 0;
  let running: Promise<void> | undefined;
  let closed = false;

  const row = (
    server: string,
    resolution: Resolution,
    at: number,
    cpu: number | null,
    memory: number | null,
    figures?: PeriodFigures,
  ): MetricSample => ({
    server,
    resolution,
    at,
    cpuPercent: cpu,
    memoryBytes: memory === null ? null : Math.round(memory),
    calls: figures?.calls ?? 0,
    errors: figures?.errors ?? 0,
    p50Ms: figures?.p50Ms ?? null,
    p95Ms: figures?.p95Ms ?? null,
  });

  /** The 5 min rows of the period that began at `start`. */
  const closePeriod = (start: number): MetricSample[] => {
    const figures = calls.close(300);
    const servers = new Set([...windows.keys(), ...figures.keys()]);
    const rows = [...servers].map((server) => {
      const window = windows.get(server);
      return row(server, 300, start, average(window?.cpu ?? []), average(window?.memory ?? []), figures.get(server));
    });
    windows.clear();
    return rows;
  };

  const write = (rows: MetricSample[]): boolean => {
    try {
      metrics.append(rows);
      return true;
    } catch (error) {
      log.warn({ err: (error as Error).message, rows: rows.length }, 'metrics history not written');
      return false;
    }
  };

  const sample = async (): Promise<void> => {
    const now = clock();
    const at = Math.floor(now / intervalMs) * intervalMs - intervalMs;
    const upstreams = pool.all();
    const stats = await Promise.all(upstreams.map(readStats));
    const figures = calls.close(10);
    const rows = upstreams.map((upstream, i) => {
      const s = upstream.pid === undefined ? undefined : stats[i];
      const window = windows.get(upstream.name) ?? { cpu: [], memory: [] };
      windows.set(upstream.name, window);
      if (s) {
        window.cpu.push(s.cpuPercent);
        window.memory.push(s.memoryBytes);
      }
      return row(upstream.name, 10, at, s?.cpuPercent ?? null, s?.memoryBytes ?? null, figures.get(upstream.name));
    });
    const period = Math.floor(now / 300_000) * 300_000;
    const slow = period !== periodStart ? closePeriod(periodStart) : [];
    periodStart = period;
    if (write([...rows, ...slow])) events.emit('sampled', rows);
    if (now - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = now;
      try {
        for (const resolution of [10, 300] as const) metrics.prune(resolution, now - RETENTION_MS[resolution]);
      } catch (error) {
        log.warn({ err: (error as Error).message }, 'metrics history not pruned');
      }
    }
  };

  const tick = (): Promise<void> => {
    running ??= sample().finally(() => {
      running = undefined;
    });
    return running;
  };

  // Aligned to the wall clock, so that rows of every server share their timestamps.
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => void tick().finally(schedule), intervalMs - (clock() % intervalMs));
    timer.unref();
  };
  schedule();

  let closing: Promise<void> | undefined;
  return {
    on: (event, listener) => void events.on(event, listener),
    off: (event, listener) => void events.off(event, listener),
    tick,
    close() {
      closing ??= (async () => {
        closed = true;
        clearTimeout(timer);
        await running;
        write(closePeriod(periodStart));
      })();
      return closing;
    },
  };
}
