// Daemon control against a live daemon, through the built CLI: status, restart, stop/start, logs,
// reload (an added server starts, an untouched one keeps its pid, an invalid edit is refused and the
// old config keeps serving), the admin token, serve --daemon with stop-daemon, and one daemon per
// data dir.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, runCli, type CliResult } from '../helpers/cli.js';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturePath, fixtureServer } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';

interface StatusRow {
  name: string;
  state: string;
  pid: number | null;
  uptimeSec: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  tools: number;
  lastError: string | null;
  history: { from: string; to: string; cause: string }[];
}

const STDERR_LINE = 'noisy fixture: ready to serve';

let tempDir: string;
/** The echo fixture, after a line on stderr: what `mcp-orch logs` should show. */
let noisyServer: { command: string; args: string[] };

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-control-'));
  const script = join(tempDir, 'noisy.mjs');
  await writeFile(
    script,
    `process.stderr.write(${JSON.stringify(`${STDERR_LINE}\n`)});\nawait import(${JSON.stringify(fixturePath('echo'))});\n`,
  );
  noisyServer = { command: process.execPath, args: [script] };
});

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

async function status(daemon: DaemonHandle): Promise<StatusRow[]> {
  const result = ok(await runCli(['status', '--json', '--data-dir', daemon.dataDir]));
  return (JSON.parse(result.stdout) as { servers: StatusRow[] }).servers;
}

async function row(daemon: DaemonHandle, name: string): Promise<StatusRow> {
  const response = await daemon.api(`/api/servers/${name}`);
  expect(response.status).toBe(200);
  return (await response.json()) as StatusRow;
}

function waitRunning(daemon: DaemonHandle, names: string[]): Promise<unknown> {
  return waitFor(
    async () => {
      const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: StatusRow[] };
      return names.every((name) => servers.find((s) => s.name === name)?.state === 'running');
    },
    { timeoutMs: 15_000 },
  );
}

