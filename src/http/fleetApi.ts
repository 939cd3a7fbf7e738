import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AlertTargetStatus } from '../alerts/alerts.js';
import { shapingSchema, type PinningMode, type ShapingRules } from '../config/schema.js';
import { formatIssues } from '../config/issues.js';
import { apiErrorBody, httpStatusOf, OrchError } from '../errors.js';
import type { PinReview } from '../pinning/review.js';

/**
 * The admin API of what clients see and what operators hear: pinning (the definitions that changed,
 * their approval), each project's filters and overrides, alerts and groups. Mounted under /api
 * behind the admin token; the daemon supplies the store-backed operations.
 */

export interface FleetOverview {
  pinning: { mode: PinningMode };
  alerts: AlertTargetStatus[];
  /** Group name -> its servers. */
  groups: Record<string, string[]>;
}

export interface FleetApiDeps {
  overview(): FleetOverview;
  pins(server: string | undefined, changedOnly: boolean): PinReview[];
  /** Approves what a server offers now (one tool, or every changed one); audited as the API's. */
  approve(server: string, tool: string | undefined): string[];
  /** A project's rules by server; UNKNOWN_PROJECT for none. */
  rules(project: string): Record<string, ShapingRules>;
  /** Replaces (or with null removes) a server's rules in a project; audited as the API's. */
  setRules(project: string, server: string, rules: ShapingRules | null): Record<string, ShapingRules>;
}

function failure(c: Context, error: unknown): Response {
  return c.json(apiErrorBody(error), httpStatusOf(error) as ContentfulStatusCode);
}

/** The JSON body (`{}` when there is none), or a BAD_REQUEST. */
async function body(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (!text.trim()) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OrchError('BAD_REQUEST', 'the body must be JSON', { hint: 'send a JSON object' });
  }
}

export function createFleetApi(deps: FleetApiDeps): Hono {
  const api = new Hono();
  const attempt = (c: Context, fn: () => unknown | Promise<unknown>) =>
    Promise.resolve()
      .then(fn)
      .then(
        (result) => c.json(result as object),
        (error: unknown) => failure(c, error),
      );

  api.get('/fleet', (c) => c.json(deps.overview()));

  api.get('/tools/pins', (c) =>
    attempt(c, () => {
      const changed = ['1', 'true', ''].includes(c.req.query('changed') ?? 'no');
      return { mode: deps.overview().pinning.mode, pins: deps.pins(c.req.query('server') || undefined, changed) };
    }),
  );

  api.post('/servers/:name/tools/approve', (c) =>
    attempt(c, async () => {
      const given = await body(c);
      const tool = given && typeof given === 'object' ? (given as { tool?: unknown }).tool : undefined;
      if (tool !== undefined && typeof tool !== 'string') throw new OrchError('BAD_REQUEST', '"tool" must be a string');
      const server = c.req.param('name');
      return { server, approved: deps.approve(server, tool) };
    }),
  );

  api.get('/projects/:project/rules', (c) =>
    attempt(c, () => ({ project: c.req.param('project'), rules: deps.rules(c.req.param('project')) })),
  );

  api.put('/projects/:project/servers/:server/rules', (c) =>
    attempt(c, async () => {
      const given = await body(c);
      const parsed = shapingSchema.strict().safeParse(given);
      if (!parsed.success) {
        throw new OrchError('BAD_REQUEST', formatIssues(parsed.error.issues, shapingSchema, given).join('; '), {
          hint: 'send {"tools": {"allow": [...], "deny": [...]}, "prompts": ..., "resources": ..., "overrides": {...}, "promptOverrides": {...}}',
        });
      }
      const { project, server } = c.req.param();
      return { project, server, rules: deps.setRules(project, server, parsed.data)[server] ?? null };
    }),
  );

  api.delete('/projects/:project/servers/:server/rules', (c) =>
    attempt(c, () => {
      const { project, server } = c.req.param();
      deps.setRules(project, server, null);
      return { project, server, rules: null };
    }),
  );

  return api;
}
