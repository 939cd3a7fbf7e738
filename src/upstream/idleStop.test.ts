import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IdleStop, type IdleState } from './idleStop.js';

/** An IdleStop on fake time over a server state the test sets; `stops` records each stop's idle time. */
function idleStop(idleMs: number, initial: Partial<IdleState> = {}) {
  const state: IdleState = { running: true, inFlight: 0, lastUsed: Date.now(), ...initial };
  const stops: number[] = [];
  const idle = new IdleStop(
    idleMs,
    () => ({ ...state }),
    (idleFor) => stops.push(idleFor),
  );
  return { idle, state, stops };
}

describe('IdleStop', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('stops a running server once it has been unused for the idle time, saying for how long', () => {
    const { idle, stops } = idleStop(10_000);
    idle.schedule();
    vi.advanceTimersByTime(9_999);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops).toEqual([10_000]);
  });

  it('counts from the last use, and checks again for what is left when the server was used meanwhile', () => {
    const { idle, state, stops } = idleStop(10_000, { lastUsed: Date.now() - 4_000 });
    idle.schedule();
    vi.advanceTimersByTime(5_999);
    expect(stops).toEqual([]);
    state.lastUsed = Date.now(); // used just before the check
    vi.advanceTimersByTime(1);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(9_998);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops).toEqual([10_000]);
  });

  it('never stops a server with requests in flight, and stops it once they are done and the idle time passed', () => {
    const { idle, state, stops } = idleStop(2_000, { inFlight: 1 });
    idle.schedule();
    vi.advanceTimersByTime(10_000);
    expect(stops).toEqual([]);
    state.inFlight = 0;
    vi.advanceTimersByTime(1_000);
    expect(stops).toHaveLength(1);
    expect(stops[0]).toBeGreaterThanOrEqual(11_000);
  });

  it('checks at most once a second, however short the idle time', () => {
    const { idle, stops } = idleStop(10);
    idle.schedule();
    vi.advanceTimersByTime(999);
    expect(stops).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(stops).toEqual([1_000]);
  });

  it('does nothing for a server that is no longer running', () => {
    const { idle, state, stops } = idleStop(1_000);
    idle.schedule();
    state.running = false;
    vi.advanceTimersByTime(60_000);
    expect(stops).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms nothing when idle stops are off', () => {
    for (const idleMs of [0, -1]) {
      const { idle, stops } = idleStop(idleMs);
      idle.schedule();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(60_000);
      expect(stops).toEqual([]);
    }
  });

  it('keeps one timer when armed again, and none once cleared', () => {
    const { idle, stops } = idleStop(5_000);
    idle.schedule();
    idle.schedule();
    expect(vi.getTimerCount()).toBe(1);
    idle.clear();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(stops).toEqual([]);
  });

  it('does not hold the process open while it waits', () => {
    const { idle } = idleStop(5_000);
    const unref = vi.spyOn(globalThis, 'setTimeout');
    idle.schedule();
    const timer = unref.mock.results[0]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    unref.mockRestore();
  });
});
