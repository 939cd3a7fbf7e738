import { createHash, randomBytes } from 'node:crypto';
import type { RateLimit } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Principal } from './policy.js';
import { createTokenBuckets } from './rateLimit.js';

/**
 * The dashboard's login sessions: a random token in an HttpOnly, SameSite=Strict cookie, and a CSRF
 * token the pages send back in a header with every change. Kept in memory by the SHA-256 of the
 * token (a heap dump shows no usable cookie), with an expiry, and bounded: past `max` the session
 * closest to expiring goes. A daemon restart logs everyone out. Pure apart from the clock.
 */

/** Who a session is: the daemon's admin token (everything), or an API key's principal (refreshed on every use). */
export type SessionSubject = { kind: 'token' } | { kind: 'key'; principal: Principal };

export interface DashboardSession {
  subject: SessionSubject;
  /** Sent by the pages in `X-CSRF-Token` with every request that changes something. */
  csrf: string;
  expiresAt: number;
}

export interface SessionStore {
  /** A new session; `token` goes in the cookie and is not kept. */
  create(subject: SessionSubject): { token: string; session: DashboardSession };
  /** The live session of a cookie's token, or undefined (unknown, expired). */
  get(token: string | undefined): DashboardSession | undefined;
  delete(token: string | undefined): void;
  readonly size: number;
}

/**
 * The session cookie's name for a daemon on `port`: browsers keep cookies by host, not by port, so
 * two daemons on one machine would otherwise log each other out.
 */
export function sessionCookie(port: string | number): string {
  return `mcpo_session_${port}`;
}
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;

const digest = (token: string): string => createHash('sha256').update(token).digest('base64url');

export function createSessionStore(options: { ttlMs?: number; max?: number; clock?: () => number } = {}): SessionStore {
  const ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const max = options.max ?? 1000;
  const clock = options.clock ?? Date.now;
  const sessions = new Map<string, DashboardSession>();

  const sweep = (now: number): void => {
    for (const [id, session] of sessions) if (session.expiresAt <= now) sessions.delete(id);
    // Insertion order is expiry order: every session lives ttlMs from its creation.
    while (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
  };

  return {
    create(subject) {
      const now = clock();
      sweep(now);
      const token = randomBytes(32).toString('base64url');
      const session: DashboardSession = { subject, csrf: randomBytes(24).toString('base64url'), expiresAt: now + ttlMs };
      sessions.set(digest(token), session);
      return { token, session };
    },
    get(token) {
      if (!token) return undefined;
      const id = digest(token);
      const session = sessions.get(id);
      if (session && session.expiresAt <= clock()) {
        sessions.delete(id);
        return undefined;
      }
      return session;
    },
    delete(token) {
      if (token) sessions.delete(digest(token));
    },
    get size() {
      return sessions.size;
    },
  };
}

/** Login attempts allowed per client address: a burst of 5, then one every 6 seconds. */
export const LOGIN_RATE: RateLimit = { requestsPerMinute: 10, burst: 5 };

/** Bounds how fast one address may try keys at the login form; throws RATE_LIMITED past it. */
export function createLoginLimiter(options: { limit?: RateLimit; clock?: () => number } = {}): (address: string | undefined) => void {
  const limit = options.limit ?? LOGIN_RATE;
  const buckets = createTokenBuckets(options.clock ?? Date.now);
  return (address) => {
    const { waitMs } = buckets.take([{ id: `login:${address ?? 'unknown'}`, limit }]);
    if (waitMs === 0) return;
    const retryAfterSec = Math.max(1, Math.ceil(waitMs / 1000));
    throw new OrchError('RATE_LIMITED', 'too many login attempts from this address', {
      hint: `try again in ${retryAfterSec} s`,
      retryAfterSec,
    });
  };
}
