import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { tempStore } from '../../test/helpers/store.js';
import { createAccess } from '../auth/access.js';
import { localPrincipal } from '../auth/policy.js';
import { createRateLimiter } from '../auth/rateLimit.js';
import { createLoginLimiter, createSessionStore } from '../auth/sessions.js';
import { createAuditLog } from '../audit/writer.js';
import { createAuthenticator } from '../auth/authenticate.js';
import { createBatch } from '../batch/create.js';
import { OrchError } from '../errors.js';
import { configSchema, orchSchema } from '../config/schema.js';
import { createAdminStore } from './adminStore.js';
import { createConfigEditor } from './configEditor.js';
import { createDeployments } from './deployments.js';
import { createFleet } from './fleet.js';
import { startMetricsSampler } from './metricsSampler.js';
import { Gateway } from '../gateway/gateway.js';
import { OwnTools } from '../gateway/ownTools.js';
import { createLogger } from '../log.js';
import { createCallStats } from '../metrics/callStats.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { AdminControl, ApiDeps, ControlAction } from '../http/api/deps.js';
import { createRestApi } from '../http/api/restApi.js';
import { createApp } from '../http/app.js';
import { createDashboard } from '../http/ui/dashboard.js';
import { createLiveHub } from '../http/ui/live.js';
import { hostAllowlist } from '../http/host.js';

/**
 * The HTTP surface in process (Hono's app.request): what every route shares (credentials, the one
 * error shape, unknown routes), health and metrics, and the router MCP requests take. The REST
 * API's routes one by one are covered against a live daemon in test/e2e/rest-api.test.ts.
 */

const TOKEN = 'secret-token';
const temp = tempStore();
const logger = createLogger({ level: 'silent' });
const configFile = path.join(temp.dataDir, 'mcp-config.json');
fs.writeFileSync(configFile, '{"mcpServers": {}}\n');
const defaults = orchSchema.parse({});
const access = createAccess({ store: temp.store, rateLimiter: createRateLimiter(), defaults: defaults.rateLimit });
const audit = createAuditLog({ audit: temp.store.audit, settings: defaults.audit, logger });
const fleet = createFleet({ pool: new UpstreamPool(), store: temp.store, audit, logger, config: () => configSchema.parse({}) });
const deployments = createDeployments({
  dataDir: temp.dataDir,
  store: temp.store,
  audit: (event) => audit.record(event),
  logger,
  host: {
    configFile: undefined,
    serverNames: () => [],
    state: () => undefined,
    switchTo: () => Promise.reject(new Error('this test deploys nothing')),
    remove: () => Promise.reject(new Error('this test deploys nothing')),
  },
});
const sampler = startMetricsSampler({
  pool: new UpstreamPool(),
  readStats: async () => undefined,
  calls: createCallStats({ periodsSec: [10, 300] }),
  metrics: temp.store.metrics,
  logger,
});
afterAll(async () => {
  await sampler.close();
  fleet.close();
  await deployments.close();
  audit.close();
  access.close();
  temp.close();
});

