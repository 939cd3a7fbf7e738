// The REST API against a live daemon with keys on: every route, with the admin token, an operator
// key (the first run's), and keys of another project with each role; the errors and the one error
// shape; tool calls that are checked, rate-limited and audited like MCP calls; servers added, edited
// and removed through the config file, which the watcher applies.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturePath, fixtureServer } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

interface Answer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}
type ErrorBody = { error: { code: string; message: string; hint?: string } };

let daemon: DaemonHandle;
let tempDir: string;
let token: string;
let operatorKey: string;
/** Keys of project "team", which exposes only `echo`, by role. */
const team: Record<'viewer' | 'member' | 'admin', string> = { viewer: '', member: '', admin: '' };

async function call<T = Record<string, unknown>>(
  credential: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (credential) headers.authorization = `Bearer ${credential}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${daemon.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text.startsWith('{') ? JSON.parse(text) : text) as T, headers: response.headers };
}
const as = (credential: string | undefined) => ({
  get: <T = Record<string, unknown>>(path: string) => call<T>(credential, 'GET', path),
  post: <T = Record<string, unknown>>(path: string, body?: unknown) => call<T>(credential, 'POST', path, body),
  put: <T = Record<string, unknown>>(path: string, body?: unknown) => call<T>(credential, 'PUT', path, body),
  patch: <T = Record<string, unknown>>(path: string, body?: unknown) => call<T>(credential, 'PATCH', path, body),
  delete: <T = Record<string, unknown>>(path: string) => call<T>(credential, 'DELETE', path),
});

function refused(answer: Answer, status: number, code: string): ErrorBody['error'] {
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);
  const { error } = answer.body as unknown as ErrorBody;
  expect(Object.keys(error).sort()).toEqual(error.hint === undefined ? ['code', 'message'] : ['code', 'hint', 'message']);
  expect(error.code).toBe(code);
  return error;
}

const serverNames = async (credential: string): Promise<string[]> =>
  (await as(credential).get<{ servers: { name: string }[] }>('/api/servers')).body.servers.map((s) => s.name);
const stateOf = async (name: string): Promise<string | undefined> =>
  (await as(token).get<{ servers: { name: string; state: string }[] }>('/api/servers')).body.servers.find((s) => s.name === name)?.state;

beforeAll(async () => {
  // `two` is the echo fixture after a line on stderr, for its log.
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-rest-'));
  const two = join(tempDir, 'two.mjs');
  await writeFile(two, `process.stderr.write('two: starting\\n');\nawait import(${JSON.stringify(fixturePath('echo'))});\n`);
  daemon = await startDaemon({
    config: { mcpServers: { echo: fixtureServer('echo'), two: { command: process.execPath, args: [two] } } },
    auth: true,
  });
  token = (await readFile(`${daemon.dataDir}/admin-token`, 'utf8')).trim();
  operatorKey = await daemon.firstRunKey();
  await waitFor(async () => (await stateOf('echo')) === 'running' && (await stateOf('two')) === 'running', { timeoutMs: 15_000 });
  const op = as(operatorKey);
  expect((await op.post('/api/projects', { slug: 'team', servers: ['echo'] })).status).toBe(201);
  for (const role of ['viewer', 'member', 'admin'] as const) {
    expect((await op.post('/api/projects/team/members', { name: `${role}-person`, role })).status).toBe(201);
    const created = await op.post<{ key: string }>('/api/projects/team/keys', { member: `${role}-person`, name: role });
    expect(created.status).toBe(201);
    team[role] = created.body.key;
  }
});

afterAll(async () => {
  await daemon?.stop();
  await rm(tempDir, { recursive: true, force: true });
});

/** The audit log is written in batches off the request path: wait for what a test just did to be in it. */
function auditUntil<T extends { entries: unknown[] }>(credential: string, query: string, done: (body: T) => boolean): Promise<T> {
  return waitFor(async () => {
    const answer = await as(credential).get<T>(`/api/audit?${query}`);
    return done(answer.body) ? answer.body : undefined;
  });
}

describe('credentials', () => {
  it('takes the admin token, an operator key and project keys; anything else is 401 in the one error shape, and audited', async () => {
    expect((await as(token).get<{ you: { via: string; operator: boolean } }>('/api/status')).body.you).toMatchObject({
      via: 'token',
      operator: true,
    });
    expect((await as(operatorKey).get<{ you: object }>('/api/status')).body.you).toMatchObject({
      via: 'key',
      operator: true,
      project: 'default',
      role: 'admin',
    });
    expect((await as(team.admin).get<{ you: object }>('/api/status')).body.you).toMatchObject({
      operator: false,
      project: 'team',
      role: 'admin',
    });
    const unknownKey = `mcpo_${'x'.repeat(40)}`;
    expect(refused(await as(unknownKey).get('/api/status'), 401, 'UNAUTHORIZED').message).toBe('the API key is not valid');
    refused(await as(undefined).get('/api/status'), 401, 'UNAUTHORIZED');
    const failures = await auditUntil<{ entries: { keyPrefix: string; transport: string }[] }>(
      token,
      'type=auth.failed',
      (b) => b.entries.length > 0,
    );
    expect(failures.entries[0]).toMatchObject({ keyPrefix: 'mcpo_xxxxxxxx', transport: 'rest' });
  });
});

describe('servers', () => {
  it('lists what each caller sees: operators every server, a project key what its project exposes', async () => {
    expect(await serverNames(token)).toEqual(['echo', 'two']);
    expect(await serverNames(team.viewer)).toEqual(['echo']);
    const echo = await as(team.viewer).get<Record<string, unknown>>('/api/servers/echo');
    expect(echo.body).toMatchObject({
      name: 'echo',
      state: 'running',
      era: '2025-11-25',
      restarts: 0,
      tools: expect.any(Number),
      stderr: [],
    });
    expect((echo.body.catalog as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo');
    expect(refused(await as(team.viewer).get('/api/servers/two'), 404, 'UNKNOWN_SERVER').hint).toBe('configured servers: echo');
    const withTools = await as(token).get<{ servers: { toolList: { name: string }[] }[] }>('/api/servers?catalog');
    expect(withTools.body.servers[0]!.toolList.map((t) => t.name)).toContain('add');
  });

  it('controls servers for operators only, and records each action', async () => {
    refused(await as(team.admin).post('/api/servers/echo/restart'), 403, 'FORBIDDEN');
    refused(await as(team.admin).post('/api/servers/stop-all'), 403, 'FORBIDDEN');
    refused(await as(team.admin).post('/api/reload'), 403, 'FORBIDDEN');
    refused(await as(token).post('/api/servers/echo/explode'), 400, 'BAD_REQUEST');
    const stopped = await as(operatorKey).post<{ server: { state: string } }>('/api/servers/two/stop');
    expect(stopped.body.server.state).toBe('stopped');
    const started = await as(token).post<{ servers: { name: string; state: string }[] }>('/api/servers/start-all');
    expect(started.body.servers.find((s) => s.name === 'two')?.state).toBe('running');
    const all = await as(token).post<{ action: string; servers: { name: string; state: string }[] }>('/api/servers/restart-all');
    expect(all.body).toMatchObject({
      action: 'restart',
      servers: [
        { name: 'echo', state: 'running' },
        { name: 'two', state: 'running' },
      ],
    });
    const restarted = await as(token).post<{ action: string; server: { restarts: number } }>('/api/servers/two/restart');
    expect(restarted.body).toMatchObject({ action: 'restart', server: { restarts: 2 } });
    expect((await as(token).post<{ unchanged: string[] }>('/api/reload')).body.unchanged).toEqual(['echo', 'two']);
    const wanted = ['servers.stop', 'servers.start-all', 'servers.restart-all', 'servers.restart', 'config.reload'];
    await auditUntil<{ entries: { method: string }[] }>(token, 'type=manage&limit=10', (b) =>
      wanted.every((m) => b.entries.some((e) => e.method === m)),
    );
  });

  it('shows logs to operators, recent and followed as events', async () => {
    refused(await as(team.admin).get('/api/servers/echo/logs'), 403, 'FORBIDDEN');
    expect((await as(token).get<{ server: string; lines: unknown[] }>('/api/servers/echo/logs?lines=5')).body).toMatchObject({
      server: 'echo',
    });
    const stream = await fetch(`${daemon.url}/api/servers/two/logs?follow=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const reader = stream.body!.getReader();
    await as(token).post('/api/servers/two/restart');
    let text = '';
    await waitFor(async () => {
      text += new TextDecoder().decode((await reader.read()).value);
      return text.includes('event: line');
    });
    await reader.cancel();
  });
});

