// Deployments from git, through the built CLI and a running daemon, with repositories made here
// (no network): a Node server with a manifest, one with only package.json, one missing required
// environment, one whose build fails, a Python one without uv, an update that fails its health check
// (the old commit keeps serving), an update and a rollback, push webhooks, and removal.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { connectStreamable, recordNotifications, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { makeRepo, nodePackage, serverSource, tempParent, toolsOnlyPath, type Repo } from '../helpers/gitRepos.js';
import { processRunning } from '../helpers/process.js';

const SLOW = { timeout: 90_000 };
const BUILD = `node -e "require('fs').writeFileSync('built.txt', 'built')"`;

describe('mcp-orch deploy', () => {
  let daemon: DaemonHandle;
  let parent: string;
  let hello: Repo;
  let client: Client;
  const cli = (args: string[], input?: string) =>
    runCli([...args, '--data-dir', daemon.dataDir], { timeoutMs: 60_000, ...(input === undefined ? {} : { input }) });
  const config = () => JSON.parse(fs.readFileSync(daemon.configPath, 'utf8')) as { mcpServers: Record<string, Record<string, unknown>> };
  const version = async (c: Client) => ((await c.callTool({ name: 'version', arguments: {} })).content as { text: string }[])[0]!.text;
  const audit = async (type: string) => {
    const out = await cli(['audit', '--json', '--type', type]);
    return out.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(
        (line) => JSON.parse(line) as { outcome: string; server: string; method: string | null; detail: Record<string, unknown> | null },
      );
  };
  const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

  beforeAll(async () => {
    parent = tempParent();
    hello = makeRepo(parent, 'hello-server', {
      'server.mjs': serverSource('v1', { built: true }),
      'mcp.json': JSON.stringify({
        name: 'hello',
        description: 'says which commit runs',
        entryPoint: 'server.mjs',
        requiredEnv: ['GREETING', 'TOKEN'],
        defaultEnv: { MODE: 'test' },
      }),
      ...nodePackage('hello-server', { scripts: { build: BUILD } }),
    });
    daemon = await startDaemon({
      config: { mcpServers: { echo: fixtureServer('echo') }, orch: { defaults: { health: { intervalSec: 0 } } } },
      // Only node, npm and git: no uv, whatever this machine has.
      env: { PATH: toolsOnlyPath(parent) },
    });
  });

  afterAll(async () => {
    await client?.close();
    await daemon?.stop();
    fs.rmSync(parent, { recursive: true, force: true });
  });

  it('refuses a server whose required environment is not given, naming every variable, and changes nothing', SLOW, async () => {
    const before = fs.readFileSync(daemon.configPath, 'utf8');
    const refused = await cli(['deploy', hello.dir, '--env', 'TOKEN=${secret:NOPE}']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('the server needs GREETING (requiredEnv in mcp.json); no secret named NOPE');
    expect(refused.stderr).toContain('--env GREETING=...');
    expect(fs.readFileSync(daemon.configPath, 'utf8')).toBe(before);
    expect(JSON.parse((await cli(['deploy', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('deploys a Node server with a manifest: built, started, written into the config beside the others with its source', SLOW, async () => {
    expect((await cli(['secrets', 'set', 'TOKEN'], 'tok-1')).code).toBe(0);
    const deployed = await cli(['deploy', hello.dir, '--env', 'GREETING=hi', '--env', 'TOKEN=${secret:TOKEN}']);
    expect(deployed.stderr).toContain('$ npm ci --no-audit --no-fund');
    expect(deployed.stderr).toContain('$ npm run build');
    expect(deployed.code).toBe(0);
    expect(deployed.stdout).toMatch(/^deployed hello at [0-9a-f]{12} \(main\) from .*hello-server: running/);
    expect(deployed.stdout).toMatch(/webhook secret \(shown once.*\): [0-9a-f]{64}/);

    const { mcpServers } = config();
    expect(Object.keys(mcpServers)).toEqual(['echo', 'hello']);
    const commit = hello.git('rev-parse', 'HEAD');
    expect(mcpServers.hello).toMatchObject({
      command: 'node',
      env: { MODE: 'test', GREETING: 'hi', TOKEN: '${secret:TOKEN}' },
      source: { git: hello.dir, ref: 'main', commit },
    });
    expect(mcpServers.hello!.cwd).toBe(path.join(daemon.dataDir, 'deployments', 'hello', commit));

    client = await connectStreamable(`${daemon.url}/servers/hello/mcp`);
    expect(await version(client)).toBe('v1 built hi');
  });

  it('deploys a server with only a package.json, under the repository’s name', SLOW, async () => {
    const plain = makeRepo(parent, 'plain-server', {
      'index.mjs': serverSource('plain'),
      'package.json': JSON.stringify({ name: 'plain-server', version: '1.0.0', main: 'index.mjs' }),
    });
    const deployed = await cli(['deploy', plain.dir, '--json']);
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ name: 'plain-server', state: 'running' });
    expect(deployed.stderr).toBe('');
    const c = await connectStreamable(`${daemon.url}/servers/plain-server/mcp`);
    expect(await version(c)).toBe('plain');
    await c.close();
    expect((await cli(['deploy', 'remove', 'plain-server', '--yes'])).code).toBe(0);
  });

  it('leaves nothing behind when a build fails, and says why', SLOW, async () => {
    const broken = makeRepo(parent, 'broken-build', {
      'server.mjs': serverSource('never'),
      'mcp.json': JSON.stringify({ entryPoint: 'server.mjs' }),
      ...nodePackage('broken-build', { scripts: { build: 'node -e "console.error(\'cannot compile\'); process.exit(2)"' } }),
    });
    const before = fs.readFileSync(daemon.configPath, 'utf8');
    const failed = await cli(['deploy', broken.dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('error: npm run build failed (exit code 2)');
    expect(failed.stderr).toContain('cannot compile');
    expect(fs.readFileSync(daemon.configPath, 'utf8')).toBe(before);
    const folder = path.join(daemon.dataDir, 'deployments', 'broken-build');
    expect(fs.readdirSync(folder)).toEqual(['deploy.log']);
    expect(JSON.parse((await cli(['deploy', 'list', '--json'])).stdout).map((d: { name: string }) => d.name)).toEqual(['hello']);
  });

  it('says that a Python server needs uv when it is not installed', SLOW, async () => {
    const python = makeRepo(parent, 'py-server', {
      'pyproject.toml': '[project]\nname = "py-server"\nversion = "0.1.0"\n\n[project.scripts]\npy-server = "py_server:main"\n',
    });
    const failed = await cli(['deploy', python.dir]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('this is a Python server (pyproject.toml): it runs with uv, which is not installed');
  });

  it('keeps the running commit when an update fails its first health check', SLOW, async () => {
    const running = config().mcpServers.hello!.source;
    hello.commit({ 'server.mjs': serverSource('v2', { broken: true }) });
    const failed = await cli(['deploy', 'update', 'hello']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /hello at [0-9a-f]{12} did not pass its first health check: .*this commit is broken; [0-9a-f]{12} keeps serving/,
    );
    expect(await version(client)).toBe('v1 built hi');
    expect(config().mcpServers.hello!.source).toEqual(running);
  });

  it('switches to a healthy commit, tells sessions its lists changed, and rolls back to the one before', SLOW, async () => {
    const notifications = recordNotifications(client);
    const v3 = hello.commit({ 'server.mjs': serverSource('v3', { built: true }) });
    const updated = await cli(['deploy', 'update', 'hello']);
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain(`updated hello at ${v3.slice(0, 12)}`);
    // The same session, now answered by the new commit.
    expect(await version(client)).toBe('v3 built hi');
    await waitFor(() => notifications.some((n) => n.method === 'notifications/tools/list_changed'));
    expect((config().mcpServers.hello!.source as { commit: string }).commit).toBe(v3);

    const back = await cli(['deploy', 'rollback', 'hello']);
    expect(back.code).toBe(0);
    expect(await version(client)).toBe('v1 built hi');
    const again = await cli(['deploy', 'rollback', 'hello']);
    expect(again.stderr).toContain('hello has no earlier commit to go back to');
    const [listed] = JSON.parse((await cli(['deploy', 'list', '--json'])).stdout) as { history: string[]; commit: string }[];
    expect(listed!.history).toHaveLength(2);
    expect(listed!.commit).toBe(listed!.history[0]);
  });

  it('updates on a signed push to the branch it follows, and refuses and audits anything unsigned or mis-signed', SLOW, async () => {
    const secret = /webhook secret[^:]*: ([0-9a-f]{64})/.exec(
      (await cli(['deploy', 'webhook', 'hello'])).stdout.replace('secret (shown once): ', 'webhook secret: '),
    )?.[1];
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    const hook = (body: string, headers: Record<string, string>) =>
      fetch(`${daemon.url}/hooks/git/hello`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const push = (ref: string) => JSON.stringify({ ref, after: 'x', repository: { full_name: 'me/hello' } });

    expect((await hook(push('refs/heads/main'), { 'x-github-event': 'push' })).status).toBe(401);
    expect(
      (await hook(push('refs/heads/main'), { 'x-github-event': 'push', 'x-hub-signature-256': sign('wrong', push('refs/heads/main')) }))
        .status,
    ).toBe(401);
    expect(
      (
        await fetch(`${daemon.url}/hooks/git/nobody`, {
          method: 'POST',
          body: '{}',
          headers: { 'x-hub-signature-256': sign(secret!, '{}') },
        })
      ).status,
    ).toBe(401);
    expect((await hook('{}', { 'x-github-event': 'ping', 'x-hub-signature-256': sign(secret!, '{}') })).status).toBe(200);
    const other = await hook(push('refs/heads/other'), {
      'x-github-event': 'push',
      'x-hub-signature-256': sign(secret!, push('refs/heads/other')),
    });
    expect(other.status).toBe(202);
    expect(await other.json()).toMatchObject({ ignored: 'refs/heads/other is not what it follows (main)' });

    hello.commit({ 'server.mjs': serverSource('v4', { built: true }) });
    const accepted = await hook(push('refs/heads/main'), {
      'x-github-event': 'push',
      'x-hub-signature-256': sign(secret!, push('refs/heads/main')),
    });
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await version(client)) === 'v4 built hi', { timeoutMs: 60_000, intervalMs: 200 });

    const rows = await waitFor(async () => {
      const found = await audit('webhook');
      return found.length >= 6 ? found : undefined;
    });
    expect(rows.map((row) => [row.outcome, row.detail?.reason])).toEqual([
      ['denied', 'unsigned'],
      ['denied', 'bad signature'],
      ['denied', 'no such deployment'],
      ['ok', 'ping'],
      ['ok', 'ignored: refs/heads/other is not what it follows (main)'],
      ['ok', 'update: push to refs/heads/main'],
    ]);
  });

  it('takes the same requests through POST /api/deployments, checked against its schema, with the admin token only', async () => {
    const noToken = await fetch(`${daemon.url}/api/deployments`, { method: 'POST', body: '{}' });
    expect(noToken.status).toBe(401);
    const bad = await daemon.api('/api/deployments', {
      method: 'POST',
      body: JSON.stringify({ url: hello.dir, ref: '--upload-pack=x', extra: 1 }),
    });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: string };
    expect(body.error).toContain('ref: expected a branch, a tag or a commit id');
    expect(body.error).toContain('extra');
    const optionUrl = await daemon.api('/api/deployments', { method: 'POST', body: JSON.stringify({ url: '--help' }) });
    expect(optionUrl.status).toBe(400);
    expect(((await optionUrl.json()) as { error: string }).error).toContain('not a git repository URL or absolute path');
    const listed = (await (await daemon.api('/api/deployments/hello')).json()) as { name: string; state: string };
    expect(listed).toMatchObject({ name: 'hello', state: 'running' });
  });

  it('removes a deployment: its server, its config entry, its checkouts and its webhook secret', SLOW, async () => {
    expect((await cli(['deploy', 'remove', 'hello', '--yes'])).code).toBe(0);
    expect(Object.keys(config().mcpServers)).toEqual(['echo']);
    expect(fs.existsSync(path.join(daemon.dataDir, 'deployments', 'hello'))).toBe(false);
    expect((await cli(['secrets', 'list', '--json'])).stdout).not.toContain('deploy.hello.webhook');
    expect((await daemon.api('/api/servers/hello')).status).toBe(404);
  });
});

describe('a daemon stopping during a deployment', () => {
  it('kills the steps it runs and leaves no process behind', { timeout: 90_000 }, async () => {
    const parent = tempParent();
    const build = `node -e "require('fs').writeFileSync('build.pid', String(process.pid)); setTimeout(() => {}, 120000)"`;
    const repo = makeRepo(parent, 'slow-build', {
      'server.mjs': serverSource('never'),
      'mcp.json': JSON.stringify({ entryPoint: 'server.mjs' }),
      ...nodePackage('slow-build', { scripts: { build } }),
    });
    const daemon = await startDaemon({ config: { mcpServers: {} }, env: { PATH: toolsOnlyPath(parent) } });
    try {
      const deploying = runCli(['deploy', repo.dir, '--data-dir', daemon.dataDir], { timeoutMs: 60_000 });
      const pidFile = path.join(daemon.dataDir, 'deployments', 'slow-build', repo.git('rev-parse', 'HEAD'), 'build.pid');
      await waitFor(() => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '', { timeoutMs: 30_000, intervalMs: 100 });
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(processRunning(pid)).toBe(true);
      await daemon.stop();
      await waitFor(() => !processRunning(pid));
      expect((await deploying).code).toBe(1);
    } finally {
      await daemon.stop();
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });
});
