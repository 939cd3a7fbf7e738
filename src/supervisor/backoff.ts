import { OrchError } from '../errors.js';

/**
 * Restart delays for crashed children: exponential, capped, with jitter so that several servers that
 * failed together (say, on a lost network) do not all restart in the same instant. Pure: the random
 * source is passed in.
 */
export interface BackoffOptions {
  /** Delay before the first retry (attempt 0). */
  initialMs?: number;
  /** Cap on any delay, jitter included. */
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay to vary by, both ways: 0.2 gives ±20%. */
  jitter?: number;
  /** Returns a number in [0, 1), like Math.random. */
  random?: () => number;
}

/** The delay in whole milliseconds before retry number `attempt` (0 for the first retry). */
export function nextDelay(attempt: number, options: BackoffOptions = {}): number {
  const { initialMs = 1000, maxMs = 30000, factor = 2, jitter = 0.2, random = Math.random } = options;
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new OrchError('INTERNAL', `backoff attempt must be a non-negative integer, got ${attempt}`);
  }
  if (!(initialMs >= 0) || !(maxMs >= initialMs) || !(factor >= 1) || !(jitter >= 0 && jitter <= 1)) {
    throw new OrchError('INTERNAL', `invalid backoff options: initialMs=${initialMs} maxMs=${maxMs} factor=${factor} jitter=${jitter}`, {
      hint: 'need 0 <= initialMs <= maxMs, factor >= 1, 0 <= jitter <= 1',
    });
  }
  // Math.min first, so a large attempt (factor ** attempt === Infinity) still gives maxMs; and no
  // product with a zero initialMs, which would be 0 * Infinity = NaN.
  const base = initialMs === 0 ? 0 : Math.min(maxMs, initialMs * factor ** attempt);
  const varied = base * (1 + jitter * (2 * random() - 1));
  return Math.round(Math.min(maxMs, Math.max(0, varied)));
}
