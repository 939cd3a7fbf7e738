import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { apiErrorResponse } from './apiError.js';
import { bodyBound } from './bodyBound.js';
import type { Deployments } from './api/deps.js';

/**
 * `POST /hooks/git/{name}`: push webhooks from GitHub (and services that sign the same way). No key
 * or token: the `X-Hub-Signature-256` HMAC of the body under the deployment's own secret is the
 * credential, checked by the deployer, which audits every delivery. The body is read raw, since the
 * signature is over its bytes, and bounded like every other body.
 */
export function createGitHook(
  deployments: Pick<Deployments, 'webhook'>,
  maxBodyBytes: number,
  addressOf: (c: Context) => string | undefined,
): Hono {
  const hooks = new Hono();
  hooks.post(
    '/:name',
    bodyBound(maxBodyBytes, (error) => apiErrorResponse(error)),
    async (c) => {
      const body = new Uint8Array(await c.req.arrayBuffer());
      const { status, body: answer } = deployments.webhook(c.req.param('name'), {
        body,
        signature: c.req.header('x-hub-signature-256'),
        event: c.req.header('x-github-event'),
        contentType: c.req.header('content-type'),
        address: addressOf(c),
      });
      return c.json(answer, status as ContentfulStatusCode);
    },
  );
  return hooks;
}