function app(options: { shuttingDown?: boolean; control?: Partial<AdminControl> } = {}) {
  const pool = new UpstreamPool();
  const calls: [string, ControlAction][] = [];
  const control: AdminControl = {
    control: async (name, action) => {
      calls.push([name, action]);
    },
    controlMany: async (names, action) => {
      for (const name of names) calls.push([name, action]);
    },
    reloadFromFile: async () => ({
      file: configFile,
      added: [],
      removed: [],
      changed: [],
      unchanged: [],
      updated: [],
      restartRequired: [],
    }),
    ...options.control,
  };
  const gateway = new Gateway({
    pool,
    logger,
    separator: '__',
    version: '0.0.0',
    limits: defaults.limits,
    access,
    cacheMaxBytes: defaults.cache.maxMb * 1024 * 1024,
  });
  const batch = createBatch({
    gateway,
    ownTools: new OwnTools('__'),
    access,
    repo: temp.store.batch,
    settings: () => defaults,
    secrets: () => undefined,
    logger,
  });
  const authenticator = createAuthenticator({ keys: temp.store.keys, defaults: defaults.rateLimit });
  const api: ApiDeps = {
    version: '0.0.0',
    startedAt: Date.now(),
    pool,
    readStats: async () => undefined,
    control,
    gateway,
    access,
    calls: createCallStats({ periodsSec: [10] }),
    auth: {
      token: TOKEN,
      authenticate: (authorization) => authenticator.authenticate(authorization),
      sessions: createSessionStore(),
      limitLogin: createLoginLimiter(),
    },
    store: createAdminStore({ store: temp.store, dataDir: temp.dataDir, servers: () => pool.names(), catalogs: () => ({}) }),
    config: createConfigEditor({
      file: configFile,
      watching: false,
      storeSecret: () => undefined,
      reloadFromFile: control.reloadFromFile,
      exclusive: (fn) => fn(),
      running: (name) => pool.get(name),
      applied: async () => true,
    }),
    audit,
    fleet: fleet.api,
    pinStatus: fleet.pins.status,
    deployments,
    batch: { service: batch },
  };
  const rest = createRestApi(api);
  const built = createApp({
    gateway,
    identify: ({ project }) => ({ principal: localPrincipal(project) }),
    defaultProject: 'default',
    pool,
    version: '0.0.0',
    hosts: hostAllowlist({ allowedHosts: [], host: '127.0.0.1' }),
    allowedOrigins: [],
    maxBodyBytes: 1024,
    isShuttingDown: () => options.shuttingDown ?? false,
    rest,
    ui: createDashboard({ api, rest, live: createLiveHub({ api, rest, sampler }) }),
    metrics: { contentType: 'text/plain; version=0.0.4', text: async () => 'm 1\n' },
    deployments,
  });
  return { app: built, calls, api };
}

const auth = { Authorization: `Bearer ${TOKEN}` };

