import { describe, expect, it } from 'vitest';
import type { Stats } from '../supervisor/lifecycle.js';
import type { Upstream } from '../upstream/upstream.js';
import { createStatsReader } from './liveStats.js';

function fakeUpstream(pid: number | undefined, stats?: Stats): Upstream {
  return { pid, lifecycle: { stats } } as unknown as Upstream;
}

describe('createStatsReader', () => {
  it("uses the lifecycle's sample while it is fresh, samples otherwise, and shares a sample within maxAge", async () => {
    let now = 10_000;
    const sampled: number[] = [];
    const read = createStatsReader({
      now: () => now,
      maxAgeMs: 1000,
      sample: async (pid) => {
        sampled.push(pid);
        return { cpuPercent: 5, memoryBytes: 42, pids: [pid] };
      },
    });
    const fresh = { cpuPercent: 1, memoryBytes: 2, sampledAt: now - 500 };
    expect(await read(fakeUpstream(7, fresh))).toBe(fresh);
    expect(sampled).toEqual([]);

    const stale = { cpuPercent: 1, memoryBytes: 2, sampledAt: now - 5000 };
    expect(await read(fakeUpstream(7, stale))).toEqual({ cpuPercent: 5, memoryBytes: 42, sampledAt: now });
    expect(await read(fakeUpstream(7, undefined))).toMatchObject({ memoryBytes: 42 });
    expect(sampled).toEqual([7]);
    now += 1000;
    await read(fakeUpstream(7, undefined));
    expect(sampled).toEqual([7, 7]);
  });

  it('has nothing for a server without a process, and keeps the old sample when sampling fails', async () => {
    const read = createStatsReader({ sample: async () => undefined });
    expect(await read(fakeUpstream(undefined, undefined))).toBeUndefined();
    const old = { cpuPercent: 1, memoryBytes: 2, sampledAt: 0 };
    expect(await read(fakeUpstream(9, old))).toBe(old);
    const failing = createStatsReader({ sample: () => Promise.reject(new Error('gone')) });
    expect(await failing(fakeUpstream(9, undefined))).toBeUndefined();
  });
});
