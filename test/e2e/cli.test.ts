// The built CLI as a person runs it: list-servers and list-tools read a running daemon when one
// listens on the config's port and otherwise start the servers themselves (and stop them again);
// --version, --help, import, and a config error that names the file and the field.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';
import { repoRoot, runCli as runCliIn, type CliResult } from '../helpers/cli.js';

/** Runs `mcp-orch <args>` in the test's temp dir. */
const runCli = (args: string[]): Promise<CliResult> => runCliIn(args, { cwd: tempDir });

/** A port nothing listens on right now, so that the CLI finds no daemon there. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function parseJson(result: CliResult): unknown {
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
}

interface ServerJson {
  name: string;
  state: string;
  pid: number | null;
  tools: number;
  error: string | null;
}

/**
 * `list-tools --server one --json` lists the echo fixture's tools and says which source it read
 * (`{source, servers}` or a `source` on each entry: either shape would do).
 */
async function expectToolsOfOne(configPath: string, source: 'daemon' | 'direct', data: string = dataDir()): Promise<void> {
  const json = parseJson(await runCli(['list-tools', '--server', 'one', '--json', '--config', configPath, '--data-dir', data]));
  const entries = (Array.isArray(json) ? json : (json as { servers: unknown[] }).servers) as {
    server: string;
    source?: string;
    tools: { name: string }[];
  }[];
  expect(entries.map((entry) => entry.server)).toEqual(['one']);
  expect(entries[0]?.tools.map((tool) => tool.name)).toContain('echo');
  expect(Array.isArray(json) ? entries[0]?.source : (json as { source?: unknown }).source).toBe(source);
}

let tempDir: string;
const dataDir = () => join(tempDir, 'data');

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-cli-'));
});

afterAll(async () => {
  await rm(tempDir, { recursive: true, force: true });
});

describe('list-servers and list-tools with a daemon running', () => {
  let daemon: DaemonHandle;
  let configPath: string;
  const servers = { one: fixtureServer('echo', { FIXTURE_ID: 'one' }), two: fixtureServer('echo', { FIXTURE_ID: 'two' }) };

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: servers } });
    // The CLI finds the daemon at the config's orch.port, which must be the one it got.
    configPath = join(tempDir, 'live-config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: servers, orch: { port: daemon.port } }));
    await waitFor(
      async () => {
        const { servers: rows } = (await (await daemon.api('/api/servers')).json()) as { servers: ServerJson[] };
        return rows.every((s) => s.state === 'running');
      },
      { timeoutMs: 15_000 },
    );
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  // The daemon's data dir holds the admin token the CLI needs for /api.
  it('list-servers --json reads the daemon', async () => {
    const json = parseJson(await runCli(['list-servers', '--json', '--config', configPath, '--data-dir', daemon.dataDir])) as {
      source: string;
      servers: ServerJson[];
    };
    expect(json.source).toBe('daemon');
    const apiPids = ((await (await daemon.api('/api/servers')).json()) as { servers: ServerJson[] }).servers.map((s) => s.pid);
    expect(json.servers.map((s) => s.name).sort()).toEqual(['one', 'two']);
    expect(json.servers.every((s) => s.state === 'running' && s.tools > 0)).toBe(true);
    // The daemon's own children, not new ones started by the command.
    expect(json.servers.map((s) => s.pid).sort()).toEqual(apiPids.sort());
  });

  it('list-tools --server one --json reads the daemon', async () => {
    await expectToolsOfOne(configPath, 'daemon', daemon.dataDir);
  });
});

