import type { Stats } from '../supervisor/lifecycle.js';
import { sampleProcessTree, type TreeSample } from '../supervisor/stats.js';
import type { Upstream } from '../upstream/upstream.js';

export type StatsReader = (upstream: Upstream) => Promise<Stats | undefined>;

export interface StatsReaderOptions {
  sample?: (pid: number) => Promise<TreeSample | undefined>;
  /** A sample younger than this is good enough (the lifecycle's own, or one taken here). */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * CPU and memory of a server's process tree for status and metrics, no older than `maxAgeMs`: the
 * lifecycle samples only at its health interval (10 s by default, or never), which is too stale
 * for `mcp-orch monitor` redrawing every second. Samples taken here are shared by callers within
 * maxAgeMs, so a status poll and a scrape at once read /proc once.
 */
export function createStatsReader(options: StatsReaderOptions = {}): StatsReader {
  const sample = options.sample ?? sampleProcessTree;
  const maxAgeMs = options.maxAgeMs ?? 1000;
  const now = options.now ?? Date.now;
  const taken = new Map<number, { at: number; stats: Promise<Stats | undefined> }>();

  return async (upstream) => {
    const pid = upstream.pid;
    if (pid === undefined) return undefined;
    const recorded = upstream.lifecycle.stats;
    const at = now();
    if (recorded && at - recorded.sampledAt < maxAgeMs) return recorded;
    let entry = taken.get(pid);
    if (!entry || at - entry.at >= maxAgeMs) {
      for (const [old, e] of taken) if (at - e.at >= maxAgeMs) taken.delete(old);
      const stats = sample(pid).then(
        (s) => (s ? { cpuPercent: s.cpuPercent, memoryBytes: s.memoryBytes, sampledAt: now() } : undefined),
        () => undefined,
      );
      entry = { at, stats };
      taken.set(pid, entry);
    }
    return (await entry.stats) ?? recorded;
  };
}
