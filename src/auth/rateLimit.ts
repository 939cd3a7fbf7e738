import type { RateLimit } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Principal } from './policy.js';

/**
 * Token buckets, per key and per project: `burst` tokens at most, refilled at `requestsPerMinute`,
 * one taken per request. Pure: time comes from the injected clock. Memory is bounded: a bucket that
 * has refilled to the brim is the same as none, so those are dropped when the map grows.
 */

interface Bucket {
  tokens: number;
  updated: number;
}

export interface TokenBuckets {
  /**
   * Takes one token from every bucket named, or from none: `waitMs` 0 when it did, else the time
   * until every bucket would have one, and which were empty.
   */
  take(buckets: readonly { id: string; limit: RateLimit }[]): { waitMs: number; empty: string[] };
  readonly size: number;
}

export function createTokenBuckets(clock: () => number, sweepAbove = 10_000): TokenBuckets {
  const buckets = new Map<string, Bucket>();

  const refill = (id: string, limit: RateLimit, now: number): Bucket => {
    const bucket = buckets.get(id);
    if (!bucket) {
      const fresh = { tokens: limit.burst, updated: now };
      buckets.set(id, fresh);
      return fresh;
    }
    const elapsed = Math.max(0, now - bucket.updated);
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (elapsed * limit.requestsPerMinute) / 60_000);
    bucket.updated = now;
    return bucket;
  };

  const sweep = (now: number, limits: Map<string, RateLimit>): void => {
    for (const [id, bucket] of buckets) {
      const limit = limits.get(id);
      // Buckets not in this request: full once a whole burst's worth of time has passed at any rate we know of.
      if (limit ? bucket.tokens >= limit.burst : now - bucket.updated >= 60_000) buckets.delete(id);
    }
  };

  return {
    take(wanted) {
      const now = clock();
      const limited = wanted.filter((b) => b.limit.requestsPerMinute > 0);
      const states = limited.map((b) => ({ ...b, bucket: refill(b.id, b.limit, now) }));
      const short = states.filter((s) => s.bucket.tokens < 1);
      if (short.length > 0) {
        // Less a hair: refills are fractions, and 0.999... of a token must not round up a whole extra millisecond.
        const waitMs = Math.max(...short.map((s) => Math.ceil(((1 - s.bucket.tokens) * 60_000) / s.limit.requestsPerMinute - 1e-6)));
        return { waitMs, empty: short.map((s) => s.id) };
      }
      for (const s of states) s.bucket.tokens -= 1;
      if (buckets.size > sweepAbove) sweep(now, new Map(limited.map((b) => [b.id, b.limit])));
      return { waitMs: 0, empty: [] };
    },
    get size() {
      return buckets.size;
    },
  };
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSec: number; error: OrchError };

export interface RateLimiter {
  /** One request by this principal: its key's bucket and its project's, both or neither. */
  take(principal: Principal): RateDecision;
}

export function createRateLimiter(options: { clock?: () => number } = {}): RateLimiter {
  const buckets = createTokenBuckets(options.clock ?? Date.now);
  return {
    take(principal) {
      const { limits } = principal;
      if (!limits) return { ok: true };
      const projectId = `project:${principal.project}`;
      const wanted = [{ id: projectId, limit: limits.perProject }];
      if (principal.keyId !== undefined) wanted.push({ id: `key:${principal.keyId}`, limit: limits.perKey });
      const { waitMs, empty } = buckets.take(wanted);
      if (waitMs === 0) return { ok: true };
      const retryAfterSec = Math.max(1, Math.ceil(waitMs / 1000));
      const [whose, limit] = empty.includes(projectId)
        ? [`project "${principal.project}"`, limits.perProject]
        : [`key ${principal.keyPrefix ?? ''}`.trim(), limits.perKey];
      const error = new OrchError(
        'RATE_LIMITED',
        `rate limit of ${whose} reached (${limit.requestsPerMinute} requests per minute, bursts of ${limit.burst})`,
        {
          hint: `try again in ${retryAfterSec} s; an admin can raise it with \`mcp-orch projects limits ${principal.project}\``,
          retryAfterSec,
        },
      );
      return { ok: false, retryAfterSec, error };
    },
  };
}
