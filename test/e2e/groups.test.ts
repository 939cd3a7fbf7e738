// Groups and start order with real children: `dependsOn` holds a server back until what it needs
// runs and stops it first (by group, all, and at shutdown), `--group` on the CLI's control commands
// and list-servers and `?group=` on the API, a cycle refused naming it (at start and on reload),
// and groups that follow a reload without restarting anything.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

interface Status {
  name: string;
  state: string;
  groups: string[];
  dependsOn: string[];
  restarts: number;
  pid: number | null;
}

const config = (webGroups: string | string[] = ['backend', 'front']) => ({
  mcpServers: {
    web: { ...fixtureServer('echo'), dependsOn: ['db', 'cache'], group: webGroups },
    cache: { ...fixtureServer('echo'), dependsOn: ['db'], group: 'backend', lazy: true },
    db: { ...fixtureServer('echo'), group: 'backend' },
    other: fixtureServer('echo'),
  },
});

/** Where in the daemon's log a transition was, to compare orders. */
const lineOf = (daemon: DaemonHandle, text: string, from = 0): number =>
  daemon.stderrLines.findIndex((line, i) => i >= from && line.includes(text));

describe('groups and start order', () => {
  let daemon: DaemonHandle;
  const cli = (args: string[]) => runCli([...args, '--data-dir', daemon.dataDir]);
  const servers = async (query = ''): Promise<Status[]> =>
    ((await (await daemon.api(`/api/servers${query}`)).json()) as { servers: Status[] }).servers;
  const byName = async () => Object.fromEntries((await servers()).map((s) => [s.name, s]));

  beforeAll(async () => {
    daemon = await startDaemon({ config: config() });
    await waitFor(async () => (await servers()).every((s) => s.state === 'running'), { timeoutMs: 15_000 });
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('starts a server after what it depends on, and a lazy dependency with it', async () => {
    const db = lineOf(daemon, 'db: starting -> running');
    const cache = lineOf(daemon, 'cache: starting -> running');
    const web = lineOf(daemon, 'web: starting -> running');
    expect(db).toBeGreaterThan(-1);
    expect(cache).toBeGreaterThan(db);
    expect(web).toBeGreaterThan(cache);
    expect(daemon.stderrLines.some((line) => line.includes('web waits for cache to be running'))).toBe(true);
    expect((await byName()).web).toMatchObject({ groups: ['backend', 'front'], dependsOn: ['db', 'cache'] });
  });

  it('stops a group dependents first, and starts one with what it needs', async () => {
    const from = daemon.stderrLines.length;
    const stopped = await cli(['stop', '--group', 'backend']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).not.toContain('other');
    const states = await byName();
    expect([states.web!.state, states.cache!.state, states.db!.state, states.other!.state]).toEqual([
      'stopped',
      'stopped',
      'stopped',
      'running',
    ]);
    const webDown = lineOf(daemon, 'web: stopping -> stopped', from);
    const cacheDown = lineOf(daemon, 'cache: stopping -> stopped', from);
    expect(webDown).toBeGreaterThan(-1);
    expect(cacheDown).toBeGreaterThan(webDown);
    expect(lineOf(daemon, 'db: running -> stopping', from)).toBeGreaterThan(cacheDown);

    const started = await cli(['start', '--group', 'front']);
    expect(started.code, started.stderr).toBe(0);
    expect(
      started.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((row) => row.split(/\s+/).slice(0, 2)),
    ).toEqual([['web', 'running']]);
    const after = await byName();
    expect([after.db!.state, after.cache!.state]).toEqual(['running', 'running']);
    expect(lineOf(daemon, 'web: stopped -> starting', from)).toBeLessThan(lineOf(daemon, 'web: starting -> running', from));
    expect(lineOf(daemon, 'db: starting -> running', from)).toBeLessThan(lineOf(daemon, 'web: starting -> running', from));
  });

  it('restarts a group: everything down dependents first, then up in order', async () => {
    const before = await byName();
    const from = daemon.stderrLines.length;
    const restarted = await cli(['restart', '--group', 'backend']);
    expect(restarted.code, restarted.stderr).toBe(0);
    const after = await byName();
    for (const name of ['web', 'cache', 'db']) {
      expect(after[name]!.state).toBe('running');
      expect(after[name]!.pid).not.toBe(before[name]!.pid);
    }
    expect(after.other!.pid).toBe(before.other!.pid);
    expect(lineOf(daemon, 'web: stopping -> restarting', from)).toBeLessThan(lineOf(daemon, 'db: running -> stopping', from));
  });

  it('lists a group on the CLI and the API, and says which groups there are for an unknown one', async () => {
    const listed = await cli(['list-servers', '--group', 'front', '--json', '--config', daemon.configPath]);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { servers: Status[] }).servers.map((s) => s.name)).toEqual(['web']);
    expect((await servers('?group=backend')).map((s) => s.name)).toEqual(['web', 'cache', 'db']);
    const unknown = await daemon.api('/api/servers?group=nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({
      error: { code: 'NOT_FOUND', message: 'no server is in group "nope"', hint: 'groups: backend, front' },
    });
    const cliUnknown = await cli(['restart', '--group', 'nope']);
    expect(cliUnknown.code).toBe(1);
    expect(cliUnknown.stderr).toContain('no server is in group "nope"');
    const overview = (await (await daemon.api('/api/fleet')).json()) as { groups: Record<string, string[]> };
    expect(overview.groups).toEqual({ backend: ['web', 'cache', 'db'], front: ['web'] });
  });

  it('takes new groups on reload without restarting, and refuses a cycle naming it', async () => {
    const before = await byName();
    await daemon.writeConfig(config('edge'));
    await waitFor(async () => (await byName()).web!.groups.join() === 'edge');
    expect((await byName()).web!.pid).toBe(before.web!.pid);

    const cyclic = config('edge');
    (cyclic.mcpServers.db as { dependsOn?: string[] }).dependsOn = ['web'];
    await daemon.writeConfig(cyclic);
    await waitFor(() => daemon.stderrLines.some((line) => line.includes('a cycle: cache -> db -> web -> cache')));
    expect((await byName()).db!.dependsOn).toEqual([]);
  });

  it('stops dependents first when the daemon shuts down', async () => {
    const from = daemon.stderrLines.length;
    await daemon.stop();
    await waitFor(() => lineOf(daemon, '"msg":"stopped"', from) > -1);
    expect(lineOf(daemon, 'web: stopping -> stopped', from)).toBeLessThan(lineOf(daemon, 'cache: running -> stopping', from));
    expect(lineOf(daemon, 'cache: stopping -> stopped', from)).toBeLessThan(lineOf(daemon, 'db: running -> stopping', from));
  });
});

describe('a dependency cycle at start', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-orch-cycle-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is a config error naming the cycle and the fix', async () => {
    const file = join(dir, 'mcp-config.json');
    await writeFile(file, JSON.stringify({ mcpServers: { a: { command: 'x', dependsOn: ['b'] }, b: { command: 'y', dependsOn: ['a'] } } }));
    const result = await runCli(['serve', '--config', file, '--port', '0', '--data-dir', join(dir, 'data'), '--no-auth'], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('mcpServers.a.dependsOn: a cycle: a -> b -> a; remove one of these dependencies');
  });
});
