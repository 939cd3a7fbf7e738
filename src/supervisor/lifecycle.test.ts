import { describe, expect, it, vi } from 'vitest';
import { captureLogger, delays, fail, lifecycleFixture, MB, path, sampleOf } from '../../test/helpers/lifecycle.js';
import { OrchError } from '../errors.js';
import type { LifecycleState, Transition } from './lifecycle.js';

const fixture = lifecycleFixture();
const { create } = fixture;

describe('Lifecycle: starting', () => {
  it('goes stopped -> starting -> running, with the run start time and the fixture.unit pid', async () => {
    const lifecycle = create();
    expect(lifecycle.state).toBe('stopped');
    await lifecycle.start();
    expect(lifecycle.state).toBe('running');
    expect(fixture.unit.starts).toBe(1);
    expect(lifecycle.startedAt).toBe(Date.now());
    expect(lifecycle.lastError).toBeUndefined();
    expect(lifecycle.history.map(({ from, to }) => [from, to])).toEqual([
      ['stopped', 'starting'],
      ['starting', 'running'],
    ]);
  });

  it('shares one attempt between concurrent start() calls, and start() while running does nothing', async () => {
    let release!: () => void;
    fixture.unit.onStart = () => new Promise<void>((resolve) => (release = resolve));
    const lifecycle = create();
    const first = lifecycle.start();
    const second = lifecycle.start();
    release();
    await Promise.all([first, second]);
    await lifecycle.start();
    expect(fixture.unit.starts).toBe(1);
    expect(lifecycle.state).toBe('running');
  });
});

