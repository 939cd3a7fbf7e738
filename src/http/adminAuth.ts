import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Compares two secrets in time independent of where they differ (hashing first evens out their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/**
 * Guards the admin API: `Authorization: Bearer <token>` with the token the daemon wrote to
 * `<data dir>/admin-token`. Anything else is a 401 that says where the token is, in words: the
 * absolute path would tell any caller the user's name and home directory.
 */
export function adminAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !sameSecret(match[1], token)) {
      c.header('WWW-Authenticate', 'Bearer realm="mcp-orch admin"');
      return c.json(
        {
          error: header ? 'invalid admin token' : 'missing admin token',
          hint: 'send "Authorization: Bearer <token>" with the token the daemon wrote to <data dir>/admin-token; the mcp-orch CLI reads it and does so for you',
        },
        401,
      );
    }
    await next();
  };
}