describe('servers in the config file', () => {
  it('adds, edits and removes a server through the file, which the watcher applies; secrets go to the store', async () => {
    const op = as(operatorKey);
    refused(await as(team.admin).post('/api/servers', { name: 'three', config: { command: 'x' } }), 403, 'FORBIDDEN');
    const invalid = refused(await op.post('/api/servers', { name: 'bad', config: { command: 'node', args: 'x' } }), 400, 'CONFIG_INVALID');
    expect(invalid.message).toBe(`${daemon.configPath}: mcpServers.bad.args: expected an array of strings, got "x"`);
    refused(await op.post('/api/servers', { name: 'echo', config: fixtureServer('echo') }), 409, 'CONFLICT');

    const entry = { ...fixtureServer('echo', { FIXTURE_ID: '${secret:THREE_ID}', PLAIN: 'in-the-file' }) };
    const added = await op.post('/api/servers', { name: 'three', config: entry, secrets: { THREE_ID: 'the-third' } });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      name: 'three',
      file: daemon.configPath,
      change: 'added',
      appliedBy: 'watcher',
      applied: true,
      warnings: [],
    });
    const file = await readFile(daemon.configPath, 'utf8');
    expect(file).toContain('${secret:THREE_ID}');
    expect(file).not.toContain('the-third');
    expect(Object.keys(JSON.parse(file).mcpServers)).toEqual(['echo', 'two', 'three']);
    await waitFor(async () => (await stateOf('three')) === 'running', { timeoutMs: 15_000 });
    const whoami = await op.post<{ content: { text: string }[] }>('/api/tools/three/whoami', {});
    expect(whoami.body.content[0]!.text).toBe('the-third');
    expect((await as(token).get<{ secrets: { name: string }[] }>('/api/secrets')).body.secrets.map((s) => s.name)).toContain('THREE_ID');

    const shown = await op.get<{ config: { env: Record<string, string> } }>('/api/servers/three/config');
    expect(shown.body.config.env).toEqual({ FIXTURE_ID: '${secret:THREE_ID}', PLAIN: '••••••' });
    const edited = await op.put('/api/servers/three/config', { config: { ...shown.body.config, timeout: 12 } });
    expect(edited.body).toMatchObject({ change: 'changed', applied: true });
    // The same entry again changes nothing the daemon runs, and says so at once.
    expect((await op.put('/api/servers/three/config', { config: { ...shown.body.config, timeout: 12 } })).body).toMatchObject({
      applied: true,
    });
    const after = JSON.parse(await readFile(daemon.configPath, 'utf8')).mcpServers.three;
    expect(after).toMatchObject({ timeout: 12, env: { PLAIN: 'in-the-file' } });
    refused(await op.put('/api/servers/nope/config', { config: { command: 'x' } }), 404, 'UNKNOWN_SERVER');

    // The answer waits for the watcher to apply the edit: the server is gone when it comes.
    expect((await op.delete('/api/servers/three')).body).toMatchObject({ change: 'removed', applied: true });
    expect(await serverNames(token)).not.toContain('three');
  });
});

