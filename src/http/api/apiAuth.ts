import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { keyUser, tokenUser, type ApiUser } from '../../auth/adminPolicy.js';
import { wwwAuthenticate } from '../../auth/authenticate.js';
import { sameSecret } from '../../auth/keys.js';
import { sessionCookie, type DashboardSession } from '../../auth/sessions.js';
import { OrchError } from '../../errors.js';
import { addressOf, apiErrorResponse, portOf } from '../apiError.js';
import type { ApiAuth, ApiDeps } from './deps.js';

/** What every authenticated route of the API and the dashboard finds on its context. */
export type ApiEnv = { Variables: { user: ApiUser; session: DashboardSession | undefined } };

/** Methods that change something: a dashboard session must send its CSRF token with them. */
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const CSRF_HEADER = 'x-csrf-token';

const CREDENTIALS_HINT =
  'send "Authorization: Bearer <key>" with an mcpo_ API key, or the daemon\'s token from <data dir>/admin-token (the mcp-orch CLI does so), or log in at /ui';

export type Identified = { user: ApiUser; session?: DashboardSession | undefined } | { error: OrchError; headers?: Record<string, string> };

/**
 * Who a request is: the bearer of the admin token (everything), of an API key (its project's role),
 * or the holder of a dashboard session cookie (whoever logged in, as their key is now: a revoked
 * key ends its sessions). A session's changes must carry its CSRF token.
 */
export function identifyApiUser(c: Context, deps: Pick<ApiDeps, 'auth' | 'access'>): Identified {
  const { auth } = deps;
  const authorization = c.req.header('authorization');
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (bearer !== undefined && sameSecret(bearer, auth.token)) return { user: tokenUser() };
    const result = auth.authenticate(authorization, addressOf(c));
    if (!result.ok) {
      const error = new OrchError('UNAUTHORIZED', result.error.message, { hint: CREDENTIALS_HINT });
      return { error, headers: { 'www-authenticate': wwwAuthenticate(result.failure) } };
    }
    return { user: keyUser(result.principal, 'key') };
  }
  const token = getCookie(c, sessionCookie(portOf(c)));
  const session = auth.sessions.get(token);
  if (!session) {
    const error = new OrchError('UNAUTHORIZED', token ? 'the dashboard session has expired' : 'credentials are required', {
      hint: CREDENTIALS_HINT,
    });
    return { error, headers: { 'www-authenticate': 'Bearer realm="mcp-orch"' } };
  }
  if (!SAFE_METHODS.has(c.req.method) && !sameSecret(c.req.header(CSRF_HEADER) ?? '', session.csrf)) {
    return {
      error: new OrchError('FORBIDDEN', 'a change from the dashboard must carry its CSRF token', { hint: 'reload the page and try again' }),
    };
  }
  return sessionUser(auth, deps.access, token, session);
}

/** The user of a live session, with its key as the store has it now. */
export function sessionUser(auth: ApiAuth, access: ApiDeps['access'], token: string | undefined, session: DashboardSession): Identified {
  if (session.subject.kind === 'token') return { user: tokenUser('session'), session };
  const principal = access.refresh(session.subject.principal);
  if (!principal) {
    auth.sessions.delete(token);
    return {
      error: new OrchError('UNAUTHORIZED', 'the key this session logged in with no longer works', {
        hint: 'log in again with a valid key',
      }),
    };
  }
  return { user: keyUser(principal, 'session'), session };
}

/** The API's guard: sets `user` (and `session`) or answers 401/403 in the API's error shape. */
export function apiAuth(deps: Pick<ApiDeps, 'auth' | 'access'>): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const found = identifyApiUser(c, deps);
    if ('error' in found) return apiErrorResponse(found.error, found.headers);
    c.set('user', found.user);
    c.set('session', found.session);
    await next();
  };
}
