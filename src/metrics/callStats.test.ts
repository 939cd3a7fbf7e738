import { describe, expect, it } from 'vitest';
import type { RequestRecord } from '../gateway/forward.js';
import { localPrincipal } from '../auth/policy.js';
import { createCallStats, percentile } from './callStats.js';

const caller = { id: 'c', era: null, transport: 'rest', endpoint: 'a', principal: localPrincipal('default') } as const;
const call = (
  server: string | undefined,
  durationMs: number,
  outcome: RequestRecord['outcome'] = 'ok',
  method = 'tools/call',
): RequestRecord => ({
  caller,
  server,
  method,
  name: 't',
  outcome,
  durationMs,
});

describe('createCallStats', () => {
  it('sums calls and errors and takes latency percentiles per server and period; each period closes on its own', () => {
    const stats = createCallStats({ periodsSec: [10, 300] });
    for (let i = 1; i <= 20; i++) stats.observer.requestFinished(call('a', i, i % 5 === 0 ? 'error' : 'ok'));
    stats.observer.requestFinished(call('b', 7));
    stats.observer.requestFinished(call(undefined, 1, 'ok', 'tools/list'));
    stats.observer.requestFinished(call('a', 1, 'ok', 'resources/read'));
    const ten = stats.close(10);
    expect(ten.get('a')).toEqual({ calls: 20, errors: 4, p50Ms: 10, p95Ms: 19 });
    expect(ten.get('b')).toEqual({ calls: 1, errors: 0, p50Ms: 7, p95Ms: 7 });
    expect(stats.close(10).size).toBe(0);
    expect(stats.close(300).get('a')?.calls).toBe(20);
  });

  it('gives the last minute of a server and the calls per second of the last 10 s period', () => {
    const stats = createCallStats({ periodsSec: [10] });
    for (let period = 0; period < 8; period++) {
      stats.observer.requestFinished(call('a', 1));
      if (period === 7) stats.observer.requestFinished(call('a', 1, 'error'));
      stats.close(10);
    }
    expect(stats.recent('a')).toEqual({ callsPerMinute: 7, errorRate: 1 / 7 });
    expect(stats.perSecond()).toBe(0.2);
    expect(stats.recent('none')).toEqual({ callsPerMinute: 0, errorRate: null });
  });

  it('keeps a bounded sample of latencies, however many calls come', () => {
    const stats = createCallStats({ periodsSec: [10], random: () => 0.999 });
    for (let i = 0; i < 5000; i++) stats.observer.requestFinished(call('a', i < 1024 ? 1 : 100));
    // Every later call lands past the reservoir: the first 1024 are what the percentiles see.
    expect(stats.close(10).get('a')).toEqual({ calls: 5000, errors: 0, p50Ms: 1, p95Ms: 1 });
  });
});

describe('percentile', () => {
  it('is the nearest rank, null for no values', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
  });
});
