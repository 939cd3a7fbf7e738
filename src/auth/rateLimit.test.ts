import { describe, expect, it } from 'vitest';
import type { Principal } from './policy.js';
import { createRateLimiter, createTokenBuckets } from './rateLimit.js';

const principal = (keyId: number, project = 'alpha', perKey = { requestsPerMinute: 60, burst: 3 }): Principal => ({
  kind: 'key',
  project,
  role: 'member',
  keyId,
  keyPrefix: `mcpo_key${keyId}xxxx`,
  servers: null,
  readOnly: false,
  limits: { perKey, perProject: { requestsPerMinute: 600, burst: 5 } },
});

describe('token buckets', () => {
  it('allows a burst, then one request per refill interval, and says how long to wait', () => {
    let now = 0;
    const buckets = createTokenBuckets(() => now);
    const limit = { requestsPerMinute: 60, burst: 2 };
    const take = () => buckets.take([{ id: 'k', limit }]);
    expect(take().waitMs).toBe(0);
    expect(take().waitMs).toBe(0);
    expect(take()).toEqual({ waitMs: 1000, empty: ['k'] });
    now += 999;
    expect(take().waitMs).toBe(1);
    now += 1;
    expect(take().waitMs).toBe(0);
    now += 60_000;
    // Refills to the burst, not beyond.
    expect([take(), take(), take()].map((r) => r.waitMs)).toEqual([0, 0, 1000]);
  });

  it('takes from all buckets or from none', () => {
    const buckets = createTokenBuckets(() => 0);
    const small = { id: 'small', limit: { requestsPerMinute: 60, burst: 1 } };
    const big = { id: 'big', limit: { requestsPerMinute: 60, burst: 10 } };
    expect(buckets.take([small, big]).waitMs).toBe(0);
    for (let i = 0; i < 5; i++) expect(buckets.take([small, big]).empty).toEqual(['small']);
    // The refusals took nothing from the big bucket: nine are left.
    const left = Array.from({ length: 10 }, () => buckets.take([big]).waitMs === 0).filter(Boolean).length;
    expect(left).toBe(9);
  });

  it('treats 0 requests per minute as no limit', () => {
    const buckets = createTokenBuckets(() => 0);
    for (let i = 0; i < 1000; i++) expect(buckets.take([{ id: 'x', limit: { requestsPerMinute: 0, burst: 1 } }]).waitMs).toBe(0);
  });

  it('forgets buckets that have refilled, so memory stays bounded', () => {
    let now = 0;
    const buckets = createTokenBuckets(() => now, 100);
    const limit = { requestsPerMinute: 60, burst: 1 };
    for (let i = 0; i < 1000; i++) {
      buckets.take([{ id: `k${i}`, limit }]);
      now += 1000;
    }
    expect(buckets.size).toBeLessThanOrEqual(101);
  });
});

describe('rate limiter', () => {
  it('limits each key, and the project as a whole, answering with Retry-After seconds', () => {
    let now = 0;
    const limiter = createRateLimiter({ clock: () => now });
    expect([1, 2, 3].map(() => limiter.take(principal(1)).ok)).toEqual([true, true, true]);
    const refused = limiter.take(principal(1));
    expect(refused).toMatchObject({ ok: false, retryAfterSec: 1 });
    if (!refused.ok) {
      expect(refused.error.code).toBe('RATE_LIMITED');
      expect(refused.error.retryAfterSec).toBe(1);
      expect(refused.error.message).toBe('rate limit of key mcpo_key1xxxx reached (60 requests per minute, bursts of 3)');
    }
    // Another key of the project has its own bucket, until the project's burst of 5 is spent.
    expect([1, 2].map(() => limiter.take(principal(2)).ok)).toEqual([true, true]);
    const project = limiter.take(principal(2));
    expect(project.ok).toBe(false);
    if (!project.ok) expect(project.error.message).toContain('rate limit of project "alpha"');
    // Another project is not touched.
    expect(limiter.take(principal(3, 'beta')).ok).toBe(true);
    now += 1000;
    expect(limiter.take(principal(1)).ok).toBe(true);
  });

  it('does not limit the owner of the data dir', () => {
    const limiter = createRateLimiter({ clock: () => 0 });
    const local: Principal = { kind: 'local', project: 'alpha', role: 'admin', servers: null, readOnly: false };
    for (let i = 0; i < 100; i++) expect(limiter.take(local).ok).toBe(true);
  });
});