describe('control commands against a live daemon', () => {
  let daemon: DaemonHandle;
  const config = () => ({ mcpServers: { noisy: { ...noisyServer, logFile: true }, two: fixtureServer('echo', { FIXTURE_ID: 'two' }) } });

  beforeAll(async () => {
    // --no-watch: the reload under test is the one the CLI asks for, not the file watcher's.
    daemon = await startDaemon({ config: config(), args: ['--no-watch'] });
    await waitRunning(daemon, ['noisy', 'two']);
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it('status --json lists every server with its pid, state, uptime and tools', async () => {
    const result = ok(await runCli(['status', '--json', '--data-dir', daemon.dataDir]));
    const json = JSON.parse(result.stdout) as { daemon: { pid: number; url: string }; servers: StatusRow[] };
    expect(json.daemon).toMatchObject({ pid: daemon.process.pid, url: daemon.url });
    expect(json.servers.map((s) => s.name).sort()).toEqual(['noisy', 'two']);
    for (const server of json.servers) {
      expect(server.state).toBe('running');
      expect(processRunning(server.pid!)).toBe(true);
      expect(server.tools).toBeGreaterThan(5);
      expect(server.uptimeSec).toBeGreaterThanOrEqual(0);
      expect(server.history.at(-1)).toMatchObject({ to: 'running' });
      // Sampled for the answer, without waiting for the next health check.
      expect(server.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(server.cpuPercent).toBeGreaterThanOrEqual(0);
    }
    const table = ok(await runCli(['status', '--data-dir', daemon.dataDir])).stdout;
    expect(table).toMatch(/SERVER\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+CPU\s+MEMORY\s+TOOLS\s+LAST ERROR/);
    expect(table).toMatch(/^two\s+running\s+\d+/m);
  });

  it('restart SERVER gives it a new pid and counts the restart; the other server is untouched', async () => {
    const before = await row(daemon, 'noisy');
    const other = await row(daemon, 'two');
    const result = ok(await runCli(['restart', 'noisy', '--data-dir', daemon.dataDir]));
    expect(result.stdout).toMatch(/noisy: running \(pid \d+\)/);
    const after = await row(daemon, 'noisy');
    expect(after.state).toBe('running');
    expect(after.pid).not.toBe(before.pid);
    expect(after.restarts).toBe(before.restarts + 1);
    await waitFor(() => !processRunning(before.pid!), { timeoutMs: 5000 });
    expect((await row(daemon, 'two')).pid).toBe(other.pid);
  });

  it('stop then start', async () => {
    const before = await row(daemon, 'two');
    ok(await runCli(['stop', 'two', '--data-dir', daemon.dataDir]));
    const stopped = await row(daemon, 'two');
    expect(stopped).toMatchObject({ state: 'stopped', pid: null });
    await waitFor(() => !processRunning(before.pid!), { timeoutMs: 5000 });

    ok(await runCli(['start', 'two', '--data-dir', daemon.dataDir]));
    const started = await row(daemon, 'two');
    expect(started.state).toBe('running');
    expect(started.pid).not.toBe(before.pid);
    expect(processRunning(started.pid!)).toBe(true);
  });

  it("logs --lines returns the server's stderr", async () => {
    const result = ok(await runCli(['logs', 'noisy', '--lines', '5', '--data-dir', daemon.dataDir]));
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toContain(STDERR_LINE);
    expect(lines.length).toBeLessThanOrEqual(5);
  });

  it('logs -f prints new lines as they come', async () => {
    const follower = spawn(process.execPath, [binPath, 'logs', 'noisy', '-f', '--lines', '1', '--data-dir', daemon.dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const count = () => out.split('\n').filter((line) => line === STDERR_LINE).length;
    try {
      // The last line comes first; once it is here the follower is subscribed to new ones.
      await waitFor(() => count() === 1, { timeoutMs: 10_000 });
      await daemon.api('/api/servers/noisy/restart', { method: 'POST' });
      await waitFor(() => count() === 2, { timeoutMs: 10_000 });
    } finally {
      follower.kill('SIGTERM');
    }
  });

  it('appends stderr to <dataDir>/logs/<server>.log when logFile is set', async () => {
    const file = join(daemon.dataDir, 'logs', 'noisy.log');
    const lines = await waitFor(() => {
      const found = existsSync(file)
        ? readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => l.endsWith(STDERR_LINE))
        : [];
      return found.length > 0 ? found : undefined;
    });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z /);
    expect(existsSync(join(daemon.dataDir, 'logs', 'two.log'))).toBe(false);
  });

  it('an unknown server is an error naming the configured ones', async () => {
    const result = await runCli(['restart', 'nope', '--data-dir', daemon.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown server "nope"');
    expect(result.stderr).toContain('configured servers: noisy, two');
  });

  it('the admin API wants the token; /health and /metrics do not', async () => {
    const missing = await fetch(`${daemon.url}/api/servers`);
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { error: { code: string; message: string; hint: string } };
    expect(body.error).toMatchObject({ code: 'UNAUTHORIZED', message: 'credentials are required' });
    expect(body.error.hint).toContain('<data dir>/admin-token');
    // Any caller may read a 401: it names no path on this machine (the user's name, the home directory).
    expect(JSON.stringify(body)).not.toContain(daemon.dataDir);
    const wrong = await fetch(`${daemon.url}/api/servers`, { method: 'GET', headers: { Authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(401);
    expect((await fetch(`${daemon.url}/api/reload`, { method: 'POST' })).status).toBe(401);
    expect(await daemon.api('/api/servers').then((r) => r.status)).toBe(200);

    const health = await fetch(`${daemon.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', servers: expect.arrayContaining([{ name: 'two', state: 'running' }]) });
    expect((await fetch(`${daemon.url}/metrics`)).status).toBe(200);
  });

  it('reload starts an added server, leaves an untouched one alone, and refuses an invalid edit', async () => {
    const untouched = await row(daemon, 'two');
    await daemon.writeConfig({ mcpServers: { ...config().mcpServers, three: fixtureServer('echo', { FIXTURE_ID: 'three' }) } });
    const result = ok(await runCli(['reload', '--json', '--data-dir', daemon.dataDir]));
    const report = JSON.parse(result.stdout) as { added: string[]; removed: string[]; changed: string[]; restartRequired: string[] };
    expect(report).toMatchObject({ added: ['three'], removed: [], changed: [], restartRequired: [] });
    await waitRunning(daemon, ['three']);
    expect((await row(daemon, 'two')).pid).toBe(untouched.pid);

    await daemon.writeConfig({ mcpServers: { ...config().mcpServers, bad: { command: process.execPath, args: 'not-a-list' } } });
    const refused = await runCli(['reload', '--data-dir', daemon.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('mcpServers.bad.args');
    expect(refused.stderr).toContain(daemon.configPath);

    // Still the last good config: three runs, two keeps its pid, and calls go through.
    const rows = await status(daemon);
    expect(rows.map((s) => s.name).sort()).toEqual(['noisy', 'three', 'two']);
    expect(rows.find((s) => s.name === 'two')?.pid).toBe(untouched.pid);
    const client = await connectStreamable(`${daemon.url}/servers/three/mcp`);
    try {
      const answer = await client.callTool({ name: 'whoami', arguments: {} });
      expect(answer.content).toEqual([{ type: 'text', text: 'three' }]);
    } finally {
      await client.close();
    }
  });

  it('a second serve on the same data dir (or port) refuses, naming the first', async () => {
    await daemon.writeConfig(config());
    const result = await runCli(['serve', '--config', daemon.configPath, '--port', '0', '--data-dir', daemon.dataDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`mcp-orch is already running (pid ${daemon.process.pid}) at ${daemon.url}`);
    expect(result.stderr).toContain(`stop it with \`mcp-orch stop-daemon --data-dir ${daemon.dataDir}\``);
    // The same port with another data dir: the port is taken, by an mcp-orch.
    const samePort = await runCli([
      'serve',
      '--config',
      daemon.configPath,
      '--port',
      String(daemon.port),
      '--data-dir',
      join(tempDir, 'other'),
    ]);
    expect(samePort.code).toBe(1);
    expect(samePort.stderr).toContain(
      `${daemon.url} is in use by another mcp-orch daemon (pid ${daemon.process.pid}, data dir ${daemon.dataDir})`,
    );
    expect(samePort.stderr).toContain(`stop it with \`mcp-orch stop-daemon --data-dir ${daemon.dataDir}\``);
    // The first one still answers with its token.
    expect(await daemon.api('/api/servers').then((r) => r.status)).toBe(200);
  });
});

describe('without a daemon', () => {
  it('every control command says so and exits 1', async () => {
    const dataDir = join(tempDir, 'empty');
    for (const args of [['status'], ['restart', 'x'], ['reload'], ['logs', 'x'], ['monitor', '--once'], ['stop-daemon']]) {
      const result = await runCli([...args, '--data-dir', dataDir]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(`no mcp-orch daemon is running for data dir ${dataDir}`);
      expect(result.stderr).toContain('mcp-orch serve');
    }
  });
});

describe('serve --daemon and stop-daemon', () => {
  it('detaches, answers the CLI, and stop-daemon leaves no process behind', async () => {
    const dataDir = join(tempDir, 'detached');
    const configPath = join(tempDir, 'detached.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: { one: fixtureServer('echo'), two: fixtureServer('echo') } }));
    let daemonPid: number | undefined;
    const pids: number[] = [];
    try {
      const started = ok(
        await runCli(['serve', '--daemon', '--config', configPath, '--port', '0', '--data-dir', dataDir], {
          timeoutMs: 40_000,
          nodeArgs: ['--no-deprecation'],
        }),
      );
      const match = /running at (http:\/\/\S+) \(pid (\d+)\)/.exec(started.stdout);
      expect(match, started.stdout).not.toBeNull();
      daemonPid = Number(match![2]);
      const info = JSON.parse(readFileSync(join(dataDir, 'daemon.json'), 'utf8')) as { pid: number; url: string };
      expect(info).toMatchObject({ pid: daemonPid, url: match![1] });
      expect(processRunning(daemonPid)).toBe(true);
      // Node's flags of the command that started it (an inspector, a profiler) are not the daemon's.
      const daemonArgs = execFileSync('ps', ['-o', 'args=', '-p', String(daemonPid)], { encoding: 'utf8' });
      expect(daemonArgs).toContain('serve');
      expect(daemonArgs).not.toContain('--no-deprecation');

      const rows = await waitFor(
        async () => {
          const result = await runCli(['status', '--json', '--data-dir', dataDir]);
          const servers = (JSON.parse(result.stdout) as { servers: StatusRow[] }).servers;
          return servers.every((s) => s.state === 'running') ? servers : undefined;
        },
        { timeoutMs: 15_000 },
      );
      pids.push(...rows.map((s) => s.pid!));
      expect(pids).toHaveLength(2);
      expect(ok(await runCli(['monitor', '--once', '--data-dir', dataDir])).stdout).toMatch(/^one\s+running/m);

      const stopped = ok(await runCli(['stop-daemon', '--data-dir', dataDir]));
      expect(stopped.stdout).toContain(`stopped mcp-orch (pid ${daemonPid}, data dir ${dataDir})`);
      expect(processRunning(daemonPid)).toBe(false);
      await waitFor(() => pids.every((pid) => !processRunning(pid)), { timeoutMs: 5000 });
      expect(existsSync(join(dataDir, 'daemon.json'))).toBe(false);
      expect(readFileSync(join(dataDir, 'mcp-orch.log'), 'utf8')).toContain('"msg":"listening"');
    } finally {
      for (const pid of [daemonPid, ...pids]) {
        if (pid !== undefined && processRunning(pid)) process.kill(pid, 'SIGKILL');
      }
    }
  });
});
