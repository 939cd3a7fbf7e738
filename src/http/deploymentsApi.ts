import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { formatIssues } from '../config/issues.js';
import type { Deployer } from '../deploy/deployer.js';
import { deployRequestSchema, updateRequestSchema } from '../deploy/schema.js';
import { apiErrorBody, httpStatusOf, OrchError } from '../errors.js';

/** What the deployments routes ask of the daemon: its Deployer. */
export type Deployments = Pick<Deployer, 'deploy' | 'update' | 'rollback' | 'remove' | 'list' | 'get' | 'rotateWebhookSecret' | 'webhook'>;

const NDJSON = 'application/x-ndjson';

function failure(c: Context, error: unknown): Response {
  return c.json(apiErrorBody(error), httpStatusOf(error) as ContentfulStatusCode);
}

/** The body, parsed and checked against `schema`; a mistake is a 400 naming each field. */
async function bodyOf<T>(c: Context, schema: z.ZodType<T>, empty: unknown): Promise<T> {
  const text = await c.req.text();
  let data: unknown = empty;
  if (text.trim() !== '') {
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new OrchError('BAD_REQUEST', `the body is not JSON: ${(error as Error).message}`);
    }
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    throw new OrchError('BAD_REQUEST', formatIssues(parsed.error.issues, schema, data).join('\n'), {
      hint: 'see the body of POST /api/deployments in the README',
    });
  }
  return parsed.data;
}

/**
 * A deployment operation's answer: JSON once it is done, or, for a client that accepts
 * `application/x-ndjson`, its log lines as they come (`{"log": ...}`) and then `{"result": ...}` or
 * `{"error": ..., "status": ...}`: an install may take minutes, and the CLI shows its progress.
 */
function answer(
  c: Context,
  run: (onLog?: (line: string) => void) => Promise<unknown>,
  status: ContentfulStatusCode = 200,
): Promise<Response> | Response {
  if (!(c.req.header('accept') ?? '').includes(NDJSON)) {
    return run().then(
      (result) => c.json(result as object, status),
      (error: unknown) => failure(c, error),
    );
  }
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
          (result) => put({ result }),
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
  return new Response(stream, { status, headers: { 'content-type': NDJSON } });
}

/**
 * `/api/deployments` (behind the admin token): deploy a server from a git repository, update it to
 * the ref it follows, roll it back one commit, remove it, list them, and a new webhook secret.
 * Self-contained: its bodies are the zod schemas of src/deploy/schema.ts.
 */
export function createDeploymentsApi(deployments: Deployments): Hono {
  const api = new Hono();
  const guarded = (c: Context, fn: () => Response | Promise<Response>): Promise<Response> =>
    Promise.resolve()
      .then(fn)
      .catch((error: unknown) => failure(c, error));

  api.get('/', (c) => guarded(c, () => c.json({ deployments: deployments.list() })));
  api.post('/', (c) =>
    guarded(c, async () => {
      const request = await bodyOf(c, deployRequestSchema, undefined);
      return answer(c, (onLog) => deployments.deploy(request, onLog), 201);
    }),
  );
  api.get('/:name', (c) => guarded(c, () => c.json(deployments.get(c.req.param('name')))));
  api.post('/:name/update', (c) =>
    guarded(c, async () => {
      const { ref } = await bodyOf(c, updateRequestSchema, {});
      return answer(c, (onLog) => deployments.update(c.req.param('name'), { ref }, onLog));
    }),
  );
  api.post('/:name/rollback', (c) => guarded(c, () => answer(c, (onLog) => deployments.rollback(c.req.param('name'), onLog))));
  api.post('/:name/webhook-secret', (c) => guarded(c, () => c.json(deployments.rotateWebhookSecret(c.req.param('name')))));
  api.delete('/:name', (c) =>
    guarded(c, async () => {
      const name = c.req.param('name');
      await deployments.remove(name);
      return c.json({ removed: name });
    }),
  );
  return api;
}
