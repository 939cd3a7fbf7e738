import { OpenAPIHono, z, type Hook } from '@hono/zod-openapi';
import type { ApiUser } from '../../auth/adminPolicy.js';
import { OrchError } from '../../errors.js';
import { unknownServer } from '../../gateway/view.js';
import type { Upstream } from '../../upstream/upstream.js';
import { apiErrorResponse } from '../apiError.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { errorSchema } from './schemas.js';

/** What every route file of the API builds on: its app type, error responses, JSON bodies, visibility. */

/** Request validation failures become the API's error shape, naming each field. */
export const validationHook: Hook<unknown, ApiEnv, string, Response | undefined> = (result) => {
  if (result.success) return undefined;
  const where = result.target === 'json' ? 'body' : result.target;
  const fields = result.error.issues.map((issue) => `${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  return apiErrorResponse(
    new OrchError('BAD_REQUEST', `invalid request: ${fields.join('; ')}`, { hint: 'see /api/openapi.json for the shape' }),
  );
};

export function apiApp(): OpenAPIHono<ApiEnv> {
  return new OpenAPIHono<ApiEnv>({ defaultHook: validationHook });
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'invalid request (the message names the field)',
  401: 'no valid credentials',
  403: 'not allowed for this key or role',
  404: 'no such server, tool, project, member or key',
  409: 'already exists',
  429: 'rate limit reached (Retry-After)',
  503: 'the server is unavailable',
};

/** Error responses of a route, in the one error shape. */
export function errors(
  ...statuses: number[]
): Record<number, { description: string; content: { 'application/json': { schema: typeof errorSchema } } }> {
  return Object.fromEntries(
    [401, ...statuses].map((status) => [
      status,
      { description: DESCRIPTIONS[status] ?? 'error', content: { 'application/json': { schema: errorSchema } } },
    ]),
  );
}

/** A JSON response of a route. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON request body of a route. */
export function body<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { 'application/json': { schema } } };
}

/** Whether the user sees a server: operators see all; a key sees what its project exposes and it reaches. */
export function seesServer(deps: Pick<ApiDeps, 'access'>, user: ApiUser, server: string): boolean {
  return user.operator || deps.access.reaches(user.principal, server);
}

/** The servers of the pool the user sees. */
export function visibleUpstreams(deps: Pick<ApiDeps, 'access' | 'pool'>, user: ApiUser): Upstream[] {
  return deps.pool.all().filter((upstream) => seesServer(deps, user, upstream.name));
}

/** A server the user sees, or UNKNOWN_SERVER naming only those it does see. */
export function visibleUpstream(deps: Pick<ApiDeps, 'access' | 'pool'>, user: ApiUser, name: string): Upstream {
  const upstream = deps.pool.get(name);
  if (upstream && seesServer(deps, user, name)) return upstream;
  throw unknownServer(
    name,
    visibleUpstreams(deps, user).map((u) => u.name),
  );
}

/** A change made through the API (or the dashboard), in the audit log with who made it. */
export function recordChange(
  deps: Pick<ApiDeps, 'audit'>,
  user: ApiUser,
  action: string,
  what: { project?: string | undefined; target?: string | undefined; detail?: Record<string, unknown> | undefined } = {},
): void {
  const { principal } = user;
  deps.audit.record({
    type: 'manage',
    via: 'api',
    action,
    project: what.project ?? principal.project,
    member: principal.member,
    keyPrefix: principal.keyPrefix,
    user: user.via === 'token' || principal.kind === 'local' ? 'admin-token' : undefined,
    target: what.target,
    detail: what.detail,
  });
}
