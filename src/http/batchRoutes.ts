import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { localPrincipal, type Principal } from '../auth/policy.js';
import { executeRequestSchema } from '../batch/plan.js';
import type { BatchService } from '../batch/service.js';
import type { TaskEvent } from '../batch/views.js';
import { OrchError } from '../errors.js';
import { EventStream } from '../eventStream.js';
import { sameSecret } from '../auth/keys.js';
import { addressOf, apiErrorResponse } from './apiError.js';
import type { Identify } from './identify.js';

export interface BatchRoutesDeps {
  batch: BatchService;
  identify: Identify;
  /** The admin token: its holder is the owner of the data dir, an admin of every project (the CLI). */
  adminToken: string | undefined;
  defaultProject: string;
  maxBodyBytes: number;
}

/** The query of `GET /batch`: how many tasks, newest first. */
export const listQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });

/**
 * The batch REST API, the same under `/batch`, `/api/batch` and `/projects/{project}/batch`:
 *   POST   /execute       {"request": "..."} or {"plan": {...}}, optional "dryRun", "planner"
 *   GET    /status/{id}   the task and its steps
 *   GET    /result/{id}   with the plan and every step's result
 *   DELETE /cancel/{id}   cancels it; answers once it has stopped
 *   GET    /events/{id}   Server-Sent Events: `task`, `step` and a last `done`
 *   GET    /              the caller's tasks, newest first (an admin: the project's)
 * Bodies and answers are described by the zod schemas of batch/plan.ts and batch/views.ts. A key
 * authenticates as on the MCP endpoints; the admin token acts as the owner of the data dir.
 */
export function createBatchRoutes(deps: BatchRoutesDeps): Hono {
  const app = new Hono();
  const { batch } = deps;

  /** The caller of a request, or the response refusing it. */
  const principalOf = (c: Context): Principal | Response => {
    const project = c.req.param('project') ?? deps.defaultProject;
    const authorization = c.req.header('authorization');
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (token && deps.adminToken && sameSecret(token, deps.adminToken)) return localPrincipal(project);
    const found = deps.identify({ authorization, project, address: addressOf(c), transport: 'batch' });
    if ('error' in found) return apiErrorResponse(found.error, found.headers);
    return found.principal;
  };

  /** Runs a handler with the caller's principal; any thrown error answers with the one error mapping. */
  const handle =
    (body: (c: Context, principal: Principal) => Response | Promise<Response>) =>
    async (c: Context): Promise<Response> => {
      const principal = principalOf(c);
      if (principal instanceof Response) return principal;
      try {
        return await body(c, principal);
      } catch (error) {
        return apiErrorResponse(error);
      }
    };

  app.post(
    '/execute',
    handle(async (c, principal) => {
      const text = await c.req.text();
      if (Buffer.byteLength(text) > deps.maxBodyBytes) {
        throw new OrchError('PAYLOAD_TOO_LARGE', `request body exceeds ${deps.maxBodyBytes} bytes`, { hint: 'raise orch.maxBodyBytes' });
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (error) {
        throw new OrchError('BAD_REQUEST', `the body is not JSON: ${(error as Error).message}`, {
          hint: 'send {"request": "..."} or {"plan": {...}} with Content-Type: application/json',
        });
      }
      const parsed = executeRequestSchema.safeParse(json);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
        throw new OrchError('BAD_REQUEST', `invalid request: ${problems.join('; ')}`, {
          hint: 'send {"request": "..."} or {"plan": {...}}',
        });
      }
      const submitted = await batch.submit({ principal, address: addressOf(c) }, parsed.data);
      return c.json(submitted, 'dryRun' in submitted ? 200 : 202);
    }),
  );

  app.get(
    '/status/:id',
    handle((c, principal) => c.json(batch.status(principal, c.req.param('id') ?? ''))),
  );
  app.get(
    '/result/:id',
    handle((c, principal) => c.json(batch.result(principal, c.req.param('id') ?? ''))),
  );
  app.delete(
    '/cancel/:id',
    handle(async (c, principal) => c.json(await batch.cancel(principal, c.req.param('id') ?? ''))),
  );
  app.get(
    '/',
    handle((c, principal) => {
      const query = listQuerySchema.safeParse({ limit: c.req.query('limit') ?? undefined });
      if (!query.success) throw new OrchError('BAD_REQUEST', `limit: ${query.error.issues[0]?.message ?? 'invalid'}`);
      return c.json({ tasks: batch.list(principal, query.data.limit) });
    }),
  );

  app.get(
    '/events/:id',
    handle((c, principal) => {
      const send = (event: TaskEvent): void => {
        stream.event(JSON.stringify(event.type === 'step' ? event.step : event.task), event.type);
        if (event.type === 'done') stream.end();
      };
      // Followed first: an unknown task is a 404 before any stream exists.
      const { task, stop } = batch.follow(principal, c.req.param('id') ?? '', (event) => send(event));
      const stream = new EventStream({ onend: () => stop?.() });
      send({ type: stop ? 'task' : 'done', task });
      c.req.raw.signal.addEventListener('abort', () => stream.end(), { once: true });
      return stream.response();
    }),
  );

  return app;
}
