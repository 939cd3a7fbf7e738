import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitBounded } from './wait.js';

describe('waitBounded', () => {
  afterEach(() => vi.useRealTimers());

  it('gives up on what does not settle once the time is up, and never rejects', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = waitBounded([new Promise(() => undefined), Promise.reject(new Error('no'))], 1000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    await waiting;
  });

  it('returns as soon as everything settled, leaving no timer behind', async () => {
    vi.useFakeTimers();
    await waitBounded([Promise.resolve(1), Promise.reject(new Error('no'))], 60_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
