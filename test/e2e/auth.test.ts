/**
 * Access control as clients meet it: every endpoint, transport and protocol era against every kind
 * of key (own project as admin, member and viewer; another project's; none; malformed; unknown;
 * revoked; expired; narrowed), with the status each must get. Then the consequences that take
 * effect on the next request (revocation, rotation, a server turned off), rate limits, the audit
 * log's completeness, and that no key or secret ever shows up anywhere it should not.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueKey } from '../../src/auth/issue.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const ACCEPT = 'application/json, text/event-stream';
const MODERN = '2026-07-28';
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

const KINDS = ['admin', 'member', 'viewer', 'other', 'none', 'malformed', 'unknown', 'revoked', 'expired', 'narrowed'] as const;
type Kind = (typeof KINDS)[number];

describe('access control', () => {
  let daemon: DaemonHandle;
  const keys = {} as Record<Kind, string | undefined>;
  /** Every full key this file ever held, for the leak check at the end. */
  const secrets: string[] = [];

  const cli = async (args: string[]) => {
    const result = await runCli([...args, '--data-dir', daemon.dataDir]);
    expect(result.code, result.stderr).toBe(0);
    return result.stdout;
  };
  const newKey = async (args: string[]): Promise<string> => {
    const { key } = JSON.parse(await cli(['keys', 'create', '--json', ...args])) as { key: string };
    secrets.push(key);
    return key;
  };

  const headersFor = (kind: Kind): Record<string, string> => {
    if (kind === 'none') return {};
    if (kind === 'malformed') return { authorization: 'Basic dXNlcjpwYXNz' };
    if (kind === 'unknown') return { authorization: `Bearer mcpo_${'A'.repeat(40)}` };
    return { authorization: `Bearer ${keys[kind]}` };
  };

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${daemon.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };

  /** initialize (2025-11-25) with `kind`'s key on `path`: the status, and the session id when there is one. */
  const initialize = async (path: string, kind: Kind) => {
    const reply = await post(
      path,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } },
      },
      headersFor(kind),
    );
    const session = reply.headers.get('mcp-session-id');
    if (session) await fetch(`${daemon.url}${path}`, { method: 'DELETE', headers: { 'mcp-session-id': session, ...headersFor(kind) } });
    return reply;
  };

  /** A 2026-07-28 request. */
  const modern = (path: string, kind: Kind, method: string, params: Record<string, unknown> = {}, name?: string) =>
    post(
      path,
      { jsonrpc: '2.0', id: 7, method, params: { ...params, _meta: ENVELOPE } },
      {
        ...headersFor(kind),
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(name === undefined ? {} : { 'mcp-name': name }),
      },
    );

  beforeAll(async () => {
    daemon = await startDaemon({
      auth: true,
      config: { mcpServers: { echo: fixtureServer('echo'), other: fixtureServer('echo', { FIXTURE_ID: 'other' }) } },
    });
    // The first run prints the default project's admin key once, after the "listening" line.
    keys.admin = await daemon.firstRunKey();
    secrets.push(keys.admin);
    // The rest is set up through the database, as the CLI would (its own commands are tested below
    // and in access-cli.test.ts); the daemon sees another process's writes as it would the CLI's.
    const store = openStore(daemon.dataDir);
    try {
      const issued = (options: Parameters<typeof issueKey>[1]) => {
        const made = issueKey(store.keys, options);
        secrets.push(made.key);
        return made;
      };
      const issue = (options: Parameters<typeof issueKey>[1]): string => issued(options).key;
      store.members.add('default', { name: 'mel', role: 'member' });
      store.members.add('default', { name: 'vic', role: 'viewer' });
      keys.member = issue({ project: 'default', member: 'mel', name: 'laptop' });
      keys.viewer = issue({ project: 'default', member: 'vic', name: 'laptop' });
      keys.narrowed = issue({ project: 'default', member: 'mel', name: 'narrow', servers: ['other'] });
      const gone = issued({ project: 'default', member: 'mel', name: 'gone' });
      keys.revoked = gone.key;
      store.keys.revoke(gone.record.id);
      keys.expired = issue({ project: 'default', member: 'mel', name: 'brief', expiresAt: Date.now() - 1000 });
      store.projects.create({ slug: 'team' });
      store.members.add('team', { name: 'tess', role: 'admin' });
      keys.other = issue({ project: 'team', member: 'tess', name: 'laptop' });
    } finally {
      store.close();
    }
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it('answers every endpoint, transport and era as the key allows', async () => {
    const paths = ['/mcp', '/servers/echo/mcp', '/projects/default/mcp', '/projects/default/servers/echo/mcp'];
    const refusedWith: Partial<Record<Kind, number>> = { none: 401, malformed: 401, unknown: 401, revoked: 401, expired: 401, other: 403 };
    const seen: string[] = [];
    for (const path of paths) {
      for (const kind of KINDS) {
        const legacy = await initialize(path, kind);
        const stateless = await modern(path, kind, 'tools/list');
        const narrowedAway = kind === 'narrowed' && path.includes('/servers/echo/');
        const expected = refusedWith[kind] ?? (narrowedAway ? 403 : 200);
        seen.push(`${path} ${kind}: ${legacy.status}/${stateless.status}`);
        expect([legacy.status, stateless.status], `${path} with ${kind}`).toEqual([expected, expected]);
        if (expected === 401) {
          expect(legacy.headers.get('www-authenticate')).toMatch(/^Bearer realm="mcp-orch"/);
          // A refusal names nothing the caller does not hold already.
          expect(JSON.stringify(legacy.body)).not.toMatch(/team|tess|mel/);
        }
      }
    }
    // Legacy SSE: the stream needs the key too.
    for (const [kind, expected] of [
      ['none', 401],
      ['admin', 200],
      ['other', 403],
    ] as const) {
      const response = await fetch(`${daemon.url}/sse`, { headers: { accept: 'text/event-stream', ...headersFor(kind) } });
      expect(response.status, `GET /sse with ${kind}`).toBe(expected);
      await response.body?.cancel();
    }
    expect(seen).toHaveLength(paths.length * KINDS.length);
  });

  it('lists to a key only what it reaches, and lets each role do what it may', async () => {
    const names = async (kind: Kind) =>
      ((await modern('/mcp', kind, 'tools/list')).body!.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(await names('admin')).toEqual(expect.arrayContaining(['echo__echo', 'other__echo']));
    const narrowed = await names('narrowed');
    expect(narrowed).toContain('other__echo');
    expect(narrowed.filter((name) => name.startsWith('echo__'))).toEqual([]);

    const call = (kind: Kind, tool: string) => modern('/mcp', kind, 'tools/call', { name: tool, arguments: { text: 'hi' } }, tool);
    expect((await call('member', 'echo__echo')).status).toBe(200);
    const viewer = await call('viewer', 'echo__echo');
    expect(viewer.status).toBe(403);
    expect(JSON.stringify(viewer.body)).toContain('the viewer role may not call tools');
    // What a narrowed key cannot reach does not exist for it.
    const hidden = await call('narrowed', 'echo__echo');
    expect(hidden.status).toBe(200);
    expect((hidden.body!.error as { code: number }).code).toBe(-32602);
  });

  it('ends what a revoked key opened, and refuses a rotated-out key, from the next request on', async () => {
    const key = await newKey(['--member', 'mel', '--name', 'session']);
    const stream = await fetch(`${daemon.url}/servers/echo/sse`, {
      headers: { accept: 'text/event-stream', authorization: `Bearer ${key}` },
    });
    expect(stream.status).toBe(200);
    await cli(['keys', 'revoke', key.slice(0, 14), '--yes']);
    // The daemon sees the change within its store's poll and closes the session: its stream ends.
    const text = await stream.text();
    expect(text).toContain('event: endpoint');

    const old = await newKey(['--member', 'mel', '--name', 'rotating']);
    const { key: fresh } = JSON.parse(await cli(['keys', 'rotate', old.slice(0, 14), '--json'])) as { key: string };
    secrets.push(fresh);
    const withKey = (value: string) =>
      post(
        '/mcp',
        { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } },
        {
          authorization: `Bearer ${value}`,
          'mcp-protocol-version': MODERN,
          'mcp-method': 'tools/list',
        },
      );
    expect((await withKey(old)).status).toBe(401);
    expect((await withKey(fresh)).status).toBe(200);
  });

  it('takes a server turned off in a project out of what its keys see at once', async () => {
    await cli(['projects', 'servers', 'default', 'disable', 'other']);
    await waitFor(async () => (await modern('/servers/other/mcp', 'admin', 'tools/list')).status === 403);
    await cli(['projects', 'servers', 'default', 'enable', 'other']);
    await waitFor(async () => (await modern('/servers/other/mcp', 'admin', 'tools/list')).status === 200);
  });

  it('answers 429 with Retry-After past a rate limit, and records every call, refusals included', async () => {
    await cli(['projects', 'limits', 'team', '--key-rate', '60/3']);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const reply = await modern(
        '/projects/team/mcp',
        'other',
        'tools/call',
        { name: 'echo__echo', arguments: { text: `${i}` } },
        'echo__echo',
      );
      statuses.push(reply.status);
      retryAfter ??= reply.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    // N calls at once: N rows with the right outcome, written off the request path.
    const parallel = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        modern('/mcp', 'member', 'tools/call', { name: 'other__echo', arguments: { text: `p${i}` } }, 'other__echo'),
      ),
    );
    expect(parallel.map((reply) => reply.status)).toEqual(Array(12).fill(200));
    // `audit --json` prints one JSON object per line.
    const rows = async (args: string[]) =>
      (await cli(['audit', '--json', '--limit', '1000', ...args]))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { outcome: string; member: string; type: string });
    await waitFor(
      async () => (await rows(['--project', 'default', '--tool', 'echo', '--server', 'other', '--member', 'mel'])).length >= 12,
    );
    const mine = await rows(['--project', 'default', '--tool', 'echo', '--server', 'other', '--member', 'mel']);
    expect(mine.filter((row) => row.outcome === 'ok')).toHaveLength(12);
    const team = await rows(['--project', 'team']);
    expect(team.filter((row) => row.outcome === 'rate-limited')).toHaveLength(2);
    const deniedBefore = (await rows(['--outcome', 'denied', '--member', 'vic'])).length;
    const refused = await modern('/mcp', 'viewer', 'tools/call', { name: 'echo__echo', arguments: { text: 'no' } }, 'echo__echo');
    expect(refused.status).toBe(403);
    await waitFor(async () => (await rows(['--outcome', 'denied', '--member', 'vic'])).length === deniedBefore + 1);
    expect((await rows(['--type', 'auth.failed'])).length).toBeGreaterThan(0);
  });

  it('never shows a key in a log line, an answer, /health, /metrics or the audit log', async () => {
    const places = {
      health: await (await fetch(`${daemon.url}/health`)).text(),
      metrics: await (await fetch(`${daemon.url}/metrics`)).text(),
      audit: await cli(['audit', '--json', '--limit', '10000']),
      database: (await readFile(join(daemon.dataDir, 'mcp-orch.db'))).toString('latin1'),
      logs: daemon.stderrLines.filter((line) => line.startsWith('{')).join('\n'),
    };
    for (const key of secrets) {
      for (const [place, text] of Object.entries(places)) expect(text.includes(key), `key ${key.slice(0, 10)}… in ${place}`).toBe(false);
    }
    // The first run's message is the one place the admin key was shown, once, with the client configs.
    const shown = daemon.stderrLines.filter((line) => line.includes(keys.admin!));
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((line) => !line.startsWith('{'))).toBe(true);
    expect(secrets.filter((key) => key !== keys.admin).some((key) => daemon.stderrLines.some((line) => line.includes(key)))).toBe(false);
  });
});
