// The built CLI on the access-control database, as a person runs it: projects, members, keys,
// secrets, audit, backup and restore, connect. The database is a real SQLite file in a temp data dir;
// a second connection in this process plays the daemon that reads while the CLI writes.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/authenticate.js';
import { openStore } from '../../src/store/open.js';
import { secretResolver } from '../../src/store/secretKey.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

let tempDir: string;
const dataDir = () => join(tempDir, 'data');

/** `mcp-orch <args> --data-dir <temp>` in the temp dir, with HOME there too: nothing outside is touched. */
const cli = (args: string[], input?: string): Promise<CliResult> =>
  runCli([...args, '--data-dir', dataDir()], { cwd: tempDir, env: { HOME: tempDir }, ...(input === undefined ? {} : { input }) });

function ok(result: CliResult): CliResult {
  expect(result.code, result.stderr).toBe(0);
  return result;
}
const json = <T>(result: CliResult): T => JSON.parse(ok(result).stdout) as T;

const DEFAULTS = { perKey: { requestsPerMinute: 600, burst: 60 }, perProject: { requestsPerMinute: 6000, burst: 600 } };

beforeEach(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-access-'));
  await writeFile(join(tempDir, 'mcp-config.json'), JSON.stringify({ mcpServers: { one: { command: 'x' }, two: { command: 'y' } } }));
});
afterEach(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

describe('projects, members and keys', () => {
  // About 25 runs of the CLI, each bounded by runCli's own timeout.
  it('go through their whole life from the command line, each change in the audit log', { timeout: 120_000 }, async () => {
    expect(json(await cli(['projects', 'create', 'team', '--servers', 'one', '--json']))).toMatchObject({
      slug: 'team',
      allServers: false,
      servers: { one: true },
    });
    const unknown = await cli(['projects', 'servers', 'team', 'enable', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown server "nope"');
    expect(unknown.stderr).toContain('configured servers: one, two');

    ok(await cli(['members', 'add', 'ada', '--email', 'ada@example.com', '--role', 'viewer', '--project', 'team']));
    ok(await cli(['members', 'set-role', 'ada@example.com', 'member', '--project', 'team']));
    expect(json(await cli(['members', 'list', '--project', 'team', '--json']))).toMatchObject([
      { member: { name: 'ada' }, role: 'member' },
    ]);
    expect((await cli(['members', 'set-role', 'ada', 'owner', '--project', 'team'])).stderr).toContain('roles: viewer, member, admin');

    const created = json<{ key: string; prefix: string }>(await cli(['keys', 'create', '--project', 'team', '--name', 'laptop', '--json']));
    expect(created.key).toMatch(/^mcpo_[0-9A-Za-z]{40}$/);
    const listed = await cli(['keys', 'list', '--project', 'team']);
    expect(ok(listed).stdout).toContain(created.prefix);
    expect(listed.stdout).not.toContain(created.key);

    const explained = json<{ servers: { server: string; reachable: boolean; allowed: string[]; denied: { reason: string }[] }[] }>(
      await cli(['keys', 'explain', created.prefix, '--json']),
    );
    expect(explained.servers.map((s) => [s.server, s.reachable, s.allowed])).toEqual([
      ['one', true, ['list', 'read', 'call', 'prompt']],
      ['two', false, []],
    ]);
    expect(explained.servers[1]!.denied[0]!.reason).toBe('server "two" is turned off in project "team"');

    const rotated = json<{ key: string; prefix: string }>(await cli(['keys', 'rotate', created.prefix, '--grace', '10m', '--json']));
    const notConfirmed = await cli(['keys', 'revoke', rotated.prefix]);
    expect(notConfirmed.code).toBe(1);
    expect(notConfirmed.stderr).toContain('pass --yes');
    ok(await cli(['keys', 'revoke', rotated.prefix, '--yes']));
    const states = json<{ prefix: string; state: string }[]>(await cli(['keys', 'list', '--json']));
    expect(states.map((k) => [k.prefix, k.state])).toEqual([
      [created.prefix, 'retiring'],
      [rotated.prefix, 'revoked'],
    ]);

    expect(ok(await cli(['members', 'remove', 'ada', '--project', 'team', '--yes'])).stdout).toContain('2 key(s) deleted');
    expect((await cli(['projects', 'delete', 'team'])).code).toBe(1);
    ok(await cli(['projects', 'delete', 'team', '--yes']));
    expect(json(await cli(['projects', 'list', '--json']))).toEqual([]);

    const audit = (await cli(['audit', '--type', 'manage', '--json'])).stdout
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { method: string }).method);
    expect(audit).toEqual([
      'projects.create',
      'members.add',
      'members.set-role',
      'keys.create',
      'keys.rotate',
      'keys.revoke',
      'members.remove',
      'projects.delete',
    ]);
    const csv = ok(await cli(['audit', '--csv', '--limit', '2']))
      .stdout.trim()
      .split('\n');
    expect(csv[0]).toBe(
      'id,at,type,project,member,keyPrefix,server,method,name,outcome,durationMs,transport,era,clientName,clientVersion,address,session,detail,task',
    );
    expect(csv).toHaveLength(3);
  });

  it('are seen by another connection on its next query while the CLI writes (the daemon needs no restart)', async () => {
    ok(await cli(['projects', 'create', 'default']));
    ok(await cli(['members', 'add', 'ada', '--role', 'admin']));
    const daemon = openStore(dataDir(), { pollMs: 20 });
    try {
      let changes = 0;
      daemon.onChange(() => changes++);
      const auth = createAuthenticator({ keys: daemon.keys, defaults: DEFAULTS });
      const { key, prefix } = json<{ key: string; prefix: string }>(await cli(['keys', 'create', '--json']));
      expect(auth.authenticate(`Bearer ${key}`)).toMatchObject({ ok: true, principal: { role: 'admin' } });
      ok(await cli(['members', 'set-role', 'ada', 'viewer']));
      expect(auth.authenticate(`Bearer ${key}`)).toMatchObject({ ok: true, principal: { role: 'viewer' } });
      ok(await cli(['keys', 'revoke', prefix, '--yes']));
      expect(auth.authenticate(`Bearer ${key}`)).toMatchObject({ ok: false, failure: 'revoked' });
      await waitFor(() => changes > 0);
    } finally {
      daemon.close();
    }
  });
});

describe('keys explain', () => {
  it("lists the tools, prompts and resources a key reaches from the running daemon's catalogs", async () => {
    ok(await cli(['projects', 'create', 'default']));
    ok(await cli(['members', 'add', 'vic', '--role', 'viewer']));
    const { prefix } = json<{ prefix: string }>(await cli(['keys', 'create', '--json']));
    const daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo') } }, dataDir: dataDir() });
    try {
      await waitFor(
        async () => ((await (await daemon.api('/api/servers')).json()) as { servers: { state: string }[] }).servers[0]?.state === 'running',
        {
          timeoutMs: 20_000,
        },
      );
      const explained = json<{ source: string; servers: { server: string; allowed: string[]; catalog?: { tools: string[] } }[] }>(
        await cli(['keys', 'explain', prefix, '--json']),
      );
      expect(explained.source).toBe('catalogs from the running daemon');
      expect(explained.servers).toMatchObject([{ server: 'echo', allowed: ['list', 'read'] }]);
      expect(explained.servers[0]!.catalog!.tools).toContain('echo');
      const text = ok(await cli(['keys', 'explain', prefix])).stdout;
      expect(text).toContain('tools (listed, not callable): ');
      expect(text).toContain('not call: the viewer role may not call tools');
    } finally {
      await daemon.stop();
    }
  });
});

describe('a data dir that is not ours', () => {
  it("refuses another program's SQLite file and a file that is not SQLite, leaving both untouched", async () => {
    await mkdir(dataDir(), { mode: 0o700 });
    const file = join(dataDir(), 'mcp-orch.db');
    const other = new Database(file);
    other.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    other.close();
    const before = readFileSync(file);
    const refused = await cli(['projects', 'list']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file}: is a SQLite database of another program, not an mcp-orch database; it was left untouched`);
    expect(readFileSync(file).equals(before)).toBe(true);

    await writeFile(file, 'plain text\n');
    expect((await cli(['keys', 'list'])).stderr).toContain('is not a SQLite database');
    expect(await readFile(file, 'utf8')).toBe('plain text\n');
  });
});

describe('secrets', () => {
  it('are read from stdin, listed by name, and kept encrypted', async () => {
    const value = 'ghp_value-that-must-stay-hidden-8c1f';
    expect(ok(await cli(['secrets', 'set', 'gh_token'], `${value}\n`)).stdout).toContain('stored secret "gh_token"');
    expect(json(await cli(['secrets', 'list', '--json']))).toMatchObject([{ name: 'gh_token' }]);
    expect((await cli(['secrets', 'set', 'empty'], '')).stderr).toContain('no value given for secret "empty"');
    for (const suffix of ['', '-wal']) {
      const file = join(dataDir(), `mcp-orch.db${suffix}`);
      if (existsSync(file)) expect(readFileSync(file).includes(Buffer.from(value))).toBe(false);
    }
    const store = openStore(dataDir());
    try {
      expect(secretResolver(store, dataDir(), {})('gh_token')).toBe(value);
    } finally {
      store.close();
    }
    ok(await cli(['secrets', 'delete', 'gh_token', '--yes']));
    expect(json(await cli(['secrets', 'list', '--json']))).toEqual([]);
  });
});

describe('backup and restore', () => {
  it('backs up while a daemon runs, and restores only once it has stopped', async () => {
    ok(await cli(['projects', 'create', 'kept']));
    const daemon = await startDaemon({ config: { mcpServers: {} }, dataDir: dataDir() });
    try {
      const backup = join(tempDir, 'backup.db');
      ok(await cli(['backup', backup]));
      ok(await cli(['projects', 'create', 'later']));
      const refused = await cli(['restore', backup, '--yes']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is running');
      await daemon.stop();
      expect(ok(await cli(['restore', backup, '--yes'])).stdout).toContain('the database it replaced is at');
      // The daemon made the default project (its short paths need one) before the backup was taken.
      expect(json<{ slug: string }[]>(await cli(['projects', 'list', '--json'])).map((p) => p.slug)).toEqual(['default', 'kept']);
      const notOurs = await cli(['restore', join(tempDir, 'mcp-config.json'), '--yes']);
      expect(notOurs.stderr).toContain('give a file written by `mcp-orch backup`');
    } finally {
      await daemon.stop();
    }
  });
});

describe('connect', () => {
  it("merges a client's entry into its config file with a new key, keeping the rest and a copy", async () => {
    ok(await cli(['projects', 'create', 'default']));
    ok(await cli(['members', 'add', 'ada', '--role', 'member']));
    await mkdir(join(tempDir, '.cursor'));
    const file = join(tempDir, '.cursor', 'mcp.json');
    await writeFile(file, JSON.stringify({ mcpServers: { other: { command: 'x' } } }));
    const result = ok(await cli(['connect', 'cursor', '--write', '--url', 'http://127.0.0.1:9999']));
    expect(result.stdout).toContain(`added "mcp-orch" in ${file}`);
    const written = JSON.parse(await readFile(file, 'utf8')) as {
      mcpServers: Record<string, { url?: string; headers?: Record<string, string> }>;
    };
    expect(Object.keys(written.mcpServers)).toEqual(['other', 'mcp-orch']);
    expect(written.mcpServers['mcp-orch']?.url).toBe('http://127.0.0.1:9999/mcp');
    const key = written.mcpServers['mcp-orch']!.headers!.Authorization!.replace('Bearer ', '');
    const store = openStore(dataDir());
    try {
      expect(createAuthenticator({ keys: store.keys, defaults: DEFAULTS }).authenticate(`Bearer ${key}`)).toMatchObject({
        ok: true,
        principal: { member: 'ada', project: 'default' },
      });
    } finally {
      store.close();
    }
    const vscode = json<{ config: { servers: Record<string, unknown> } }>(await cli(['connect', 'vscode', '--key', key, '--json']));
    expect(vscode.config.servers['mcp-orch']).toMatchObject({ type: 'http', headers: { Authorization: `Bearer ${key}` } });
  });
});

describe('keys and secrets stay out of everything printed and logged', () => {
  it(
    'never shows a key after its creation, nor a secret value, in outputs, errors, logs, the audit or the database',
    { timeout: 120_000 },
    async () => {
      const secret = 'sv-4f1c0e9a-never-print-me';
      const config = { mcpServers: { gh: { command: process.execPath, args: ['-e', ''], env: { TOKEN: '${secret:gh}' } } } };
      await writeFile(join(tempDir, 'mcp-config.json'), JSON.stringify(config));
      const seen: string[] = [];
      const watch = async (args: string[], input?: string): Promise<CliResult> => {
        const result = await cli(args, input);
        seen.push(result.stdout, result.stderr);
        return result;
      };
      ok(await watch(['projects', 'create', 'default']));
      ok(await watch(['members', 'add', 'ada', '--role', 'admin']));
      // The two outputs that show a key, once each, are not watched; their stderr is.
      const first = ok(await cli(['keys', 'create', '--json']));
      seen.push(first.stderr);
      const { key, prefix } = JSON.parse(first.stdout) as { key: string; prefix: string };
      const second = ok(await cli(['keys', 'rotate', prefix, '--grace', '1h']));
      seen.push(second.stderr);
      const rotated = second.stdout.trim();
      expect(rotated).toMatch(/^mcpo_/);
      ok(await watch(['secrets', 'set', 'gh'], secret));

      ok(await watch(['keys', 'explain', key]));
      ok(await watch(['keys', 'explain', rotated, '--json']));
      ok(await watch(['keys', 'list']));
      ok(await watch(['keys', 'list', '--json']));
      ok(await watch(['projects', 'show', 'default', '--json']));
      ok(await watch(['secrets', 'list', '--json']));
      ok(await watch(['audit']));
      ok(await watch(['audit', '--json']));
      ok(await watch(['audit', '--csv']));
      expect((await watch(['keys', 'explain', `${key.slice(0, -1)}x`])).code).toBe(1);
      expect((await watch(['connect', 'cursor', '--key', `${rotated.slice(0, -1)}x`])).code).toBe(1);

      const daemon = await startDaemon({ config, dataDir: dataDir() });
      try {
        for (const path of ['/health', '/metrics']) seen.push(await (await fetch(`${daemon.url}${path}`)).text());
        seen.push(await (await daemon.api('/api/servers')).text());
        await daemon.stop();
        seen.push(...daemon.stderrLines);
      } finally {
        await daemon.stop();
      }
      for (const suffix of ['', '-wal']) {
        const file = join(dataDir(), `mcp-orch.db${suffix}`);
        if (existsSync(file)) seen.push(readFileSync(file).toString('latin1'));
      }

      const transcript = seen.join('\n');
      expect(transcript).toContain(prefix);
      for (const hidden of [key, rotated, secret]) expect(transcript).not.toContain(hidden);
    },
  );
});