describe('tools', () => {
  it('lists tools, prompts and resources of the servers a key sees', async () => {
    const tools = await as(team.viewer).get<{ servers: { server: string; tools: { name: string; inputSchema: object }[] }[] }>(
      '/api/tools',
    );
    expect(tools.body.servers.map((s) => s.server)).toEqual(['echo']);
    expect(tools.body.servers[0]!.tools.find((t) => t.name === 'add')?.inputSchema).toMatchObject({ type: 'object' });
    expect((await as(team.viewer).get<{ server: string }>('/api/tools/echo')).body.server).toBe('echo');
    refused(await as(team.viewer).get('/api/tools/two'), 404, 'UNKNOWN_SERVER');
    expect((await as(token).get<{ servers: { prompts: unknown[] }[] }>('/api/prompts')).body.servers).toHaveLength(2);
    expect(
      (await as(token).get<{ servers: { resources: unknown[] }[] }>('/api/resources')).body.servers[0]!.resources.length,
    ).toBeGreaterThan(0);
  });

  it('calls a tool with the body as arguments: results, tool errors, unknown tools, bad arguments, roles', async () => {
    const member = as(team.member);
    expect((await member.post('/api/tools/echo/add', { a: 1, b: 2 })).body).toMatchObject({ structuredContent: { sum: 3 } });
    const failed = await member.post('/api/tools/echo/fail', {});
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ isError: true });
    refused(await member.post('/api/tools/echo/nope', {}), 404, 'UNKNOWN_TOOL');
    const bad = refused(await member.post('/api/tools/echo/add', { a: 'one', b: 2 }), 400, 'INVALID_PARAMS');
    expect(bad.message).toContain('a: must be number');
    refused(await as(team.viewer).post('/api/tools/echo/echo', { text: 'x' }), 403, 'FORBIDDEN');
    refused(await member.post('/api/tools/two/echo', { text: 'x' }), 404, 'UNKNOWN_SERVER');
    const audit = await auditUntil<{ entries: { name: string; outcome: string; transport: string }[] }>(
      team.admin,
      'type=tools/call&limit=5',
      (b) => b.entries[0]?.outcome === 'denied',
    );
    expect(audit.entries.slice(0, 4).map((e) => [e.name, e.outcome, e.transport])).toEqual([
      ['echo', 'denied', 'rest'],
      ['add', 'error', 'rest'],
      ['nope', 'error', 'rest'],
      ['fail', 'error', 'rest'],
    ]);
  });

  it('rate-limits REST calls like MCP calls, with Retry-After', async () => {
    const limited = { requestsPerMinute: 1, burst: 1 };
    // A key of its own: its bucket is empty after this test, and every key has a bucket of its own.
    const { key } = (await as(team.admin).post<{ key: string }>('/api/projects/team/keys', { member: 'member-person', name: 'limited' }))
      .body;
    expect((await as(token).put('/api/projects/team/limits', { perKey: limited })).status).toBe(200);
    try {
      const results = [
        await as(key).post('/api/tools/echo/echo', { text: 'a' }),
        await as(key).post('/api/tools/echo/echo', { text: 'b' }),
      ];
      expect(results[0]!.status).toBe(200);
      const error = refused(results[1]!, 429, 'RATE_LIMITED');
      expect(error.message).toContain('1 requests per minute');
      expect(Number(results[1]!.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await as(token).put('/api/projects/team/limits', { perKey: null });
    }
  });

  it('answers the hybrid-proxy aliases as their /api routes', async () => {
    const member = as(team.member);
    expect((await member.get<{ servers: unknown[] }>('/tools')).body.servers).toHaveLength(1);
    expect((await member.get<{ server: string }>('/tools/echo')).body.server).toBe('echo');
    expect((await member.post('/tools/echo.echo', { text: 'via alias' })).body).toEqual({ content: [{ type: 'text', text: 'via alias' }] });
    refused(await member.post('/tools/nope.echo', {}), 404, 'UNKNOWN_SERVER');
    refused(await member.post('/tools/echo', {}), 400, 'BAD_REQUEST');
    expect((await member.get<{ servers: { name: string }[] }>('/servers')).body.servers.map((s) => s.name)).toEqual(['echo']);
    refused(await member.post('/servers/reload'), 403, 'FORBIDDEN');
    expect((await as(token).post<{ file: string }>('/servers/reload')).body.file).toBe(daemon.configPath);
  });
});

