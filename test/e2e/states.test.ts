// What a newcomer sees of server states, through the built CLI and real clients: the start-up banner,
// /health saying "degraded" with a server crashed, disabled servers listed and their URL saying how
// to enable them, a command that does not exist failing at once as a config error, a stopped server
// without pid, CPU or memory, the stop cause being the signal; and, at start, the port bound before
// any server is spawned, with a warning when the gateway is reachable from the network.
import { createServer, type Server } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const initialize = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'newcomer', version: '1.0.0' } };

interface Row {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  cpuPercent: number | null;
  memoryBytes: number | null;
  lastError: string | null;
  history: { to: string }[];
}

/** The daemon's pino lines (JSON), and the lines people read (the banner). */
const logEntries = (daemon: DaemonHandle): Record<string, unknown>[] =>
  daemon.stderrLines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
const plainLines = (daemon: DaemonHandle): string[] => daemon.stderrLines.filter((line) => !line.startsWith('{'));

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

describe('server states as a newcomer meets them', () => {
  let daemon: DaemonHandle;
  const servers = {
    echo: fixtureServer('echo'),
    ghost: { command: 'mcp-orch-no-such-command', args: [] },
    off: { ...fixtureServer('echo'), disabled: true },
    broken: { ...fixtureServer('crash-on-start'), restart: 'never' },
  };
  const rows = async (): Promise<Row[]> => ((await (await daemon.api('/api/servers')).json()) as { servers: Row[] }).servers;
  const row = async (name: string): Promise<Row> => (await rows()).find((r) => r.name === name)!;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: servers } });
    const expected = { echo: 'running', ghost: 'crashed', off: 'disabled', broken: 'crashed' };
    await waitFor(async () => (await rows()).every((r) => expected[r.name as keyof typeof expected] === r.state), { timeoutMs: 15_000 });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it("prints each server's URL, the disabled one, /health and how to connect a client", async () => {
    const banner = await waitFor(() => plainLines(daemon).find((line) => line.startsWith('Control it')) && plainLines(daemon).join('\n'));
    expect(banner).toMatch(new RegExp(`^ {2}echo +${daemon.url}/servers/echo/mcp$`, 'm'));
    expect(banner).toMatch(/^ {2}off +disabled in the config$/m);
    expect(banner).toContain(`${daemon.url}/health`);
    expect(banner).toContain(`claude mcp add --transport http mcp-orch ${daemon.url}/mcp`);
    expect(banner).not.toContain('{name}');
    expect(banner).not.toContain('warning');
  });

  it('/health says degraded and names the crashed servers', async () => {
    const health = await fetch(`${daemon.url}/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; crashed: string[] };
    expect(body.status).toBe('degraded');
    expect(body.crashed).toEqual(['ghost', 'broken']);
  });

  it('a command that does not exist is a config error at once: no restart, no era probe, and logs says why', async () => {
    const ghost = await row('ghost');
    expect(ghost.lastError).toBe('failed to start: mcpServers.ghost.command: command not found: mcp-orch-no-such-command (looked in PATH)');
    expect(ghost.restarts).toBe(0);
    expect(ghost.history.map((t) => t.to)).toEqual(['starting', 'crashed']);
    const ofGhost = logEntries(daemon).filter((entry) => entry.server === 'ghost');
    expect(ofGhost.filter((entry) => entry.msg === 'child failed to start')).toHaveLength(1);
    expect(ofGhost.filter((entry) => entry.msg === 'protocol era probed')).toEqual([]);

    const logs = ok(await runCli(['logs', 'ghost', '--data-dir', daemon.dataDir]));
    expect(logs.stderr).toContain('ghost is crashed: failed to start: mcpServers.ghost.command: command not found');
  });

  it('disabled servers are listed, left out of --all, and their URL says how to enable them', async () => {
    const status = JSON.parse(ok(await runCli(['status', '--json', '--data-dir', daemon.dataDir])).stdout) as { servers: Row[] };
    expect(status.servers.find((s) => s.name === 'off')).toMatchObject({ state: 'disabled', pid: null });
    const table = ok(await runCli(['status', '--data-dir', daemon.dataDir])).stdout;
    expect(table).toMatch(/^off +disabled +- .* disabled in the config$/m);
    const listed = ok(await runCli(['list-servers', '--json', '--config', daemon.configPath, '--data-dir', daemon.dataDir]));
    expect((JSON.parse(listed.stdout) as { servers: Row[] }).servers.find((s) => s.name === 'off')?.state).toBe('disabled');

    const response = await fetch(`${daemon.url}/servers/off/mcp`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: initialize }),
    });
    const { error } = (await response.json()) as { error: { message: string; data: { state: string } } };
    expect(error.message).toMatch(/^server "off" is disabled in the config \(remove "disabled": true from mcpServers\.off /);
    expect(error.data.state).toBe('disabled');
    const unified = await connectStreamable(`${daemon.url}/mcp`);
    try {
      expect((await unified.listTools()).tools.map((tool) => tool.name).filter((name) => name.startsWith('off__'))).toEqual([]);
    } finally {
      await unified.close();
    }

    ok(await runCli(['start', '--all', '--data-dir', daemon.dataDir]));
    expect((await row('off')).state).toBe('disabled');
  });

  it('a stopped server shows no pid, CPU or memory', async () => {
    await waitFor(async () => (await row('echo')).memoryBytes !== null, { timeoutMs: 10_000 });
    ok(await runCli(['stop', 'echo', '--data-dir', daemon.dataDir]));
    expect(await row('echo')).toMatchObject({ state: 'stopped', pid: null, cpuPercent: null, memoryBytes: null });
    expect(ok(await runCli(['status', '--data-dir', daemon.dataDir])).stdout).toMatch(/^echo +stopped +- +- +\d+ +- +- /m);
    ok(await runCli(['start', 'echo', '--data-dir', daemon.dataDir]));
  });

  it('logs the signal as the cause of each stop', async () => {
    expect((await row('echo')).state).toBe('running');
    await daemon.stop();
    const stopping = logEntries(daemon).filter((entry) => entry.server === 'echo' && entry.to === 'stopping');
    expect(stopping.at(-1)?.cause).toBe('SIGTERM received');
  });
});

describe('start-up', () => {
  let tempDir: string;
  let blocker: Server | undefined;

  beforeAll(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-startup-'));
  });

  afterAll(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    await rm(tempDir, { recursive: true, force: true });
  });

  it('reports a port in use before spawning any server', async () => {
    // Something that is not mcp-orch: it hangs up on every connection.
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const configPath = join(tempDir, 'mcp-config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: { echo: fixtureServer('echo') } }));
    const result = await runCli(['serve', '--config', configPath, '--port', String(port), '--data-dir', join(tempDir, 'data')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`http://127.0.0.1:${port} is in use`);
    expect(result.stderr).not.toContain('child started');
    expect(result.stderr).not.toContain('starting');
  });

  it('on 0.0.0.0 it prints URLs a client can use and warns that the network can reach it', async () => {
    const open = await startDaemon({ config: { mcpServers: {} }, args: ['--host', '0.0.0.0'], auth: true });
    try {
      // The banner follows the "listening" line.
      const banner = await waitFor(() => plainLines(open).find((line) => line.startsWith('Control it')) && plainLines(open).join('\n'));
      expect(banner).toMatch(/^warning: listening on 0\.0\.0\.0: the gateway is reachable from the network/m);
      expect(banner).toContain(`http://127.0.0.1:${open.port}/mcp`);
      expect(banner).not.toContain('http://0.0.0.0');
      const status = JSON.parse(ok(await runCli(['status', '--json', '--data-dir', open.dataDir])).stdout) as { daemon: { url: string } };
      expect(status.daemon.url).toBe(`http://127.0.0.1:${open.port}`);
    } finally {
      await open.stop();
    }
  });
});
