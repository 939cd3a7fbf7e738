import { describe, expect, it } from 'vitest';
import { createLoginLimiter, createSessionStore } from './sessions.js';

describe('createSessionStore', () => {
  it('finds a session by its token until it expires, then forgets it', () => {
    let now = 1000;
    const sessions = createSessionStore({ ttlMs: 100, clock: () => now });
    const { token, session } = sessions.create({ kind: 'token' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.csrf).not.toBe(token);
    expect(sessions.get(token)).toBe(session);
    expect(sessions.get(`${token}x`)).toBeUndefined();
    expect(sessions.get(undefined)).toBeUndefined();
    now = 1100;
    expect(sessions.get(token)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });

  it('ends a session on delete, and keeps at most `max`, dropping the oldest', () => {
    const sessions = createSessionStore({ max: 2 });
    const first = sessions.create({ kind: 'token' }).token;
    const second = sessions.create({ kind: 'token' }).token;
    const third = sessions.create({ kind: 'token' }).token;
    expect([first, second, third].map((t) => sessions.get(t) !== undefined)).toEqual([false, true, true]);
    sessions.delete(third);
    expect(sessions.get(third)).toBeUndefined();
  });
});

describe('createLoginLimiter', () => {
  it('lets a burst through per address, then refuses with a retry time until tokens refill', () => {
    let now = 0;
    const limit = createLoginLimiter({ limit: { requestsPerMinute: 6, burst: 2 }, clock: () => now });
    limit('10.0.0.1');
    limit('10.0.0.1');
    expect(() => limit('10.0.0.1')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSec: 10 }));
    limit('10.0.0.2');
    now = 10_000;
    limit('10.0.0.1');
  });
});
