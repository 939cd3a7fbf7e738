import type { RepoContext } from './repo.js';

/**
 * The metrics history: one row per server and period, at two resolutions (10 s rows for a day,
 * 5 min rows for 30 days; the daemon's sampler writes both and prunes). Plain numbers by server name.
 */

export const RESOLUTIONS = [10, 300] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface MetricSample {
  server: string;
  /** Seconds the sample covers. */
  resolution: Resolution;
  /** Start of the period, milliseconds since the epoch. */
  at: number;
  /** Null when the server had no process to sample (stopped, remote). */
  cpuPercent: number | null;
  memoryBytes: number | null;
  calls: number;
  errors: number;
  /** Null without calls in the period. */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface MetricsQuery {
  resolution: Resolution;
  /** One server; all when absent. */
  server?: string | undefined;
  since: number;
  until?: number | undefined;
}

export interface MetricsRepo {
  /** All rows in one transaction; a row for a period already written replaces it. */
  append(samples: readonly MetricSample[]): void;
  /** Oldest first. */
  query(query: MetricsQuery): MetricSample[];
  /** Deletes rows of `resolution` older than `before`; returns how many. */
  prune(resolution: Resolution, before: number): number;
}

export function createMetricsRepo({ db }: RepoContext): MetricsRepo {
  const insert = db.prepare(
    `INSERT OR REPLACE INTO metric_samples (server, resolution, at, cpu_percent, memory_bytes, calls, errors, p50_ms, p95_ms)
     VALUES (@server, @resolution, @at, @cpuPercent, @memoryBytes, @calls, @errors, @p50Ms, @p95Ms)`,
  );
  const select = db.prepare<{ resolution: number; server: string | null; since: number; until: number | null }, MetricSample>(
    `SELECT server, resolution, at, cpu_percent AS cpuPercent, memory_bytes AS memoryBytes, calls, errors, p50_ms AS p50Ms, p95_ms AS p95Ms
     FROM metric_samples
     WHERE resolution = @resolution AND (@server IS NULL OR server = @server) AND at >= @since AND (@until IS NULL OR at < @until)
     ORDER BY at, server`,
  );
  const prune = db.prepare('DELETE FROM metric_samples WHERE resolution = ? AND at < ?');
  const appendAll = db.transaction((samples: readonly MetricSample[]) => {
    for (const sample of samples) insert.run(sample);
  });
  return {
    append(samples) {
      if (samples.length > 0) appendAll.immediate(samples);
    },
    query: ({ resolution, server, since, until }) => select.all({ resolution, server: server ?? null, since, until: until ?? null }),
    prune: (resolution, before) => prune.run(resolution, before).changes,
  };
}
