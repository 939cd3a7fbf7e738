import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { otherProject } from '../../auth/access.js';
import type { ApiUser } from '../../auth/adminPolicy.js';
import { localPrincipal, type Principal } from '../../auth/policy.js';
import { executeRequestSchema } from '../../batch/plan.js';
import { dryRunSchema, taskViewSchema, type TaskEvent } from '../../batch/views.js';
import { EventStream } from '../../eventStream.js';
import { addressOf } from '../apiError.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json } from './routeKit.js';
import { projectParam } from './schemas.js';

// Schemas made before zod-openapi was loaded have no .openapi(): an extension made now names it
// (and keeps the request's refinement: either "request" or "plan").
const executeRequest = executeRequestSchema.extend({}).openapi('BatchExecuteRequest');
const task = taskViewSchema.extend({}).openapi('BatchTask');
const dryRun = dryRunSchema.extend({}).openapi('BatchDryRun');

const id = z.object({
  id: z
    .string()
    .min(1)
    .openapi({ param: { name: 'id', in: 'path' }, example: '6f1c2d0e-…' }),
});
const projectQuery = z.object({
  project: z
    .string()
    .min(1)
    .optional()
    .openapi({ description: 'the project the task runs in (the admin token only; a key acts in its own project). Default: default' }),
});
const limit = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'how many tasks, newest first (default 50)' }),
});

/**
 * Where the batch routes are served: under /api (the project from `?project=`), and as the short
 * forms `/batch/...` (the same) and `/projects/{project}/batch/...` (the project from the path).
 */
export type BatchMount = 'api' | 'short' | 'project';

/**
 * The principal a batch request acts as: a key's own, in its project only (a key of another project
 * is refused, as on the MCP endpoints); the admin token's, as the data dir's owner in the project
 * named (the default project unless one is).
 */
function batchPrincipal(deps: Pick<ApiDeps, 'store'>, user: ApiUser, project: string | undefined): Principal {
  const { principal } = user;
  if (principal.kind !== 'local') {
    if (project !== undefined && project !== principal.project) throw otherProject(principal, project);
    return principal;
  }
  if (project === undefined) return principal;
  deps.store.projects.require(project);
  return localPrincipal(project);
}

/**
 * Batch tasks (see src/batch): submit a plan or a request in words, follow it, read its results,
 * cancel it, list them. Bodies and answers are the zod schemas of batch/plan.ts and batch/views.ts.
 * A key sees its own tasks, an admin every task of its project (the batch service decides).
 */
export function batchRoutes(deps: ApiDeps, mount: BatchMount = 'api'): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  const { service } = deps.batch;
  const base = mount === 'project' ? '/projects/{project}/batch' : '/batch';
  const tags = mount === 'api' ? ['batch'] : ['aliases'];
  const summary = (text: string, method: string, path: string): string => (mount === 'api' ? text : `As ${method} /api/batch${path}`);
  const where = mount === 'project' ? { params: z.object({ project: projectParam }) } : { query: projectQuery };
  const withId = mount === 'project' ? { params: id.extend({ project: projectParam }) } : { params: id, query: projectQuery };

  /** The caller as the batch service knows it, in the project the request names. */
  const principalOf = (c: Context<ApiEnv>): Principal =>
    batchPrincipal(deps, c.get('user'), mount === 'project' ? c.req.param('project') : c.req.query('project'));

  app.openapi(
    createRoute({
      method: 'post',
      path: `${base}/execute`,
      tags,
      summary: summary(
        'Start a task: a plan, or a request in words for the planner (orch.llm); with dryRun, the validated plan and its order, and nothing runs',
        'POST',
        '/execute',
      ),
      request: { ...where, body: body(executeRequest) },
      responses: {
        202: json(task, 'the task, started'),
        200: json(dryRun, 'a dry run: the plan and the waves its steps would run in'),
        ...errors(400, 403, 404, 413, 429, 503),
      },
    }),
    async (c) => {
      const submitted = await service.submit({ principal: principalOf(c), address: addressOf(c) }, c.req.valid('json'));
      return 'dryRun' in submitted ? c.json(submitted, 200) : c.json(submitted, 202);
    },
  );

  const reads = [
    { route: 'status', text: 'A task and its steps', read: (p: Principal, task: string) => service.status(p, task) },
    {
      route: 'result',
      text: "A task with its plan and every step's result",
      read: (p: Principal, task: string) => service.result(p, task),
    },
  ] as const;
  for (const { route, text, read } of reads) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${base}/${route}/{id}`,
        tags,
        summary: summary(text, 'GET', `/${route}/{id}`),
        request: withId,
        responses: { 200: json(task, 'the task'), ...errors(403, 404) },
      }),
      (c) => c.json(read(principalOf(c), c.req.param('id')), 200),
    );
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: `${base}/cancel/{id}`,
      tags,
      summary: summary(
        'Cancel a task: waiting steps never start, running calls are cancelled at their servers; answers once it has stopped',
        'DELETE',
        '/cancel/{id}',
      ),
      request: withId,
      responses: { 200: json(task, 'the task, stopped'), ...errors(403, 404, 409) },
    }),
    async (c) => c.json(await service.cancel(principalOf(c), c.req.param('id')), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: `${base}/events/{id}`,
      tags,
      summary: summary('A task as Server-Sent Events: `task` (its status), `step` (each change), then `done`', 'GET', '/events/{id}'),
      request: withId,
      responses: {
        200: {
          description: 'the stream; a finished task answers its `done` event at once',
          content: {
            'text/event-stream': {
              schema: z.string().openapi({ description: 'event: task or done, data: a BatchTask; event: step, data: one of its steps' }),
            },
          },
        },
        ...errors(403, 404),
      },
    }),
    (c) => {
      const send = (event: TaskEvent): void => {
        stream.event(JSON.stringify(event.type === 'step' ? event.step : event.task), event.type);
        if (event.type === 'done') stream.end();
      };
      // Followed first: an unknown task is a 404 before any stream exists.
      const followed = service.follow(principalOf(c), c.req.param('id'), (event) => send(event));
      const stream = new EventStream({ onend: () => followed.stop?.() });
      send({ type: followed.stop ? 'task' : 'done', task: followed.task });
      c.req.raw.signal.addEventListener('abort', () => stream.end(), { once: true });
      // (never: the route's types know its JSON answers only; the stream is described in its responses.)
      return stream.response() as never;
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: base,
      tags,
      summary: summary("The caller's tasks, newest first (an admin's: every task of the project)", 'GET', ''),
      request: { ...where, query: mount === 'project' ? limit : limit.extend(projectQuery.shape) },
      responses: { 200: json(z.object({ tasks: z.array(task) }), 'the tasks'), ...errors(400, 403, 404) },
    }),
    (c) => c.json({ tasks: service.list(principalOf(c), c.req.valid('query').limit) }, 200),
  );

  return app;
}