describe('list-servers and list-tools without a daemon', () => {
  let configPath: string;

  beforeAll(async () => {
    configPath = join(tempDir, 'direct-config.json');
    await writeFile(
      configPath,
      JSON.stringify({
        mcpServers: {
          one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
          broken: { ...fixtureServer('crash-on-start'), timeout: 5 },
        },
        orch: { port: await freePort() },
      }),
    );
  });

  it('list-servers --json starts the servers itself, reports the failed one, and leaves no child behind', async () => {
    const json = parseJson(await runCli(['list-servers', '--json', '--config', configPath, '--data-dir', dataDir()])) as {
      source: string;
      servers: ServerJson[];
    };
    expect(json.source).toBe('direct');
    const one = json.servers.find((s) => s.name === 'one');
    const broken = json.servers.find((s) => s.name === 'broken');
    expect(one).toMatchObject({ state: 'running' });
    expect(one?.tools).toBeGreaterThan(0);
    expect(one?.pid).toBeGreaterThan(0);
    // Failed for good, or waiting to be restarted under the default policy: either way not running.
    expect(['failed', 'crashed', 'restarting']).toContain(broken?.state);
    expect(broken?.error).toContain('missing API token');
    // The command waited for its children before exiting; allow the kernel a moment all the same.
    await waitFor(() => !processRunning(one!.pid!), { timeoutMs: 2000 });
  });

  it('list-tools --server one --json starts the server itself', async () => {
    await expectToolsOfOne(configPath, 'direct');
  });

  it('says on stderr what it is starting, as each server settles, with colours only on request', async () => {
    const result = await runCliIn(['list-servers', '--config', configPath, '--data-dir', dataDir()], { cwd: tempDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('no daemon running: starting 2 servers to inspect them');
    expect(result.stderr).toMatch(/^ {2}\[\d\/2\] one: running, \d+ tools$/m);
    expect(result.stderr).toMatch(/^ {2}\[\d\/2\] broken: (restarting|crashed): /m);
    // Piped: plain text.
    expect(result.stdout + result.stderr).not.toContain('\x1b[');
    const forced = await runCliIn(['list-servers', '--config', configPath, '--data-dir', dataDir()], {
      cwd: tempDir,
      env: { FORCE_COLOR: '1' },
    });
    expect(forced.stdout).toContain('\x1b[32mrunning\x1b[39m');
    const plain = await runCliIn(['list-servers', '--config', configPath, '--data-dir', dataDir()], {
      cwd: tempDir,
      env: { FORCE_COLOR: '1', NO_COLOR: '1' },
    });
    expect(plain.stdout + plain.stderr).not.toContain('\x1b[');
  });
});

describe('other commands', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('--help lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['serve', 'stdio', 'list-servers', 'list-tools', 'import']) {
      expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('import adds the servers of a Claude Desktop config, and a second import skips them', async () => {
    const source = join(tempDir, 'claude_desktop_config.json');
    const target = join(tempDir, 'imported', 'mcp-config.json');
    const claude = {
      mcpServers: {
        memory: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] },
        files: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'], env: { DEBUG: '1' } },
      },
    };
    await writeFile(source, JSON.stringify(claude));

    const first = parseJson(await runCli(['import', source, '--config', target, '--json'])) as {
      added: string[];
      skipped: { name: string; reason: string }[];
      created: boolean;
    };
    expect(first.added.sort()).toEqual(['files', 'memory']);
    expect(first.created).toBe(true);
    const written = JSON.parse(await readFile(target, 'utf8')) as { mcpServers: Record<string, unknown> };
    expect(written.mcpServers).toMatchObject(claude.mcpServers);

    const second = parseJson(await runCli(['import', source, '--config', target, '--json'])) as typeof first;
    expect(second.added).toEqual([]);
    expect(second.created).toBe(false);
    expect(second.skipped.map((s) => s.name).sort()).toEqual(['files', 'memory']);
    for (const skipped of second.skipped) expect(skipped.reason).toMatch(/already present/);
    expect(JSON.parse(await readFile(target, 'utf8'))).toEqual(written);
    // Said to a person: why neither flag would change anything.
    const again = await runCli(['import', source, '--config', target]);
    expect(again.stdout).toContain(
      `${target} already has every one of them as it is; --overwrite and --rename act only on servers that differ`,
    );

    // A different server under a taken name: the flags that import it anyway.
    await writeFile(source, JSON.stringify({ mcpServers: { memory: { command: 'npx', args: ['-y', 'another-memory'] } } }));
    const taken = await runCli(['import', source, '--config', target]);
    expect(taken.code).toBe(0);
    expect(taken.stdout).toContain('nothing imported');
    expect(taken.stdout).toContain(
      'to import memory anyway: --overwrite replaces the server of the same name, --rename adds it as a new name',
    );
  });

  it("a schema error's hint points at the example, unless the example is the file being edited", async () => {
    const bad = JSON.stringify({ mcpServers: { bad: { command: process.execPath, args: 'x' } } });
    for (const name of ['mcp-config.json', 'mcp-config.json.example']) {
      const dir = join(tempDir, `hint-${name}`);
      await mkdir(dir);
      await writeFile(join(dir, name), bad);
      const result = await runCliIn(['list-servers', '--config', name], { cwd: dir });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`${join(dir, name)}: mcpServers.bad.args`);
      if (name === 'mcp-config.json')
        expect(result.stderr).toContain('hint: fix the fields named above; mcp-config.json.example shows a working config');
      else expect(result.stderr).toContain('hint: fix the fields named above; the README\'s "Config" section lists every key');
    }
  });

  it('a bad MCP_ORCH_PORT is an error naming the variable', async () => {
    const configPath = join(tempDir, 'empty-config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: {} }));
    const result = await runCliIn(['serve', '--config', configPath, '--data-dir', dataDir()], { env: { MCP_ORCH_PORT: 'eighty' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MCP_ORCH_PORT: expected a number from 0 to 65535, got "eighty"');
  });

  it('serve exits non-zero on a config error, naming the file and the field', async () => {
    const configPath = join(tempDir, 'bad-config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: { bad: { command: process.execPath, args: 'x' } } }, null, 2));
    const result = await runCli(['serve', '--config', configPath, '--port', '0', '--data-dir', dataDir()]);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(configPath);
    expect(result.stderr).toContain('mcpServers.bad.args');
  });
});
