import { describe, expect, it, vi } from 'vitest';
import { delays, fail, lifecycleFixture, MB, path, policy, sampleOf } from '../../test/helpers/lifecycle.js';
import type { TreeSample } from './stats.js';

/** Requests that race earlier attempts, and the CPU and memory limits of a run. */

const fixture = lifecycleFixture();
const { create } = fixture;

describe('Lifecycle: late results of an earlier attempt', () => {
  it('ignores a start that fails after a stop', async () => {
    let rejectStart!: (error: Error) => void;
    fixture.unit.onStart = () => new Promise<void>((_resolve, reject) => (rejectStart = reject));
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    const starting = lifecycle.start();
    await lifecycle.stop();
    rejectStart(new Error('too late'));
    await starting;
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('stopped');
    expect(lifecycle.lastError).toBeUndefined();
    expect(fixture.unit.starts).toBe(1);
  });

  it('ignores a start that completes after a stop and a new start, and shares the new one', async () => {
    const release: Array<() => void> = [];
    fixture.unit.onStart = () => new Promise<void>((resolve) => release.push(resolve));
    const lifecycle = create();
    const first = lifecycle.start('first');
    await lifecycle.stop();
    const second = lifecycle.start('second');
    release[0]!();
    await first;
    expect(lifecycle.state).toBe('starting');
    expect(lifecycle.start()).toBe(second);
    expect(fixture.unit.starts).toBe(2);
    release[1]!();
    await second;
    expect(lifecycle.state).toBe('running');
  });

  it('ignores a start that fails while a newer one is under way', async () => {
    const settle: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
    fixture.unit.onStart = () => new Promise<void>((resolve, reject) => settle.push({ resolve, reject }));
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    void lifecycle.start();
    await lifecycle.stop();
    const second = lifecycle.start('second');
    settle[0]!.reject(new Error('too late'));
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.state).toBe('starting');
    expect(lifecycle.lastError).toBeUndefined();
    settle[1]!.resolve();
    await second;
    expect(lifecycle.state).toBe('running');
  });

  it('ignores a start that completes after a failure already scheduled its restart', async () => {
    const settle: Array<() => void> = [];
    fixture.unit.onStart = () => new Promise<void>((resolve) => settle.push(resolve));
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    void lifecycle.start();
    await lifecycle.failed('exited during start');
    await vi.advanceTimersByTimeAsync(10); // the restart begins a second start
    expect(settle).toHaveLength(2);
    settle[0]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.state).toBe('starting');
    settle[1]!();
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.state).toBe('running');
  });

  it('records a new start while the failure of the previous one is still being handled', async () => {
    fixture.unit.onStart = () => new Promise<void>(() => {});
    const lifecycle = create();
    void lifecycle.start();
    let releaseStop!: () => void;
    fixture.unit.onStop = () => new Promise<void>((resolve) => (releaseStop = resolve));
    const failing = lifecycle.failed('exited during start');
    fixture.unit.onStart = () => Promise.resolve();
    const again = lifecycle.start('start again');
    fixture.unit.onStop = () => Promise.resolve();
    releaseStop();
    await Promise.all([failing, again]);
    expect(lifecycle.history.map(({ to, cause }) => [to, cause])).toEqual([
      ['starting', 'start requested'],
      ['starting', 'start again'],
      ['running', 'started'],
    ]);
  });

  it('ignores a ping that fails after a stop', async () => {
    let rejectPing!: (error: Error) => void;
    const lifecycle = create({ restart: 'always', health: { intervalSec: 1, failureThreshold: 1 } }, { sample: sampleOf(1, 1) });
    await lifecycle.start();
    fixture.unit.onPing = () => new Promise<void>((_resolve, reject) => (rejectPing = reject));
    await vi.advanceTimersByTimeAsync(1000);
    await lifecycle.stop();
    rejectPing(new Error('no pong'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('stopped');
    expect(fixture.unit.starts).toBe(1);
  });
});

