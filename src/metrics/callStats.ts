import type { RequestObserver } from '../gateway/forward.js';

/**
 * Calls, errors and latency per server over periods, for the metrics history and the dashboard's
 * live figures: fed by the gateway's request observer, read by the daemon's sampler, which closes a
 * period of each resolution when it ends. Latencies are kept in a bounded reservoir per server and
 * period, so a busy server costs the same memory as a quiet one.
 */

export interface PeriodFigures {
  calls: number;
  errors: number;
  /** Null without calls. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface RecentFigures {
  /** Calls over the last minute (the last six 10 s periods). */
  callsPerMinute: number;
  /** Errors among them, 0 to 1; null without calls. */
  errorRate: number | null;
}

export interface CallStats {
  readonly observer: RequestObserver;
  /** The figures of every server with calls since the last close of the period of `seconds`, which starts a new one. */
  close(seconds: number): Map<string, PeriodFigures>;
  /** The last minute of `server`, from the 10 s periods closed so far. */
  recent(server: string): RecentFigures;
  /** Calls per second over the last closed 10 s period, every server together. */
  perSecond(): number;
}

/** Latencies kept per server and period; beyond it, reservoir sampling keeps a uniform sample. */
const RESERVOIR = 1024;
/** Closed 10 s periods kept for the last-minute figures. */
const MINUTE_PERIODS = 6;

interface Accumulator {
  calls: number;
  errors: number;
  latencies: number[];
}

/** The period the last-minute figures are built from, in seconds. */
export const LIVE_PERIOD_SEC = 10;

export function createCallStats(options: { periodsSec: readonly number[]; random?: () => number }): CallStats {
  const random = options.random ?? Math.random;
  const open = new Map<number, Map<string, Accumulator>>(options.periodsSec.map((seconds) => [seconds, new Map()]));
  /** The last closed 10 s periods of each server, newest last. */
  const minute = new Map<string, { calls: number; errors: number }[]>();
  let lastPerSecond = 0;

  const add = (server: string, error: boolean, durationMs: number): void => {
    for (const accumulators of open.values()) {
      let acc = accumulators.get(server);
      if (!acc) {
        acc = { calls: 0, errors: 0, latencies: [] };
        accumulators.set(server, acc);
      }
      acc.calls++;
      if (error) acc.errors++;
      if (acc.latencies.length < RESERVOIR) acc.latencies.push(durationMs);
      else {
        const slot = Math.floor(random() * acc.calls);
        if (slot < RESERVOIR) acc.latencies[slot] = durationMs;
      }
    }
  };

  return {
    observer: {
      requestFinished({ server, method, outcome, durationMs }) {
        // Calls the servers answered; lists and log levels are the gateway's own.
        if (server === undefined || method !== 'tools/call') return;
        add(server, outcome !== 'ok', durationMs);
      },
    },
    close(seconds) {
      const accumulators = open.get(seconds);
      if (!accumulators) throw new Error(`no period of ${seconds} s is kept`);
      open.set(seconds, new Map());
      const figures = new Map<string, PeriodFigures>();
      for (const [server, acc] of accumulators) {
        const sorted = acc.latencies.sort((a, b) => a - b);
        figures.set(server, { calls: acc.calls, errors: acc.errors, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) });
      }
      if (seconds === LIVE_PERIOD_SEC) {
        let total = 0;
        for (const server of new Set([...minute.keys(), ...figures.keys()])) {
          const { calls = 0, errors = 0 } = figures.get(server) ?? {};
          total += calls;
          const periods = [...(minute.get(server) ?? []), { calls, errors }].slice(-MINUTE_PERIODS);
          if (periods.every((p) => p.calls === 0)) minute.delete(server);
          else minute.set(server, periods);
        }
        lastPerSecond = total / LIVE_PERIOD_SEC;
      }
      return figures;
    },
    recent(server) {
      const periods = minute.get(server) ?? [];
      const calls = periods.reduce((sum, p) => sum + p.calls, 0);
      const errors = periods.reduce((sum, p) => sum + p.errors, 0);
      return { callsPerMinute: calls, errorRate: calls === 0 ? null : errors / calls };
    },
    perSecond: () => lastPerSecond,
  };
}

/** The nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[rank]! * 1000) / 1000;
}