describe('projects, members and keys', () => {
  it('shows and changes projects by role: operators all of them, a project admin their own', async () => {
    expect((await as(operatorKey).get<{ projects: { slug: string }[] }>('/api/projects')).body.projects.map((p) => p.slug)).toEqual([
      'default',
      'team',
    ]);
    expect((await as(team.viewer).get<{ projects: { slug: string; exposed: string[] }[] }>('/api/projects')).body.projects).toMatchObject([
      { slug: 'team', exposed: ['echo'] },
    ]);
    refused(await as(team.admin).post('/api/projects', { slug: 'more' }), 403, 'FORBIDDEN');
    refused(await as(token).post('/api/projects', { slug: 'team' }), 409, 'CONFLICT');
    refused(await as(token).post('/api/projects', { slug: 'Bad Name' }), 400, 'BAD_REQUEST');
    refused(await as(team.admin).get('/api/projects/default'), 403, 'FORBIDDEN');
    refused(await as(token).get('/api/projects/nope'), 404, 'UNKNOWN_PROJECT');
    refused(await as(token).delete('/api/projects/default'), 400, 'BAD_REQUEST');
    expect((await as(token).post('/api/projects', { slug: 'brief' })).status).toBe(201);
    expect((await as(token).delete('/api/projects/brief')).body).toEqual({ done: true });

    refused(await as(team.member).put('/api/projects/team/servers/two', { enabled: true }), 403, 'FORBIDDEN');
    const on = await as(team.admin).put<{ exposed: string[] }>('/api/projects/team/servers/two', { enabled: true });
    expect(on.body.exposed).toEqual(['echo', 'two']);
    expect(await serverNames(team.viewer)).toEqual(['echo', 'two']);
    await as(team.admin).put('/api/projects/team/servers/two', { enabled: false });
    expect(await serverNames(team.viewer)).toEqual(['echo']);
  });

  it('manages members for the project admin only', async () => {
    const admin = as(team.admin);
    refused(await as(team.member).get('/api/projects/team/members'), 403, 'FORBIDDEN');
    expect((await admin.get<{ members: { member: { name: string } }[] }>('/api/projects/team/members')).body.members).toHaveLength(3);
    expect((await admin.post('/api/projects/team/members', { name: 'newcomer', email: 'new@example.com', role: 'viewer' })).status).toBe(
      201,
    );
    refused(await admin.post('/api/projects/team/members', { name: 'newcomer', role: 'viewer' }), 409, 'CONFLICT');
    refused(await admin.post('/api/projects/team/members', { name: 'x', role: 'owner' }), 400, 'BAD_REQUEST');
    expect((await admin.patch('/api/projects/team/members/newcomer', { role: 'member' })).body).toMatchObject({ role: 'member' });
    expect((await admin.delete('/api/projects/team/members/new@example.com')).body).toEqual({ keysRemoved: 0 });
    refused(await admin.delete('/api/projects/team/members/newcomer'), 404, 'NOT_FOUND');
  });

  it('creates a key once with what each client needs, rotates, revokes and explains it', async () => {
    const admin = as(team.admin);
    refused(await as(team.member).post('/api/projects/team/keys', {}), 403, 'FORBIDDEN');
    const created = await admin.post<{
      key: string;
      url: string;
      record: { prefix: string; readOnly: boolean };
      clients: { client: string; text: string }[];
    }>('/api/projects/team/keys', { member: 'member-person', name: 'ci', readOnly: true, expiresInDays: 1 });
    expect(created.status).toBe(201);
    const { key, url, record, clients } = created.body;
    expect(url).toBe(`${daemon.url}/projects/team/mcp`);
    expect(record.readOnly).toBe(true);
    expect(clients.map((c) => c.client)).toEqual(['cursor', 'cline', 'claude-code', 'claude-desktop', 'vscode']);
    for (const c of clients) {
      expect(c.text).toContain(key);
      expect(c.text).toContain(url);
    }
    const listed = await admin.get<{ keys: { prefix: string; state: string }[] }>('/api/projects/team/keys');
    expect(JSON.stringify(listed.body)).not.toContain(key);
    expect(listed.body.keys.find((k) => k.prefix === record.prefix)?.state).toBe('active');
    const explained = await admin.get<{ servers: { server: string; allowed: string[] }[] }>(
      `/api/projects/team/keys/${record.prefix}/explain`,
    );
    expect(explained.body.servers.find((s) => s.server === 'echo')?.allowed).toEqual(['list', 'read']);
    refused(await as(operatorKey).get(`/api/projects/default/keys/${record.prefix}/explain`), 404, 'NOT_FOUND');

    const rotated = await admin.post<{ key: string; record: { prefix: string } }>(`/api/projects/team/keys/${record.prefix}/rotate`, {});
    expect(rotated.status).toBe(200);
    refused(await as(key).get('/api/status'), 401, 'UNAUTHORIZED');
    expect((await as(rotated.body.key).get('/api/status')).status).toBe(200);
    expect((await admin.post<{ state: string }>(`/api/projects/team/keys/${rotated.body.record.prefix}/revoke`)).body.state).toBe(
      'revoked',
    );
    refused(await as(rotated.body.key).get('/api/status'), 401, 'UNAUTHORIZED');
  });
});

