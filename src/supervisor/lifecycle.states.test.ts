import { describe, expect, it, vi } from 'vitest';
import { captureLogger, delays, fail, lifecycleFixture, path, sampleOf } from '../../test/helpers/lifecycle.js';
import { OrchError } from '../errors.js';

/** The edges of the Lifecycle's states: what it ignores, what it forgets, what it resets. */

const fixture = lifecycleFixture();
const { create } = fixture;

describe('Lifecycle.waitFor', () => {
  it('resolves at once, on the state it waits for, or at its timeout', async () => {
    const lifecycle = create();
    let done = false;
    void lifecycle.waitFor((s) => s === 'stopped', 1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);

    let running = false;
    void lifecycle.waitFor((s) => s === 'running', 60_000).then(() => (running = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(running).toBe(false);
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(running).toBe(true);
    expect(lifecycle.listenerCount('state')).toBe(0);

    let timedOut = false;
    void lifecycle.waitFor((s) => s === 'crashed', 5000).then(() => (timedOut = true));
    await vi.advanceTimersByTimeAsync(4999);
    expect(timedOut).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(timedOut).toBe(true);
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.listenerCount('state')).toBe(0);
  });

  it('does not resolve on a state before the one it waits for', async () => {
    let release!: () => void;
    fixture.unit.onStart = () => new Promise<void>((resolve) => (release = resolve));
    const lifecycle = create();
    let running = false;
    void lifecycle.waitFor((s) => s === 'running', 60_000).then(() => (running = true));
    const starting = lifecycle.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(lifecycle.state).toBe('starting');
    expect(running).toBe(false);
    release();
    await starting;
    await vi.advanceTimersByTimeAsync(0);
    expect(running).toBe(true);
  });

  it('takes any number of waiters without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const lifecycle = create();
      const waits = Array.from({ length: 20 }, () => lifecycle.waitFor((s) => s === 'running', 1000));
      await lifecycle.start();
      await Promise.all(waits);
      await vi.advanceTimersByTimeAsync(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('Lifecycle: what a failure report changes', () => {
  it('ignores failures reported while stopped, disabled or crashed', async () => {
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.failed('late exit');
    expect(path(lifecycle)).toEqual([]);
    await lifecycle.start();
    await lifecycle.stop('disable requested', 'disabled');
    await lifecycle.failed('late exit');
    expect(lifecycle.state).toBe('disabled');
    await vi.advanceTimersByTimeAsync(1000);
    expect(fixture.unit.starts).toBe(1);
    expect(fixture.unit.stops).toBe(1);
  });

  it('ignores failures reported once crashed, or while a restart is pending', async () => {
    const lifecycle = create({ restart: 'always', maxRestarts: 0 });
    await lifecycle.start();
    await lifecycle.failed('crash');
    expect(lifecycle.state).toBe('crashed');
    await lifecycle.failed('late report');
    expect(lifecycle.state).toBe('crashed');
    expect(lifecycle.lastError).toBe('gave up after 0 restarts within 300s; last: crash');

    const again = create({ restart: 'always', backoff: { initialMs: 100, maxMs: 100 } });
    await again.start();
    await again.failed('crash');
    await again.failed('late report');
    expect(delays(again)).toEqual([100]);
    expect(again.lastError).toBe('crash');
  });

  it('keeps the first of two reports of one death, the more specific one', async () => {
    const lifecycle = create({ backoff: { initialMs: 50, maxMs: 50 } });
    await lifecycle.start();
    await Promise.all([lifecycle.failed('process exited with code 1'), lifecycle.failed('connection closed')]);
    expect(lifecycle.lastError).toBe('process exited with code 1');
    expect(lifecycle.history.at(-1)?.cause).toBe('process exited with code 1; restarting in 50 ms');
  });

  it('ignores a failure reported while it is stopping', async () => {
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    let release!: () => void;
    fixture.unit.onStop = () => new Promise<void>((resolve) => (release = resolve));
    const stopping = lifecycle.stop();
    expect(lifecycle.state).toBe('stopping');
    await lifecycle.failed('exited while stopping');
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(1000);
    expect(path(lifecycle)).toEqual(['starting', 'running', 'stopping', 'stopped']);
    expect(fixture.unit.starts).toBe(1);
  });

  it('a stop() while a failure is being handled wins: no restart follows', async () => {
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    let release!: () => void;
    fixture.unit.onStop = () => new Promise<void>((resolve) => (release = resolve));
    const failing = lifecycle.failed('crash');
    fixture.unit.onStop = () => Promise.resolve();
    await lifecycle.stop('stop requested');
    release();
    await failing;
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('stopped');
    expect(fixture.unit.starts).toBe(1);
  });

  it('never: a clean exit is stopped, not crashed', async () => {
    const lifecycle = create({ restart: 'never' });
    await lifecycle.start();
    await lifecycle.failed('process exited with code 0', { clean: true });
    expect(lifecycle.state).toBe('stopped');
  });

  it('on-failure: a non-zero exit is restarted', async () => {
    const lifecycle = create({ restart: 'on-failure', backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    await lifecycle.failed('process exited with code 1', { clean: false });
    expect(lifecycle.state).toBe('restarting');
  });

  it('only CONFIG_ errors, anywhere in the cause chain, are permanent', async () => {
    const lifecycle = create({ restart: 'always', backoff: { initialMs: 10, maxMs: 10 } });
    fixture.unit.onStart = () =>
      Promise.reject(new Error('outer', { cause: new Error('middle', { cause: new OrchError('CONFIG_INVALID', 'bad') }) }));
    await lifecycle.start();
    expect(lifecycle.state).toBe('crashed');

    for (const error of [new OrchError('SERVER_UNAVAILABLE', 'down'), new Error('plain', { cause: 'CONFIG_INVALID' })]) {
      fixture.unit.onStart = () => Promise.reject(error);
      await lifecycle.start();
      expect(lifecycle.state).toBe('restarting');
      await lifecycle.stop();
    }
  });

  it('forgets the last error once a restart succeeds', async () => {
    fixture.unit.onStart = fail('no token');
    const lifecycle = create({ backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    expect(lifecycle.lastError).toBe('failed to start: no token');
    fixture.unit.onStart = () => Promise.resolve();
    await vi.advanceTimersByTimeAsync(10);
    expect(lifecycle.state).toBe('running');
    expect(lifecycle.lastError).toBeUndefined();
  });

  it('start() after giving up begins a fresh series: first delay, full restart budget', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ maxRestarts: 2, backoff: { initialMs: 10, maxMs: 1000 } });
    await lifecycle.start();
    await vi.advanceTimersByTimeAsync(10);
    await vi.advanceTimersByTimeAsync(20);
    expect(lifecycle.state).toBe('crashed');
    expect(delays(lifecycle)).toEqual([10, 20]);

    await lifecycle.start('start requested again');
    expect(lifecycle.state).toBe('restarting');
    expect(delays(lifecycle)).toEqual([10, 20, 10]);
    await vi.advanceTimersByTimeAsync(10);
    expect(lifecycle.state).toBe('restarting');
  });

  it('a restart leaves the window exactly restartWindowSec after it', async () => {
    const lifecycle = create({ maxRestarts: 1, restartWindowSec: 1, stableSec: 100, backoff: { initialMs: 10, maxMs: 10 } });
    await lifecycle.start();
    await lifecycle.failed('crash 1'); // restart counted at t0
    await vi.advanceTimersByTimeAsync(999);
    await lifecycle.failed('crash 2'); // t0 + 999: still inside
    expect(lifecycle.state).toBe('crashed');

    await lifecycle.start();
    await lifecycle.failed('crash 3');
    await vi.advanceTimersByTimeAsync(1000);
    await lifecycle.failed('crash 4'); // t0 + 1000: the first has left
    expect(lifecycle.state).toBe('restarting');
  });

  it('without deps.random the jitter is still within ±20%', async () => {
    fixture.unit.onStart = fail();
    const lifecycle = create({ backoff: { initialMs: 1000, maxMs: 30_000 } }, { random: undefined });
    await lifecycle.start();
    const [delay] = delays(lifecycle);
    expect(delay).toBeGreaterThanOrEqual(800);
    expect(delay).toBeLessThanOrEqual(1200);
  });

  it('logs crashed and unhealthy at error level, other transitions at info', async () => {
    const { logger, entries } = captureLogger();
    const lifecycle = create({ restart: 'never', health: { intervalSec: 1, failureThreshold: 1 } }, { logger, sample: sampleOf(1, 1) });
    await lifecycle.start();
    fixture.unit.onPing = fail('no pong');
    await vi.advanceTimersByTimeAsync(1000);
    expect(lifecycle.state).toBe('crashed');
    const levels = entries.filter((e) => e.to !== undefined).map((e) => [e.to, e.level]);
    expect(entries.every((e) => e.server === 'fake' && e.component === 'lifecycle')).toBe(true);
    expect(levels).toEqual([
      ['starting', 30],
      ['running', 30],
      ['unhealthy', 50],
      ['crashed', 50],
    ]);
  });
});
