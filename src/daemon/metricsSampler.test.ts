import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { fixtureUpstream } from '../../test/helpers/upstream.js';
import { localPrincipal } from '../auth/policy.js';
import { createLogger } from '../log.js';
import { createCallStats } from '../metrics/callStats.js';
import { createStatsReader } from '../metrics/liveStats.js';
import { UpstreamPool } from '../upstream/pool.js';
import { startMetricsSampler } from './metricsSampler.js';

/** The metrics history with a real child and a real SQLite file; ticks are taken by hand, on a clock of the test's. */
describe('startMetricsSampler', () => {
  const logger = createLogger({ level: 'silent' });
  const pool = new UpstreamPool();
  let temp: TempStore;

  beforeAll(async () => {
    temp = tempStore();
    const upstream = fixtureUpstream('echo', 'echo', { logger });
    pool.add(upstream);
    await upstream.start();
  });

  afterAll(async () => {
    await Promise.all(pool.all().map((upstream) => upstream.close()));
    temp.close();
  });

  it('writes a 10 s row per server with CPU, memory, calls and latency, and a 5 min row when the period ends', async () => {
    let now = Date.UTC(2026, 0, 1, 12, 0, 5);
    const calls = createCallStats({ periodsSec: [10, 300] });
    const sampler = startMetricsSampler({
      pool,
      readStats: createStatsReader(),
      calls,
      metrics: temp.store.metrics,
      logger,
      clock: () => now,
    });
    const heard: number[] = [];
    sampler.on('sampled', (rows) => heard.push(rows.length));
    const caller = { id: 'x', era: null, transport: 'rest', endpoint: 'echo', principal: localPrincipal('default') } as const;
    for (const ms of [2, 4, 6])
      calls.observer.requestFinished({ caller, server: 'echo', method: 'tools/call', name: 'echo', outcome: 'ok', durationMs: ms });
    now += 10_000;
    await sampler.tick();
    const [ten] = temp.store.metrics.query({ resolution: 10, since: 0 });
    expect(ten).toMatchObject({
      server: 'echo',
      resolution: 10,
      at: Date.UTC(2026, 0, 1, 12, 0, 0),
      calls: 3,
      errors: 0,
      p50Ms: 4,
      p95Ms: 6,
    });
    expect(ten!.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(ten!.cpuPercent).not.toBeNull();
    expect(heard).toEqual([1]);
    expect(temp.store.metrics.query({ resolution: 300, since: 0 })).toEqual([]);

    now = Date.UTC(2026, 0, 1, 12, 5, 1);
    await sampler.tick();
    const [five] = temp.store.metrics.query({ resolution: 300, since: 0 });
    expect(five).toMatchObject({ server: 'echo', at: Date.UTC(2026, 0, 1, 12, 0, 0), calls: 3, p50Ms: 4 });
    expect(five!.memoryBytes).toBeGreaterThan(1024 * 1024);
    await sampler.close();
    await sampler.close();
  });

  it('prunes rows past their retention', async () => {
    const old = {
      server: 'gone',
      resolution: 10 as const,
      at: 1000,
      cpuPercent: null,
      memoryBytes: null,
      calls: 0,
      errors: 0,
      p50Ms: null,
      p95Ms: null,
    };
    temp.store.metrics.append([old, { ...old, resolution: 300 }]);
    const sampler = startMetricsSampler({
      pool,
      readStats: createStatsReader(),
      calls: createCallStats({ periodsSec: [10, 300] }),
      metrics: temp.store.metrics,
      logger,
    });
    await sampler.tick();
    await sampler.close();
    expect(temp.store.metrics.query({ resolution: 10, since: 0, server: 'gone' })).toEqual([]);
    expect(temp.store.metrics.query({ resolution: 300, since: 0, server: 'gone' })).toEqual([]);
  });
});
