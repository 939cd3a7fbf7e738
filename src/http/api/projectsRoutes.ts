import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { requireOperator, requireProjectAdmin, requireProjectMember } from '../../auth/adminPolicy.js';
import { rateLimitSchema, SERVER_NAME_PATTERN } from '../../config/schema.js';
import type { ApiEnv } from './apiAuth.js';
import type { ApiDeps } from './deps.js';
import { apiApp, body, errors, json, recordChange } from './routeKit.js';
import { doneSchema, memberAddSchema, membershipSchema, projectCreateSchema, projectParam, projectSchema } from './schemas.js';

const tag = ['projects'];
const project = z.object({ project: projectParam });
const memberParam = project.extend({
  member: z
    .string()
    .min(1)
    .openapi({ param: { name: 'member', in: 'path' }, example: 'alice' }),
});
const roleBody = z.object({ role: z.enum(['viewer', 'member', 'admin']) });

/**
 * Projects (operators create and delete them; a project's keys see their own), which config servers
 * each exposes and its rate limits, and its members with their roles (its admins manage them).
 */
export function projectsRoutes(deps: ApiDeps): OpenAPIHono<ApiEnv> {
  const app = apiApp();
  const { store } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects',
      tags: tag,
      summary: "Every project (operators), or the caller's own",
      responses: { 200: json(z.object({ projects: z.array(projectSchema) }), 'the projects'), ...errors() },
    }),
    (c) => {
      const user = c.get('user');
      const projects = store.projects.list().filter((p) => user.operator || p.slug === user.principal.project);
      return c.json({ projects }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/projects',
      tags: tag,
      summary: 'Create a project',
      request: { body: body(projectCreateSchema) },
      responses: { 201: json(projectSchema, 'the new project'), ...errors(400, 403, 409) },
    }),
    (c) => {
      const user = c.get('user');
      requireOperator(user, 'create projects');
      const input = c.req.valid('json');
      const created = store.projects.create(input);
      recordChange(deps, user, 'projects.create', { project: created.slug, target: created.slug, detail: { servers: input.servers } });
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}',
      tags: tag,
      summary: 'One project',
      request: { params: project },
      responses: { 200: json(projectSchema, 'the project'), ...errors(403, 404) },
    }),
    (c) => {
      const slug = c.req.valid('param').project;
      requireProjectMember(c.get('user'), slug);
      return c.json(store.projects.require(slug), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project}',
      tags: tag,
      summary: 'Delete a project with its memberships and keys (not the default project)',
      request: { params: project },
      responses: { 200: json(doneSchema, 'deleted'), ...errors(400, 403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const slug = c.req.valid('param').project;
      requireOperator(user, 'delete projects');
      store.projects.delete(slug);
      recordChange(deps, user, 'projects.delete', { project: slug, target: slug });
      return c.json({ done: true as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/projects/{project}/servers/{server}',
      tags: tag,
      summary: 'Turn a config server on or off in a project',
      request: {
        params: project.extend({
          server: z
            .string()
            .regex(SERVER_NAME_PATTERN)
            .openapi({ param: { name: 'server', in: 'path' } }),
        }),
        body: body(z.object({ enabled: z.boolean() })),
      },
      responses: { 200: json(projectSchema, 'the project'), ...errors(400, 403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const { project: slug, server } = c.req.valid('param');
      requireProjectAdmin(user, slug, 'turn servers on or off');
      const { enabled } = c.req.valid('json');
      const updated = store.projects.setServer(slug, server, enabled);
      recordChange(deps, user, `projects.servers.${enabled ? 'enable' : 'disable'}`, { project: slug, target: server });
      return c.json(updated, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/projects/{project}/limits',
      tags: tag,
      summary: "A project's rate limits; null returns one to the orch.rateLimit default",
      request: {
        params: project,
        body: body(z.object({ perKey: rateLimitSchema.nullable().optional(), perProject: rateLimitSchema.nullable().optional() })),
      },
      responses: { 200: json(projectSchema, 'the project'), ...errors(400, 403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const slug = c.req.valid('param').project;
      requireOperator(user, 'change rate limits');
      const limits = c.req.valid('json');
      const updated = store.projects.setLimits(slug, limits);
      recordChange(deps, user, 'projects.limits', { project: slug, target: slug, detail: limits });
      return c.json(updated, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/projects/{project}/members',
      tags: tag,
      summary: "A project's members and their roles",
      request: { params: project },
      responses: { 200: json(z.object({ members: z.array(membershipSchema) }), 'the members'), ...errors(403, 404) },
    }),
    (c) => {
      const slug = c.req.valid('param').project;
      requireProjectAdmin(c.get('user'), slug, 'list members');
      return c.json({ members: store.members.list(slug) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/projects/{project}/members',
      tags: tag,
      summary: 'Add a person to a project with a role',
      request: { params: project, body: body(memberAddSchema) },
      responses: { 201: json(membershipSchema, 'the membership'), ...errors(400, 403, 404, 409) },
    }),
    (c) => {
      const user = c.get('user');
      const slug = c.req.valid('param').project;
      requireProjectAdmin(user, slug, 'add members');
      const added = store.members.add(slug, c.req.valid('json'));
      recordChange(deps, user, 'members.add', { project: slug, target: added.member.name, detail: { role: added.role } });
      return c.json(added, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/projects/{project}/members/{member}',
      tags: tag,
      summary: "Change a member's role",
      request: { params: memberParam, body: body(roleBody) },
      responses: { 200: json(membershipSchema, 'the membership'), ...errors(400, 403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const { project: slug, member } = c.req.valid('param');
      requireProjectAdmin(user, slug, 'change roles');
      const { role } = c.req.valid('json');
      const updated = store.members.setRole(slug, member, role);
      recordChange(deps, user, 'members.set-role', { project: slug, target: updated.member.name, detail: { role } });
      return c.json(updated, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/projects/{project}/members/{member}',
      tags: tag,
      summary: 'Take a person out of a project, with their keys for it',
      request: { params: memberParam },
      responses: { 200: json(z.object({ keysRemoved: z.number().int() }), 'removed'), ...errors(403, 404) },
    }),
    (c) => {
      const user = c.get('user');
      const { project: slug, member } = c.req.valid('param');
      requireProjectAdmin(user, slug, 'remove members');
      const removed = store.members.remove(slug, member);
      recordChange(deps, user, 'members.remove', { project: slug, target: member, detail: removed });
      return c.json(removed, 200);
    },
  );

  return app;
}