describe('the REST API in the app', () => {
  it('answers 401 in the one error shape, naming every way in, for /api routes and the aliases without valid credentials', async () => {
    const { app: a } = app();
    for (const [method, path] of [
      ['GET', '/api/servers'],
      ['POST', '/api/reload'],
      ['POST', '/api/servers/one/restart'],
      ['GET', '/api/anything'],
      ['GET', '/tools'],
      ['POST', '/servers/reload'],
      ['POST', '/api/batch/execute'],
      ['GET', '/batch'],
      ['DELETE', '/projects/default/batch/cancel/x'],
    ] as const) {
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Record<string, string>[]) {
        const res = await a.request(path, { method, headers });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        const { error } = (await res.json()) as { error: { code: string; message: string; hint: string } };
        expect(error.code).toBe('UNAUTHORIZED');
        expect(error.hint).toContain('<data dir>/admin-token');
        expect(error.hint).toContain('log in at /ui');
        expect(error.hint).not.toContain(temp.dataDir);
      }
    }
  });

  it('lets the token through; unknown servers are 404 naming the known ones', async () => {
    const { app: a, calls } = app();
    const list = await a.request('/api/servers', { headers: auth });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({ servers: [] });
    const unknown = await a.request('/api/servers/nope/restart', { method: 'POST', headers: auth });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: { code: 'UNKNOWN_SERVER', message: 'unknown server "nope"', hint: 'no servers are configured' },
    });
    expect(calls).toEqual([]);
  });

  it('reports a config error from reload as 400 with its message and hint, on /api/reload and its alias', async () => {
    const { app: a } = app({
      control: {
        reloadFromFile: async () => {
          throw new OrchError('CONFIG_INVALID', '/x.json: mcpServers.bad.args: expected an array', { hint: 'fix it' });
        },
      },
    });
    for (const path of ['/api/reload', '/servers/reload']) {
      const res = await a.request(path, { method: 'POST', headers: auth });
      expect(res.status, path).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: 'CONFIG_INVALID', message: '/x.json: mcpServers.bad.args: expected an array', hint: 'fix it' },
      });
    }
  });

  it('names the field of an invalid request, reads a JSON body sent as text, and refuses one that is not JSON', async () => {
    const { app: a } = app();
    const invalid = await a.request('/api/servers', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bad name!', config: {} }),
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { message: string } }).error.message).toMatch(
      /^invalid request: body\.name: server names use/,
    );
    const malformed = await a.request('/api/projects', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{',
    });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    const xml = await a.request('/api/projects', { method: 'POST', headers: { ...auth, 'content-type': 'application/xml' }, body: '<x/>' });
    expect(xml.status).toBe(415);
    expect(((await xml.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    // A JSON body sent as text (curl -d, fetch with a string) is read as JSON.
    const text = await a.request('/api/projects', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '{"slug": 5}',
    });
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: { message: string } }).error.message).toMatch(/^invalid request: body\.slug: /);
  });

  it('serves batch tasks under /api/batch and its short forms with the one error shape', async () => {
    const { app: a, api } = app();
    api.store.projects.create({ slug: 'team' });
    const post = (path: string, body: string) =>
      a.request(path, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    // A plan is validated against the servers before anything runs (this app has none).
    const plan = JSON.stringify({ plan: { steps: [{ type: 'tool', id: 'a', server: 'nope', tool: 't' }] }, dryRun: true });
    for (const path of ['/api/batch/execute', '/batch/execute', '/api/batch/execute?project=team', '/projects/team/batch/execute']) {
      const refused = await post(path, plan);
      expect(refused.status, path).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code, path).toBe('INVALID_PLAN');
    }
    const both = await post('/api/batch/execute', JSON.stringify({ request: 'x', plan: {} }));
    expect(both.status).toBe(400);
    expect(((await both.json()) as { error: { message: string } }).error.message).toBe(
      'invalid request: body: give either "request" (a task in words) or "plan" (a plan), not both',
    );
    const large = await post('/api/batch/execute', JSON.stringify({ request: 'x'.repeat(2000) }));
    expect(large.status).toBe(413);
    expect(((await large.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    // The admin token acts in the project named, which must exist.
    for (const path of ['/api/batch?project=nope', '/projects/nope/batch']) {
      const unknown = await a.request(path, { headers: auth });
      expect(unknown.status, path).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code, path).toBe('UNKNOWN_PROJECT');
    }
    for (const path of ['/api/batch/status/none', '/batch/result/none', '/projects/team/batch/events/none']) {
      const missing = await a.request(path, { headers: auth });
      expect(missing.status, path).toBe(404);
      expect(await missing.json(), path).toMatchObject({ error: { code: 'NOT_FOUND', message: 'no batch task "none"' } });
    }
    const listed = await a.request('/batch?limit=3', { headers: auth });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toEqual({ tasks: [] });
    const badLimit = await a.request('/api/batch?limit=0', { headers: auth });
    expect(badLimit.status).toBe(400);
    expect(((await badLimit.json()) as { error: { message: string } }).error.message).toMatch(/^invalid request: query\.limit: /);
  });

  it('bounds every body at orch.maxBodyBytes, declared or chunked: REST routes, their aliases, the dashboard and webhooks', async () => {
    const { app: a } = app();
    const chunked = (text: string): RequestInit & { duplex: 'half' } => ({
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text));
          controller.close();
        },
      }),
      duplex: 'half',
    });
    const over = JSON.stringify({ slug: 'x'.repeat(1100) });
    for (const path of ['/api/projects', '/api/batch/execute', '/batch/execute', '/tools/echo/echo', '/ui/login', '/hooks/git/app']) {
      for (const init of [{ method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: over }, chunked(over)]) {
        const refused = await a.request(path, init);
        expect(refused.status, path).toBe(413);
        expect(await refused.json(), path).toMatchObject({
          error: { code: 'PAYLOAD_TOO_LARGE', message: 'request body exceeds 1024 bytes' },
        });
      }
    }
    // Under the bound, the same route reads the body and answers for itself.
    const fits = await a.request('/api/projects', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"slug":"fits"}',
    });
    expect(fits.status).toBe(201);
  });

  it('leaves /health, /metrics, the OpenAPI document and the reference page open; /health is 503 while shutting down', async () => {
    const { app: a } = app();
    expect((await a.request('/health')).status).toBe(200);
    const metrics = await a.request('/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toBe('m 1\n');
    expect((await a.request('/api/openapi.json')).status).toBe(200);
    const docs = await a.request('/api/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('/api/tools/{server}/{tool}');
    const closing = await app({ shuttingDown: true }).app.request('/health');
    expect(closing.status).toBe(503);
    expect(await closing.json()).toMatchObject({ status: 'shutting-down' });
  });
});

