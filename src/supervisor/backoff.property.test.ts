// Properties of the restart backoff over generated settings and attempts (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextDelay } from './backoff.js';

const settings = fc
  .record({
    initialMs: fc.integer({ min: 0, max: 60_000 }),
    extraMs: fc.integer({ min: 0, max: 600_000 }),
    factor: fc.double({ min: 1, max: 10, noNaN: true }),
    jitter: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ initialMs, extraMs, ...rest }) => ({ initialMs, maxMs: initialMs + extraMs, ...rest }));
const attempt = fc.integer({ min: 0, max: 2000 });
const random = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('nextDelay', () => {
  it('is a whole number of milliseconds within [0, maxMs] for any settings, attempt and random draw', () => {
    fc.assert(
      fc.property(settings, attempt, random, (options, n, r) => {
        const delay = nextDelay(n, { ...options, random: () => r });
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(options.maxMs);
      }),
    );
  });

  it('stays within the jitter of the capped exponential delay', () => {
    fc.assert(
      fc.property(settings, attempt, random, (options, n, r) => {
        const base = options.initialMs === 0 ? 0 : Math.min(options.maxMs, options.initialMs * options.factor ** n);
        const delay = nextDelay(n, { ...options, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - options.jitter)));
        expect(delay).toBeLessThanOrEqual(Math.ceil(Math.min(options.maxMs, base * (1 + options.jitter))));
      }),
    );
  });

  it('without jitter, never shrinks from one attempt to the next and ends at maxMs', () => {
    fc.assert(
      fc.property(settings, attempt, (options, n) => {
        const plain = { ...options, jitter: 0 };
        expect(nextDelay(n + 1, plain)).toBeGreaterThanOrEqual(nextDelay(n, plain));
        if (options.factor >= 1.01 && options.initialMs > 0) expect(nextDelay(5000, plain)).toBe(options.maxMs);
      }),
    );
  });

  it('gives 0, not NaN, for a zero initial delay however many attempts came before', () => {
    // factor ** 2000 is Infinity, and 0 * Infinity is NaN: a timer of NaN fires at once, unbounded.
    expect(nextDelay(2000, { initialMs: 0, maxMs: 1000 })).toBe(0);
  });

  it('refuses an attempt that is not a whole number at least 0', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true })), (n) => {
        expect(() => nextDelay(n)).toThrow(/non-negative integer/);
      }),
    );
  });
});