describe('Lifecycle: restart policy and backoff', () => {
  it('on-failure: a failed start waits the backoff delay in restarting, then starts again', async () => {
    fixture.unit.onStart = fail('no token');
    const lifecycle = create({ restart: 'on-failure', backoff: { initialMs: 1000, maxMs: 30_000 } });
    await lifecycle.start();
    expect(lifecycle.state).toBe('restarting');
    expect(lifecycle.lastError).toBe('failed to start: no token');
    expect(lifecycle.history.at(-1)).toMatchObject({
      from: 'starting',
      to: 'restarting',
      cause: 'failed to start: no token; restarting in 1000 ms',
    });
    expect(fixture.unit.stops).toBe(1); // whatever half-started is taken down first

    fixture.unit.onStart = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(999);
    expect(fixture.unit.starts).toBe(1);
    expect(lifecycle.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(1);
    expect(fixture.unit.starts).toBe(2);
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.restarts).toBe(1);
    expect(lifecycle.history.at(-2)).toMatchObject({
      from: 'restarting',
      to: 'starting',
      cause: 'restart 1 after: failed to start: no token',
    });
  });

  it('doubles the delay across consecutive failures, up to maxMs', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ maxRestarts: 100, backoff: { initialMs: 100, maxMs: 1000 } });
    await lifecycle.start();
    for (const wait of [100, 200, 400, 800, 1000]) await vi.advanceTimersByTimeAsync(wait);
    expect(delays(lifecycle)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(fixture.unit.starts).toBe(6);
  });

  it('applies jitter from deps.random', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ backoff: { initialMs: 1000, maxMs: 30_000 } }, { random: () => 0 });
    await lifecycle.start();
    expect(delays(lifecycle)).toEqual([800]); // -20%
  });

  it('keeps doubling after a short run, and starts over after stableSec of running', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ maxRestarts: 100, stableSec: 5, backoff: { initialMs: 100, maxMs: 10_000 } });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(100);
    fixture.unit.onStart = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(200);
    expect(lifecycle.state).toBe('running');
    expect(delays(lifecycle)).toEqual([100, 200]);

    // A crash before stableSec: the next delay continues the series.
    await vi.advanceTimersByTimeAsync(4000);
    await lifecycle.failed('process exited with code 1');
    expect(delays(lifecycle)).toEqual([100, 200, 400]);
    await vi.advanceTimersByTimeAsync(400);
    expect(lifecycle.state).toBe('running');

    // A run of stableSec forgives the earlier crashes.
    await vi.advanceTimersByTimeAsync(5000);
    await lifecycle.failed('process exited with code 1');
    expect(delays(lifecycle)).toEqual([100, 200, 400, 100]);
  });

  it('gives up (crashed) after maxRestarts within restartWindowSec, saying so in lastError', async () => {
    fixture.unit.onStart = fail('missing API token');
    const lifecycle = create({ maxRestarts: 2, restartWindowSec: 60, backoff: { initialMs: 10, maxMs: 1000 } });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(lifecycle.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(20);
    expect(lifecycle.state).toBe('crashed');
    expect(fixture.unit.starts).toBe(3);
    expect(lifecycle.restarts).toBe(2);
    expect(lifecycle.lastError).toBe('gave up after 2 restarts within 60s; last: failed to start: missing API token');
    expect(lifecycle.history.at(-1)).toMatchObject({ from: 'starting', to: 'crashed', cause: lifecycle.lastError });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fixture.unit.starts).toBe(3);
  });

  it('counts only the restarts inside the window', async () => {
    const lifecycle = create({ maxRestarts: 1, restartWindowSec: 1, stableSec: 100, backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    await lifecycle.failed('crash 1');
    await vi.advanceTimersByTimeAsync(10);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1500); // the first restart leaves the window
    await lifecycle.failed('crash 2');
    expect(lifecycle.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(10);
    await lifecycle.failed('crash 3'); // a second restart within 1 s: too many
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toMatch(/^gave up after 1 restarts within 1s; last: crash 3$/);
  });

  it('never: a failed start or a crash ends in crashed, with no restart', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ restart: 'never' });
    await lifecycle.start();
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toBe('failed to start: boom');

    fixture.unit.onStart = () => Promise.resolve();
    await lifecycle.start();
    expect(lifecycle.state).toBe('running');
    await lifecycle.failed('process was killed by SIGSEGV');
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toBe('process was killed by SIGSEGV');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fixture.unit.starts).toBe(2);
  });

  it('on-failure: a clean exit (status 0) is stopped, not restarted', async () => {
    const lifecycle = create({ restart: 'on-failure' });
    await lifecycle.start();
    await lifecycle.failed('process exited with code 0', { clean: true });
    expect(lifecycle.state).toBe('stopped');
    expect(lifecycle.history.at(-1)).toMatchObject({ from: 'running', to: 'stopped', cause: 'process exited with code 0' });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fixture.unit.starts).toBe(1);
  });

  it('a config error at start (a command that does not exist) is crashed at once, whatever the policy', async () => {
    const notFound = new OrchError('CONFIG_INVALID', 'mcpServers.fake.command: command not found: ghost (looked in PATH)');
    // As Upstream reports it: wrapped, with the config error as the cause.
    fixture.unit.onStart = () => Promise.reject(new Error('mcpServers.fake.command: command not found', { cause: notFound }));
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 50, maxMs: 50 } });
    await lifecycle.start();
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toBe('failed to start: mcpServers.fake.command: command not found');
    expect(path(lifecycle)).toEqual(['starting', 'crashed']);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(fixture.unit.starts).toBe(1);
    expect(lifecycle.restarts).toBe(0);
  });

  it('always: a clean exit is restarted too', async () => {
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 50, maxMs: 50 } });
    await lifecycle.start();
    await lifecycle.failed('process exited with code 0', { clean: true });
    expect(lifecycle.state).toBe('restarting');
    await vi.advanceTimersByTimeAsync(50);
    expect(lifecycle.state).toBe('running');
    expect(fixture.unit.starts).toBe(2);
  });

  it('turns two reports of the same crash (exit and closed connection) into one restart', async () => {
    const lifecycle = create({ backoff: { initialMs: 50, maxMs: 50 } });
    await lifecycle.start();
    await Promise.all([lifecycle.failed('process exited with code 1'), lifecycle.failed('connection closed')]);
    expect(path(lifecycle).filter((s) => s === 'restarting')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(fixture.unit.starts).toBe(2);
    expect(lifecycle.restarts).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.starts).toBe(2);
  });

  it('start() works again after a failure reported while starting ended in crashed', async () => {
    // The way Upstream reports a child that dies during initialize: its exit handler calls failed()
    // while start() is still pending, and start() then rejects with the closed connection.
    const lifecycle = create({ restart: 'never' });
    fixture.unit.onStart = () => {
      void lifecycle.failed('process exited with code 3');
      return Promise.reject(new Error('connection closed'));
    };
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toBe('process exited with code 3');

    fixture.unit.onStart = () => Promise.resolve();
    await lifecycle.start('start requested again');
    expect(fixture.unit.starts).toBe(2);
    expect(lifecycle.state).toBe('running');
  });
});

