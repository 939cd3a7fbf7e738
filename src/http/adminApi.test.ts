import { afterAll, describe, expect, it } from 'vitest';
import { tempStore } from '../../test/helpers/store.js';
import { createAccess } from '../auth/access.js';
import { localPrincipal } from '../auth/policy.js';
import { createRateLimiter } from '../auth/rateLimit.js';
import { OrchError } from '../errors.js';
import { orchSchema } from '../config/schema.js';
import { Gateway } from '../gateway/gateway.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { AdminControl, ControlAction } from './adminApi.js';
import { sameSecret } from './adminAuth.js';
import { createApp } from './app.js';
import { hostAllowlist } from './host.js';

const TOKEN = 'secret-token';
const temp = tempStore();
afterAll(() => temp.close());
const access = createAccess({ store: temp.store, rateLimiter: createRateLimiter(), defaults: orchSchema.parse({}).rateLimit });

function app(options: { shuttingDown?: boolean; control?: Partial<AdminControl> } = {}) {
  const pool = new UpstreamPool();
  const logger = createLogger({ level: 'silent' });
  const calls: [string, ControlAction][] = [];
  const control: AdminControl = {
    control: async (name, action) => {
      calls.push([name, action]);
    },
    controlMany: async (names, action) => {
      for (const name of names) await control.control(name, action);
    },
    reloadFromFile: async () => ({ file: '/x.json', added: [], removed: [], changed: [], unchanged: [], updated: [], restartRequired: [] }),
    ...(options.control as Partial<AdminControl>),
  };
  const built = createApp({
    gateway: new Gateway({ pool, logger, separator: '__', version: '0.0.0', limits: orchSchema.parse({}).limits, access }),
    identify: ({ project }) => ({ principal: localPrincipal(project) }),
    defaultProject: 'default',
    pool,
    version: '0.0.0',
    hosts: hostAllowlist({ allowedHosts: [], host: '127.0.0.1' }),
    allowedOrigins: [],
    maxBodyBytes: 1024,
    isShuttingDown: () => options.shuttingDown ?? false,
    admin: { token: TOKEN, control },
    metrics: { contentType: 'text/plain; version=0.0.4', text: async () => 'm 1\n' },
  });
  return { app: built, calls };
}

const auth = { Authorization: `Bearer ${TOKEN}` };

describe('sameSecret', () => {
  it('accepts only the exact token', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameSecret(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });
});

describe('admin API', () => {
  it('answers 401 with a hint naming the token file but not its absolute path, for every /api route, without a valid token', async () => {
    const { app: a } = app();
    for (const [method, path] of [
      ['GET', '/api/servers'],
      ['POST', '/api/reload'],
      ['POST', '/api/servers/one/restart'],
      ['GET', '/api/anything'],
    ] as const) {
      for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: TOKEN }] as Record<string, string>[]) {
        const res = await a.request(path, { method, headers });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        const { hint } = (await res.json()) as { hint: string };
        expect(hint).toContain('<data dir>/admin-token');
        expect(hint).toContain('the mcp-orch CLI reads it');
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
    expect(await unknown.json()).toMatchObject({ error: 'unknown server "nope"', hint: 'no servers are configured' });
    expect(calls).toEqual([]);
  });

  it('reports a config error from reload as 400 with its message and hint', async () => {
    const { app: a } = app({
      control: {
        reloadFromFile: async () => {
          throw new OrchError('CONFIG_INVALID', '/x.json: mcpServers.bad.args: expected an array', { hint: 'fix it' });
        },
      },
    });
    const res = await a.request('/api/reload', { method: 'POST', headers: auth });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: '/x.json: mcpServers.bad.args: expected an array', code: 'CONFIG_INVALID', hint: 'fix it' });
  });

  it('leaves /health and /metrics open; /health is 503 while shutting down', async () => {
    const { app: a } = app();
    expect((await a.request('/health')).status).toBe(200);
    const metrics = await a.request('/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toBe('m 1\n');
    const closing = await app({ shuttingDown: true }).app.request('/health');
    expect(closing.status).toBe(503);
    expect(await closing.json()).toMatchObject({ status: 'shutting-down' });
  });
});

describe('routing', () => {
  it('keeps the MCP routes on hono’s RegExpRouter with the admin API mounted', async () => {
    const { app: a } = app();
    await a.request('/servers/none/mcp', { method: 'DELETE' });
    // SmartRouter names the router it settled on at the first match; TrieRouter is the slow fallback.
    expect((a.router as { name: string }).name).toBe('SmartRouter + RegExpRouter');
  });

  it('answers unknown routes, under /api too, with JSON naming the endpoints', async () => {
    const { app: a } = app();
    for (const path of ['/nope', '/api/nope']) {
      const res = await a.request(path, { headers: auth });
      expect(res.status, path).toBe(404);
      expect(await res.json(), path).toMatchObject({
        error: `no route for GET ${path}`,
        hint: expect.stringContaining('/servers/{name}/mcp'),
      });
    }
  });
});
