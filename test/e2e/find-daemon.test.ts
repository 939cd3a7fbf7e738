// The CLI finds the running daemon without flags, from any folder: every daemon registers in
// ~/.mcp-orch/daemons/ (here a temp HOME). One running: the commands use it. Several: they list
// them and ask for --data-dir, naming the command to run. None: they say so.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';

let home: string;
/** A folder with no mcp-config.json, as the user's home or any project folder may be. */
let elsewhere: string;
const cli = (args: string[]): Promise<CliResult> => runCli(args, { cwd: elsewhere, env: { HOME: home } });

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

async function running(daemon: DaemonHandle): Promise<void> {
  await waitFor(
    async () => {
      const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: { state: string }[] };
      return servers.every((s) => s.state === 'running');
    },
    { timeoutMs: 15_000 },
  );
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'mcp-orch-home-'));
  elsewhere = join(home, 'somewhere');
  await mkdir(elsewhere);
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('finding the daemon without flags', () => {
  let first: DaemonHandle;
  let second: DaemonHandle | undefined;

  beforeAll(async () => {
    first = await startDaemon({ config: { mcpServers: { one: fixtureServer('echo') } }, env: { HOME: home } });
    await running(first);
  });

  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });

  // Each CLI command is a Node process of its own: a few per test, so that a loaded machine's slow
  // starts stay well inside the hang guard of vitest's testTimeout.
  it('with one daemon running, status and logs use it from any folder', async () => {
    const status = ok(await cli(['status'])).stdout;
    expect(status).toContain(`at ${first.url} (pid ${first.process.pid}, data dir ${first.dataDir})`);
    expect(status).toMatch(/^one +running/m);

    const logs = ok(await cli(['logs'])).stdout;
    expect(logs).toMatch(/^one +running +mcp-orch logs one$/m);
  });

  it('with one daemon running, restart and list-servers use it from any folder, and a missing server name is named', async () => {
    expect(ok(await cli(['restart', 'one'])).stdout).toMatch(/^one: running \(pid \d+\)$/m);
    const which = await cli(['restart']);
    expect(which.code).toBe(1);
    expect(which.stderr).toContain('which server? `mcp-orch restart SERVER`, `mcp-orch restart --group GROUP` or `mcp-orch restart --all`');
    expect(which.stderr).toContain('hint: servers: one (running)');
    const withFlag = await cli(['restart', '--data-dir', first.dataDir]);
    expect(withFlag.stderr).toContain(`\`mcp-orch restart SERVER --data-dir ${first.dataDir}\``);

    const listed = JSON.parse(ok(await cli(['list-servers', '--json'])).stdout) as { source: string; servers: { name: string }[] };
    expect(listed).toMatchObject({ source: 'daemon', servers: [{ name: 'one' }] });
  });

  it('with several, lists them and names the command with --data-dir', async () => {
    second = await startDaemon({ config: { mcpServers: { two: fixtureServer('echo') } }, env: { HOME: home } });
    await running(second);

    const ambiguous = await cli(['status', '--json']);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('2 mcp-orch daemons are running; say which with --data-dir:');
    for (const daemon of [first, second])
      expect(ambiguous.stderr).toContain(`${daemon.dataDir}  ${daemon.url}  (pid ${daemon.process.pid}`);
    const hint = /hint: `mcp-orch (.+)`/.exec(ambiguous.stderr)?.[1];
    expect(hint).toBe(`status --json --data-dir ${first.dataDir}`);
    expect(JSON.parse(ok(await cli(hint!.split(' '))).stdout)).toMatchObject({ daemon: { pid: first.process.pid } });
  });

  it('with several, --config or --data-dir picks one', async () => {
    // The daemon serving a config file is found by it, although its data dir is not in that file.
    expect(ok(await cli(['status', '--config', second!.configPath])).stdout).toMatch(/^two +running/m);
    expect(ok(await cli(['logs', '--data-dir', second!.dataDir])).stdout).toContain(`mcp-orch logs two --data-dir ${second!.dataDir}`);
  });

  it('stop-daemon needs no flags once one is left, and then every command says none runs', async () => {
    ok(await cli(['stop-daemon', '--data-dir', second!.dataDir]));
    const stopped = ok(await cli(['stop-daemon']));
    expect(stopped.stdout).toContain(`stopped mcp-orch (pid ${first.process.pid}, data dir ${first.dataDir})`);
    expect(processRunning(first.process.pid!)).toBe(false);

    const none = await cli(['status']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no mcp-orch daemon is running for data dir ${join(home, '.mcp-orch')}`);
    expect(none.stderr).toContain('start one with `mcp-orch serve`');
    expect(await readdir(join(home, '.mcp-orch', 'daemons'))).toEqual([]);
  });
});