describe('Lifecycle: start, stop and restart requests', () => {
  it('names the cause of a stop or restart nobody explained', async () => {
    const lifecycle = create();
    await lifecycle.start();
    await lifecycle.restart();
    await lifecycle.stop();
    expect(lifecycle.history.map((t) => t.cause)).toEqual([
      'start requested',
      'started',
      'restart requested',
      'restart requested',
      'restart requested',
      'started',
      'stop requested',
      'stop requested',
    ]);
  });

  it('stop() of a disabled server leaves the unit alone', async () => {
    const lifecycle = create();
    await lifecycle.start();
    await lifecycle.stop('disable requested', 'disabled');
    await lifecycle.stop('disable requested', 'disabled');
    await lifecycle.stop();
    expect(fixture.unit.stops).toBe(1);
    expect(path(lifecycle)).toEqual(['starting', 'running', 'stopping', 'disabled', 'stopped']);
  });

  it('start() while running or unhealthy does nothing', async () => {
    let release!: () => void;
    const lifecycle = create({ health: { intervalSec: 1, failureThreshold: 1 } }, { sample: sampleOf(1, 1) });
    await lifecycle.start();
    await lifecycle.start();
    fixture.unit.onPing = fail('no pong');
    fixture.unit.onStop = () => new Promise<void>((resolve) => (release = resolve));
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('unhealthy');
    await lifecycle.start();
    expect(fixture.unit.starts).toBe(1);
    fixture.unit.onStop = () => Promise.resolve();
    release();
  });

  it('stop() of a crashed server records stopped without stopping the fixture.unit again', async () => {
    const lifecycle = create({ restart: 'never' });
    await lifecycle.start();
    await lifecycle.failed('crash');
    expect(fixture.unit.stops).toBe(1);
    await lifecycle.stop();
    await lifecycle.stop();
    expect(fixture.unit.stops).toBe(1);
    expect(lifecycle.history.slice(-2).map(({ from, to }) => [from, to])).toEqual([
      ['running', 'crashed'],
      ['crashed', 'stopped'],
    ]);
  });

  it('restart() of a server already stopped on the way to a restart only starts it', async () => {
    const lifecycle = create();
    await lifecycle.start();
    await lifecycle.stop('group restart', 'restarting');
    await lifecycle.restart('group restart');
    expect(path(lifecycle)).toEqual(['starting', 'running', 'stopping', 'restarting', 'starting', 'running']);
    expect(fixture.unit.stops).toBe(1);
    expect(lifecycle.restarts).toBe(1);
  });

  it('a restart request starts counting health failures afresh', async () => {
    const health = { intervalSec: 1, failureThreshold: 2 };
    const lifecycle = create({ health }, { sample: sampleOf(1, 1) });
    await lifecycle.start();
    fixture.unit.onPing = fail('no pong');
    await vi.advanceTimersByTimeAsync(1000);
    await lifecycle.restart('config changed');
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('restarting');
  });

  it('a restart request starts the backoff series afresh', async () => {
    const lifecycle = create({ stableSec: 5, maxRestarts: 100, backoff: { initialMs: 100, maxMs: 10_000 } });
    await lifecycle.start();
    await lifecycle.failed('crash 1');
    await vi.advanceTimersByTimeAsync(100);
    await lifecycle.failed('crash 2');
    await vi.advanceTimersByTimeAsync(200);
    await lifecycle.restart('manual');
    await lifecycle.failed('crash 3');
    expect(delays(lifecycle)).toEqual([100, 200, 100]);
  });

  it('updatePolicy applies to the next check and the next failure', async () => {
    const lifecycle = create({ restart: 'always', health: { intervalSec: 1 } }, { sample: sampleOf(1, 1) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.pings).toHaveLength(1);
    lifecycle.updatePolicy(policy({ restart: 'never', health: { intervalSec: 5 } }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.pings).toHaveLength(2); // scheduled under the old policy
    await vi.advanceTimersByTimeAsync(4999);
    expect(fixture.unit.pings).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(fixture.unit.pings).toHaveLength(3);
    await lifecycle.failed('crash');
    expect(lifecycle.state).toBe('crashed');
  });
});

describe('Lifecycle: CPU and memory crossings', () => {
  const health = { intervalSec: 1, timeoutSec: 1, failureThreshold: 3 };

  /** A sampler that returns the next of `samples` (cpu %, memory MB) on each call, then the last. */
  const series = (samples: Array<[number, number]>) => {
    let i = 0;
    return async (pid: number): Promise<TreeSample> => {
      const [cpu, mb] = samples[Math.min(i++, samples.length - 1)]!;
      return sampleOf(cpu, mb)(pid);
    };
  };

  it('emits threshold once per crossing, again after the value came back under the limit', async () => {
    const lifecycle = create(
      { health, maxCpuPercent: 50, maxMemoryMb: 100 },
      {
        sample: series([
          [10, 150],
          [10, 150],
          [10, 100],
          [60, 100],
          [60, 100],
          [60, 150],
          [60, 150],
        ]),
      },
    );
    const events: Array<[string, number]> = [];
    lifecycle.on('threshold', (reason, stats) => events.push([reason, stats.memoryBytes]));
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(7000);
    expect(events).toEqual([
      ['memory 150 MB over the limit of 100 MB', 150 * MB],
      // The third CPU sample over the limit in a row, and the memory's second crossing.
      ['CPU 60% over the limit of 50%, memory 150 MB over the limit of 100 MB', 150 * MB],
    ]);
    expect(lifecycle.state).toBe('running');
  });

  it('a value exactly at the limit is not over it', async () => {
    const lifecycle = create({ health, maxCpuPercent: 50, maxMemoryMb: 100, onThreshold: 'restart' }, { sample: sampleOf(50, 100) });
    const events: string[] = [];
    lifecycle.on('threshold', (reason) => events.push(reason));
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(events).toEqual([]);
    expect(lifecycle.state).toBe('running');
  });

  it('CPU over the limit in bursts shorter than failureThreshold rounds is not a crossing', async () => {
    const lifecycle = create(
      { health, maxCpuPercent: 50, onThreshold: 'restart' },
      {
        sample: series([
          [100, 1],
          [100, 1],
          [10, 1],
          [100, 1],
          [100, 1],
          [50, 1],
          [100, 1],
          [100, 1],
          [100, 1],
        ]),
      },
    );
    const events: string[] = [];
    lifecycle.on('threshold', (reason) => events.push(reason));
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(8000);
    expect(events).toEqual([]);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toEqual(['CPU 100% over the limit of 50%']);
  });

  it('CPU rounds counted before a restart do not count towards the next run', async () => {
    const lifecycle = create(
      { health, maxCpuPercent: 50, maxRestarts: 10, backoff: { initialMs: 10, maxMs: 10 } },
      { sample: sampleOf(100, 1) },
    );
    const events: string[] = [];
    lifecycle.on('threshold', (reason) => events.push(reason));
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(2000);
    await lifecycle.restart('config changed');
    await vi.advanceTimersByTimeAsync(2000);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(events).toEqual(['CPU 100% over the limit of 50%']);
  });

  it.each([
    ['memory', sampleOf(1, 200)],
    ['CPU', sampleOf(200, 1)],
  ])('restart: the next run is judged afresh, so crossing the %s limit again restarts again', async (_what, sample) => {
    const lifecycle = create(
      {
        // One round is enough for CPU too, so that each run crosses at its first sample.
        health: { ...health, failureThreshold: 1 },
        maxCpuPercent: 100,
        maxMemoryMb: 100,
        onThreshold: 'restart',
        maxRestarts: 10,
        backoff: { initialMs: 10, maxMs: 10 },
      },
      { sample },
    );
    const events: string[] = [];
    lifecycle.on('threshold', (reason) => events.push(reason));
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1010);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1010);
    expect(events).toHaveLength(2);
    expect(lifecycle.restarts).toBe(2);
    expect(lifecycle.state).toBe('running');
  });

  it('keeps no stats for a sample of a process that is gone, or of a fixture.unit without a pid', async () => {
    const lifecycle = create({ health }, { sample: () => Promise.resolve(undefined) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.stats).toBeUndefined();

    const sample = vi.fn(sampleOf(1, 1));
    const pidless = create({ health }, { sample });
    fixture.unit.pid = () => undefined;
    await pidless.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sample).not.toHaveBeenCalled();
    expect(pidless.stats).toBeUndefined();
  });

  it('drops a sample that arrives after the server was stopped', async () => {
    let resolveSample!: (s: TreeSample) => void;
    const lifecycle = create({ health }, { sample: () => new Promise<TreeSample>((resolve) => (resolveSample = resolve)) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    await lifecycle.stop();
    resolveSample({ cpuPercent: 1, memoryBytes: 1, pids: [1] });
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.stats).toBeUndefined();
  });
});
