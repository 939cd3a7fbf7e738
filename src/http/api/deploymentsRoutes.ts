import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { requireOperator } from '../../auth/adminPolicy.js';
import { deployRequestSchema, deploymentStatusSchema, deployResultSchema, updateRequestSchema } from '../../deploy/schema.js';
import { apiErrorBody, httpStatusOf } from '../../errors.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json } from './routeKit.js';

const NDJSON = 'application/x-ndjson';
const tag = ['deployments'];
const name = z.object({
  name: z
    .string()
    .min(1)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'hello' }),
});
// Schemas made before zod-openapi was loaded have no .openapi(): an extension made now names it.
const result = deployResultSchema.extend({}).openapi('DeployResult');
const status = deploymentStatusSchema.extend({}).openapi('Deployment');

/** A deployment's answer: JSON once done, or as NDJSON log lines while it runs for a client that accepts them. */
function operationResponse(description: string) {
  return {
    description,
    content: {
      'application/json': { schema: result },
      [NDJSON]: {
        schema: z
          .string()
          .openapi({ description: 'lines of {"log": "..."}, then {"result": DeployResult} or {"error": Error, "status": n}' }),
      },
    },
  };
}

/**
 * An operation's answer: JSON once it is done, or, for a client that accepts `application/x-ndjson`,
 * its log lines as they come (`{"log": ...}`) and then `{"result": ...}` or `{"error": ..., "status":
 * ...}`: an install may take minutes, and the CLI shows its progress.
 */
async function answer(c: Context, run: (onLog?: (line: string) => void) => Promise<unknown>, status: 200 | 201 = 200): Promise<never> {
  // (never: the route's types cannot tell its two media types apart; both are described in its responses.)
  if (!(c.req.header('accept') ?? '').includes(NDJSON)) return c.json((await run()) as object, status) as never;
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const put = (value: unknown): void => {
        try {
          controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
        } catch {
          // The client went away; the operation carries on and its log keeps the lines.
        }
      };
      run((line) => put({ log: line }))
        .then(
          (value) => put({ result: value }),
          (error: unknown) => put({ error: apiErrorBody(error), status: httpStatusOf(error) }),
        )
        .finally(() => {
          try {
            controller.close();
          } catch {
            // Already cancelled by the client.
          }
        });
    },
  });
  return new Response(stream, { status, headers: { 'content-type': NDJSON } }) as never;
}

/**
 * Servers deployed from git (operators): deploy, update to the ref a deployment follows, roll back
 * one commit, remove, list, and a new webhook secret. The bodies are the zod schemas of
 * src/deploy/schema.ts, which the CLI sends too.
 */
export function deploymentsRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  const deployments = deps.deployments;
  const operator = (c: Context<ApiEnv>): void => requireOperator(c.get('user'), 'manage deployments');

  app.openapi(
    createRoute({
      method: 'get',
      path: '/deployments',
      tags: tag,
      summary: 'Every server deployed from git',
      responses: { 200: json(z.object({ deployments: z.array(status) }), 'the deployments'), ...errors(403) },
    }),
    (c) => {
      operator(c);
      return c.json({ deployments: deployments.list() }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/deployments',
      tags: tag,
      summary: 'Clone a repository at a resolved commit, install and build it, and add it as a server',
      request: { body: body(deployRequestSchema) },
      responses: { 201: operationResponse('deployed'), ...errors(400, 403, 409, 422) },
    }),
    (c) => {
      operator(c);
      const request = c.req.valid('json');
      return answer(c, (onLog) => deployments.deploy(request, onLog), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/deployments/{name}',
      tags: tag,
      summary: 'One deployment',
      request: { params: name },
      responses: { 200: json(status, 'the deployment'), ...errors(403, 404) },
    }),
    (c) => {
      operator(c);
      return c.json(deployments.get(c.req.valid('param').name), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/deployments/{name}/update',
      tags: tag,
      summary: 'Move a deployment to the newest commit of the ref it follows (or another ref); the old one runs until the new one answers',
      request: { params: name, body: body(updateRequestSchema, false) },
      responses: { 200: operationResponse('updated'), ...errors(400, 403, 404, 422) },
    }),
    (c) => {
      operator(c);
      const { ref } = c.req.valid('json');
      return answer(c, (onLog) => deployments.update(c.req.valid('param').name, { ref }, onLog));
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/deployments/{name}/rollback',
      tags: tag,
      summary: 'Go back to the commit deployed before this one',
      request: { params: name },
      responses: { 200: operationResponse('rolled back'), ...errors(403, 404, 422) },
    }),
    (c) => {
      operator(c);
      return answer(c, (onLog) => deployments.rollback(c.req.valid('param').name, onLog));
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/deployments/{name}/webhook-secret',
      tags: tag,
      summary: "A new secret for the deployment's push webhook, shown once",
      request: { params: name },
      responses: { 200: json(z.object({ path: z.string(), secret: z.string() }), 'the webhook'), ...errors(403, 404) },
    }),
    (c) => {
      operator(c);
      return c.json(deployments.rotateWebhookSecret(c.req.valid('param').name), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/deployments/{name}',
      tags: tag,
      summary: 'Remove a deployment: its server leaves the config, its checkouts the disk',
      request: { params: name },
      responses: { 200: json(z.object({ removed: z.string() }), 'removed'), ...errors(403, 404) },
    }),
    async (c) => {
      operator(c);
      const { name: removed } = c.req.valid('param');
      await deployments.remove(removed);
      return c.json({ removed }, 200);
    },
  );

  return app;
}