describe('Lifecycle: health checks', () => {
  const health = { intervalSec: 1, timeoutSec: 0.5, failureThreshold: 3 };

  it('pings every intervalSec with the timeout; failureThreshold consecutive failures -> unhealthy -> restarting', async () => {
    const lifecycle = create({ health, backoff: { initialMs: 100, maxMs: 100 } }, { sample: sampleOf(1, 10) });
    await lifecycle.start();
    fixture.unit.onPing = fail('Request timed out');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.pings).toEqual([500]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.pings).toHaveLength(3);
    expect(lifecycle.state).toBe('restarting');
    expect(path(lifecycle).slice(-3)).toEqual(['running', 'unhealthy', 'restarting']);
    expect(lifecycle.history.at(-2)).toMatchObject({
      from: 'running',
      to: 'unhealthy',
      cause: 'health check failed 3 time(s): Request timed out',
    });
    expect(fixture.unit.stops).toBe(1);

    fixture.unit.onPing = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(100);
    expect(lifecycle.state).toBe('running');
    expect(fixture.unit.starts).toBe(2);
    // No checks while restarting; they resume with the new run.
    expect(fixture.unit.pings).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.pings).toHaveLength(4);
  });

  it('a passing ping resets the count of consecutive failures', async () => {
    const lifecycle = create({ health }, { sample: sampleOf(1, 10) });
    await lifecycle.start();
    const outcomes = [false, false, true, false, false, true, false, false];
    let i = 0;
    fixture.unit.onPing = () => (outcomes[i++] ? Promise.resolve() : Promise.reject(new Error('no pong')));
    await vi.advanceTimersByTimeAsync(outcomes.length * 1000);
    expect(fixture.unit.pings).toHaveLength(outcomes.length);
    expect(lifecycle.state).toBe('running');
    expect(path(lifecycle)).not.toContain('unhealthy');

    fixture.unit.onPing = fail('no pong');
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('restarting');
  });

  it('intervalSec 0 turns checks and sampling off', async () => {
    const sample = vi.fn(sampleOf(1, 10));
    const lifecycle = create({ health: { intervalSec: 0 } }, { sample });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fixture.unit.pings).toHaveLength(0);
    expect(sample).not.toHaveBeenCalled();
  });
});

describe('Lifecycle: CPU and memory limits', () => {
  const health = { intervalSec: 1, timeoutSec: 1, failureThreshold: 3 };

  it('samples the fixture.unit pid after each ping and keeps the stats', async () => {
    const sample = vi.fn(sampleOf(12.5, 64));
    const lifecycle = create({ health }, { sample });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sample).toHaveBeenCalledWith(fixture.unit.pid());
    expect(lifecycle.stats).toEqual({ cpuPercent: 12.5, memoryBytes: 64 * MB, sampledAt: Date.now() });
  });

  it('forgets the stats when the fixture.unit stops or fails: they describe a process that is gone', async () => {
    const lifecycle = create({ health, restart: 'never' }, { sample: sampleOf(12.5, 64) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.stats).toBeDefined();
    await lifecycle.stop();
    expect(lifecycle.stats).toBeUndefined();
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.stats).toBeDefined();
    await lifecycle.failed('process exited with code 1');
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.stats).toBeUndefined();
  });

  it('onThreshold warn: over the memory limit it warns once and keeps running', async () => {
    const { logger, entries } = captureLogger();
    const lifecycle = create({ health, maxMemoryMb: 100, onThreshold: 'warn' }, { logger, sample: sampleOf(5, 200) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(lifecycle.state).toBe('running');
    expect(fixture.unit.starts).toBe(1);
    const warnings = entries.filter((e) => e.level === 40 && String(e.msg).includes('over the limit'));
    expect(warnings.map((e) => e.msg)).toEqual(['memory 200 MB over the limit of 100 MB']);
  });

  it('onThreshold warn: over the CPU limit it keeps running', async () => {
    const lifecycle = create({ health, maxCpuPercent: 90, onThreshold: 'warn' }, { sample: sampleOf(180, 10) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.stats?.cpuPercent).toBe(180);
  });

  it('onThreshold restart: over the memory limit it restarts, naming the limit', async () => {
    const lifecycle = create(
      { health, maxMemoryMb: 100, onThreshold: 'restart', backoff: { initialMs: 100, maxMs: 100 } },
      { sample: sampleOf(5, 150) },
    );
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('restarting');
    expect(lifecycle.history.at(-1)).toMatchObject({
      from: 'running',
      to: 'restarting',
      cause: 'memory 150 MB over the limit of 100 MB; restarting in 100 ms',
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(lifecycle.state).toBe('running');
    expect(fixture.unit.starts).toBe(2);
  });

  it('onThreshold restart: over the CPU limit for failureThreshold rounds in a row it restarts', async () => {
    const lifecycle = create(
      { health, maxCpuPercent: 90, onThreshold: 'restart', backoff: { initialMs: 100, maxMs: 100 } },
      { sample: sampleOf(150, 10) },
    );
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(lifecycle.state).toBe('running');
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('restarting');
    expect(lifecycle.lastError).toBe('CPU 150% over the limit of 90%');
  });
});

describe('Lifecycle: stop', () => {
  it('stop() during a pending restart cancels it', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ backoff: { initialMs: 1000, maxMs: 1000 } });
    await lifecycle.start();
    expect(lifecycle.state).toBe('restarting');
    await lifecycle.stop('stop requested');
    expect(lifecycle.state).toBe('stopped');
    fixture.unit.onStart = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fixture.unit.starts).toBe(1);
    expect(lifecycle.state).toBe('stopped');
  });

  it('stop() while a start is pending leaves it stopped when the start completes', async () => {
    let release!: () => void;
    fixture.unit.onStart = () => new Promise<void>((resolve) => (release = resolve));
    const lifecycle = create();
    const starting = lifecycle.start();
    await lifecycle.stop();
    release();
    await starting;
    expect(lifecycle.state).toBe('stopped');
  });

  it('stop() ends health checks', async () => {
    const lifecycle = create({ health: { intervalSec: 1 } }, { sample: sampleOf(1, 1) });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(1000);
    await lifecycle.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fixture.unit.pings).toHaveLength(1);
    expect(lifecycle.startedAt).toBeUndefined();
  });

  it('restart() goes through stopping and restarting to running, counted but not against maxRestarts', async () => {
    const lifecycle = create({ maxRestarts: 0 });
    await lifecycle.start();
    await lifecycle.restart('config changed');
    await lifecycle.restart('config changed');
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.restarts).toBe(2);
    expect(path(lifecycle).slice(2, 6)).toEqual(['stopping', 'restarting', 'starting', 'running']);
  });
});

