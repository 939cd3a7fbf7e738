import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireProjectAdmin } from '../../auth/adminPolicy.js';
import { CLIENT_TITLES, CLIENTS, clientConfig, projectUrl, renderClientConfig } from '../../auth/clientConfigs.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps, KeyView } from './deps.js';
import { apiApp, body, errors, json, recordChange } from './routeKit.js';
import { explanationSchema, issuedKeySchema, keyCreateSchema, keySchema, projectParam } from './schemas.js';

const tag = ['keys'];
const project = z.object({ project: projectParam });
const keyParam = project.extend({
  key: z
    .string()
    .min(1)
    .openapi({ param: { name: 'key', in: 'path' }, description: 'the key or its prefix', example: 'mcpo_AbCd1234' }),
});
const DAY_MS = 86_400_000;

/** A new key as its creator receives it, once: the key, the project's URL, and what to paste into each client. */
export function issued(origin: string, key: string, record: KeyView): z.infer<typeof issuedKeySchema> {
  const url = projectUrl(origin, record.project);
  const clients = CLIENTS.map((client) => ({
    client,
    title: CLIENT_TITLES[client],
    text: renderClientConfig(clientConfig(client, { url, key })),
  }));
  return { key, record, url, clients };
}

/**
 * A project's API keys, for its admins: list, create (the key is in the answer once, with client
 * configs), rotate (a new key; the old one works through a grace period), revoke, and what a key
 * reaches (`keys explain`).
 */
export function keysRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  const { keys } = deps.store;
  const origin = (url: string): string => new URL(url).origin;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}/keys',
      tags: tag,
      summary: "A project's keys (never the keys themselves: their prefixes)",
      request: { params: project },
      responses: { 200: json(z.object({ keys: z.array(keySchema) }), 'the keys'), ...errors(403, 404) },
    }),
    (c) => {
      const slug = c.req.valid('param').project;
      requireProjectAdmin(c.get('user'), slug, 'list keys');
      return c.json({ keys: keys.list(slug) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project}/keys',
      tags: tag,
      summary: 'Create a key; the answer holds it once',
      request: { params: project, body: body(keyCreateSchema) },
      responses: { 201: json(issuedKeySchema, 'the key, once'), ...errors(400, 403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const slug = c.req.valid('param').project;
      requireProjectAdmin(user, slug, 'create keys');
      const input = c.req.valid('json');
      const { key, record } = keys.create(slug, {
        member: input.member,
        name: input.name ?? 'dashboard',
        expiresAt: input.expiresInDays === undefined ? null : Date.now() + input.expiresInDays * DAY_MS,
        servers: input.servers ?? null,
        readOnly: input.readOnly ?? false,
      });
      recordChange(deps, user, 'keys.create', {
        project: slug,
        target: record.prefix,
        detail: { member: record.member, servers: record.servers, readOnly: record.readOnly, expiresAt: record.expiresAt },
      });
      return c.json(issued(origin(c.req.url), key, record), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project}/keys/{key}/rotate',
      tags: tag,
      summary: 'A new key in place of this one; the old one keeps working for graceSec (default 0)',
      request: {
        params: keyParam,
        body: body(
          z.object({
            graceSec: z
              .number()
              .int()
              .min(0)
              .max(30 * 86_400)
              .optional(),
          }),
          false,
        ),
      },
      responses: { 200: json(issuedKeySchema, 'the new key, once'), ...errors(403, 404, 409) },
    }),
    (c) => {
      const user = c.get('user');
      const { project: slug, key: reference } = c.req.valid('param');
      requireProjectAdmin(user, slug, 'rotate keys');
      const graceSec = c.req.valid('json').graceSec ?? 0;
      const old = keys.find(slug, reference);
      const { key, record } = keys.rotate(slug, reference, graceSec * 1000);
      recordChange(deps, user, 'keys.rotate', { project: slug, target: old.prefix, detail: { replacedBy: record.prefix, graceSec } });
      return c.json(issued(origin(c.req.url), key, record), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project}/keys/{key}/revoke',
      tags: tag,
      summary: 'Revoke a key now; its sessions end',
      request: { params: keyParam },
      responses: { 200: json(keySchema, 'the revoked key'), ...errors(403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const { project: slug, key: reference } = c.req.valid('param');
      requireProjectAdmin(user, slug, 'revoke keys');
      const record = keys.revoke(slug, reference);
      recordChange(deps, user, 'keys.revoke', { project: slug, target: record.prefix });
      return c.json(record, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}/keys/{key}/explain',
      tags: tag,
      summary: 'What a key reaches, server by server, with the rule behind each refusal',
      request: { params: keyParam },
      responses: { 200: json(explanationSchema, 'the explanation'), ...errors(403, 404) },
    }),
    (c) => {
      const { project: slug, key: reference } = c.req.valid('param');
      requireProjectAdmin(c.get('user'), slug, 'explain keys');
      return c.json(keys.explain(slug, reference), 200);
    },
  );

  return app;
}