describe('secrets, audit and metrics', () => {
  it('keeps secrets for operators, names only', async () => {
    refused(await as(team.admin).get('/api/secrets'), 403, 'FORBIDDEN');
    expect((await as(token).put('/api/secrets/API_TOKEN', { value: 'hidden-value' })).body).toEqual({ done: true });
    const listed = await as(token).get('/api/secrets');
    expect(JSON.stringify(listed.body)).toContain('API_TOKEN');
    expect(JSON.stringify(listed.body)).not.toContain('hidden-value');
    refused(await as(token).put('/api/secrets/bad name', { value: 'x' }), 400, 'BAD_REQUEST');
    expect((await as(token).delete('/api/secrets/API_TOKEN')).status).toBe(200);
    refused(await as(token).delete('/api/secrets/API_TOKEN'), 404, 'NOT_FOUND');
  });

  it('pages the audit log by cursor with filters, as JSON or CSV; a project admin sees their project only', async () => {
    const first = await as(token).get<{ entries: { id: number }[]; nextCursor: number }>('/api/audit?limit=3');
    expect(first.body.entries).toHaveLength(3);
    const next = await as(token).get<{ entries: { id: number }[] }>(`/api/audit?limit=3&cursor=${first.body.nextCursor}`);
    expect(first.body.nextCursor).toBe(first.body.entries[2]!.id);
    expect(Math.max(...next.body.entries.map((e) => e.id))).toBeLessThan(first.body.nextCursor);
    const denied = await as(token).get<{ entries: { outcome: string; server: string }[] }>('/api/audit?outcome=denied&server=echo');
    expect(denied.body.entries.length).toBeGreaterThan(0);
    expect(denied.body.entries.every((e) => e.outcome === 'denied' && e.server === 'echo')).toBe(true);
    const mine = await as(team.admin).get<{ entries: { project: string }[] }>('/api/audit?limit=50');
    expect(new Set(mine.body.entries.map((e) => e.project))).toEqual(new Set(['team']));
    refused(await as(team.admin).get('/api/audit?project=default'), 403, 'FORBIDDEN');
    refused(await as(team.member).get('/api/audit'), 403, 'FORBIDDEN');
    refused(await as(token).get('/api/audit?since=yesterday'), 400, 'BAD_REQUEST');
    const csv = await fetch(`${daemon.url}/api/audit?format=csv&type=tools/call&limit=2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toMatch(/^id,at,type,project,member,keyPrefix,server,method,name,outcome/);
    expect(lines).toHaveLength(3);
  });

  it('keeps a metrics history per server, sampled every 10 s', { timeout: 30_000 }, async () => {
    const history = await waitFor(
      async () => {
        const answer = await as(team.viewer).get<{ resolution: number; samples: { server: string; memoryBytes: number | null }[] }>(
          '/api/metrics/history?range=1h',
        );
        // The first sample may precede the server's first process reading.
        return answer.body.samples.some((s) => (s.memoryBytes ?? 0) > 0) ? answer.body : undefined;
      },
      { timeoutMs: 25_000, intervalMs: 500 },
    );
    expect(history.resolution).toBe(10);
    expect(new Set(history.samples.map((s) => s.server))).toEqual(new Set(['echo']));
    expect(history.samples.some((s) => (s.memoryBytes ?? 0) > 0)).toBe(true);
    refused(await as(token).get('/api/metrics/history?range=2y'), 400, 'BAD_REQUEST');
  });
});