describe('Lifecycle: history', () => {
  it('records every transition with from, to, cause and time, chained, and emits each as a state event', async () => {
    const events: Array<[LifecycleState, Transition]> = [];
    fixture.unit.onStart = fail('first start fails');
    const lifecycle = create(
      { health: { intervalSec: 1, failureThreshold: 1 }, backoff: { initialMs: 10, maxMs: 10 } },
      { sample: sampleOf(1, 1) },
    );
    lifecycle.on('state', (state, transition) => events.push([state, transition]));
    await lifecycle.start();
    fixture.unit.onStart = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(10);
    fixture.unit.onPing = fail('no pong');
    await vi.advanceTimersByTimeAsync(1000);
    fixture.unit.onPing = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(10);
    await lifecycle.stop('stop requested');

    const { history } = lifecycle;
    expect(path(lifecycle)).toEqual([
      'starting',
      'restarting',
      'starting',
      'running',
      'unhealthy',
      'restarting',
      'starting',
      'running',
      'stopping',
      'stopped',
    ]);
    history.forEach((t, i) => {
      expect(t.from).toBe(i === 0 ? 'stopped' : history[i - 1]!.to);
      expect(t.cause.length).toBeGreaterThan(0);
      expect(typeof t.at).toBe('number');
    });
    expect(history.map((t) => t.cause)).toEqual([
      'start requested',
      'failed to start: first start fails; restarting in 10 ms',
      'restart 1 after: failed to start: first start fails',
      'started',
      'health check failed 1 time(s): no pong',
      'health check failed 1 time(s): no pong; restarting in 10 ms',
      'restart 2 after: health check failed 1 time(s): no pong',
      'started',
      'stop requested',
      'stop requested',
    ]);
    expect(events.map(([state, transition]) => [state, transition])).toEqual(history.map((t) => [t.to, t]));
  });

  it('keeps only the last 50 transitions', async () => {
    const lifecycle = create({ restart: 'always', maxRestarts: 1000, backoff: { initialMs: 0, maxMs: 0 } });
    await lifecycle.start();
    for (let i = 0; i < 30; i++) {
      await lifecycle.failed(`crash ${i}`);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect(lifecycle.history).toHaveLength(50);
    expect(lifecycle.history.at(-1)).toMatchObject({ to: 'running' });
  });
});
