import { describe, expect, it } from 'vitest';
import { nextDelay } from './backoff.js';

const noJitter = { jitter: 0 };

describe('nextDelay', () => {
  it('grows exponentially from initialMs', () => {
    expect([0, 1, 2, 3].map((a) => nextDelay(a, noJitter))).toEqual([1000, 2000, 4000, 8000]);
    expect(nextDelay(2, { ...noJitter, initialMs: 100, factor: 3 })).toBe(900);
  });

  it('is capped at maxMs, even for very large attempts', () => {
    expect(nextDelay(5, noJitter)).toBe(30000);
    expect(nextDelay(10_000, noJitter)).toBe(30000);
    expect(nextDelay(3, { ...noJitter, maxMs: 5000 })).toBe(5000);
  });

  it('varies by at most ±jitter of the delay', () => {
    expect(nextDelay(1, { random: () => 0 })).toBe(1600);
    expect(nextDelay(1, { random: () => 0.5 })).toBe(2000);
    expect(nextDelay(1, { random: () => 0.999999 })).toBe(2400);
    for (let i = 0; i < 200; i++) {
      const d = nextDelay(2);
      expect(d).toBeGreaterThanOrEqual(3200);
      expect(d).toBeLessThanOrEqual(4800);
    }
  });

  it('never exceeds maxMs with jitter', () => {
    expect(nextDelay(20, { random: () => 0.999999 })).toBe(30000);
    expect(nextDelay(20, { random: () => 0 })).toBe(24000);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(nextDelay(0, { initialMs: 333, random: () => 0.123 }))).toBe(true);
  });

  it('rejects a bad attempt or bad options', () => {
    expect(() => nextDelay(-1)).toThrow(/attempt/);
    expect(() => nextDelay(1.5)).toThrow(/attempt/);
    expect(() => nextDelay(0, { initialMs: 10, maxMs: 5 })).toThrow(/invalid backoff options/);
    expect(() => nextDelay(0, { factor: 0.5 })).toThrow(/invalid backoff options/);
    expect(() => nextDelay(0, { jitter: 2 })).toThrow(/invalid backoff options/);
    expect(() => nextDelay(0, { jitter: -0.1 })).toThrow(/invalid backoff options/);
    expect(() => nextDelay(0, { initialMs: -1, maxMs: 10 })).toThrow(/invalid backoff options/);
  });

  it('reports bad input as an internal error, saying what the options must be', () => {
    expect(() => nextDelay(-1)).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    expect(() => nextDelay(0, { factor: 0 })).toThrow(
      expect.objectContaining({ code: 'INTERNAL', hint: 'need 0 <= initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1' }),
    );
  });
});