describe('routing', () => {
  it('keeps the MCP routes on hono’s RegExpRouter with the REST API and its aliases mounted', async () => {
    const { app: a } = app();
    await a.request('/servers/none/mcp', { method: 'DELETE' });
    // SmartRouter names the router it settled on at the first match; TrieRouter is the slow fallback.
    expect((a.router as { name: string }).name).toBe('SmartRouter + RegExpRouter');
  });

  it('answers unknown routes, under /api too, with the error shape naming the endpoints', async () => {
    const { app: a } = app();
    for (const [path, hint] of [
      ['/nope', '/servers/{name}/mcp'],
      ['/api/nope', '/api/docs'],
    ] as const) {
      const res = await a.request(path, { headers: auth });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({
        error: { code: 'UNKNOWN_ROUTE', message: `no route for GET ${path}`, hint: expect.stringContaining(hint) },
      });
    }
  });
});

describe('the OpenAPI document', () => {
  interface Document {
    openapi: string;
    paths: Record<string, Record<string, unknown>>;
  }
  type Content = Record<string, { schema?: unknown }>;
  interface Operation {
    parameters?: { name: string; in: string }[];
    requestBody?: { content: Content };
    responses: Record<string, { content?: Content }>;
  }
  const document = async (): Promise<Document> => (await (await app().app.request('/api/openapi.json')).json()) as Document;

  it('validates against the OpenAPI 3.1 schema', async () => {
    const validator = new Validator();
    const result = await validator.validate((await document()) as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes the batch routes, their schemas and the event stream', async () => {
    const { paths } = (await document()) as Document & { paths: Record<string, Record<string, Operation>> };
    for (const base of ['/api/batch', '/batch', '/projects/{project}/batch']) {
      expect(Object.keys(paths[`${base}/execute`] ?? {}), base).toEqual(['post']);
      for (const route of ['status', 'result', 'events']) expect(Object.keys(paths[`${base}/${route}/{id}`] ?? {}), base).toEqual(['get']);
      expect(Object.keys(paths[`${base}/cancel/{id}`] ?? {}), base).toEqual(['delete']);
      expect(Object.keys(paths[base] ?? {}), base).toEqual(['get']);
    }
    const execute = paths['/api/batch/execute']!.post!;
    expect(execute.requestBody?.content['application/json']?.schema).toEqual({ $ref: '#/components/schemas/BatchExecuteRequest' });
    expect(execute.responses['202']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/BatchTask' });
    expect(execute.responses['200']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/BatchDryRun' });
    expect(Object.keys(paths['/api/batch/events/{id}']!.get!.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(paths['/api/batch']!.get!.parameters?.map((p) => p.name).sort()).toEqual(['limit', 'project']);
    expect(paths['/projects/{project}/batch/status/{id}']!.get!.parameters?.map((p) => `${p.in} ${p.name}`).sort()).toEqual([
      'path id',
      'path project',
    ]);
  });

  it('describes every route of the REST API and its aliases, and nothing that is not one', async () => {
    const { paths } = await document();
    /** The document's paths as patterns: `{x}` is any text of one segment. */
    const patterns = Object.entries(paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
    );
    const rest = createRestApi(app().api);
    const routes = rest.routes.filter((route) => route.method !== 'ALL' && !['/api/openapi.json', '/api/docs'].includes(route.path));
    expect(routes.length).toBeGreaterThan(40);
    const described = new Set<string>();
    for (const route of routes) {
      // A concrete path the route answers: each parameter as one segment with a dot in it.
      const sample = route.path.replace(/:[^/]+/g, 'a.b');
      const match = patterns.find((p) => p.method === route.method && p.pattern.test(sample));
      expect(match, `${route.method} ${route.path} is not in the document`).toBeDefined();
      described.add(`${match!.method} ${match!.path}`);
    }
    expect([...described].sort()).toEqual(patterns.map((p) => `${p.method} ${p.path}`).sort());
  });
});
