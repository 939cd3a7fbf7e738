// `mcp-orch stdio` as a client that launches a command sees it: the SDK's StdioClientTransport runs
// the built CLI, which serves every configured server unified over its stdin/stdout. Logs must stay on
// stderr (one stray line on stdout breaks the client), and closing the client must end the gateway and
// the servers it started.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const binPath = join(repoRoot, 'bin', 'mcp-orch.js');

let tempDir: string;
let client: Client | undefined;
let transport: StdioClientTransport | undefined;
const stderr: string[] = [];
let stderrEnded: Promise<unknown>;
const transportErrors: Error[] = [];

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-stdio-'));
  const configPath = join(tempDir, 'mcp-config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      mcpServers: {
        one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
        two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
      },
    }),
  );
  transport = new StdioClientTransport({
    command: process.execPath,
    // debug: plenty of log lines, every one of which must go to stderr and none to stdout.
    args: [binPath, 'stdio', '--config', configPath, '--data-dir', join(tempDir, 'data'), '--log-level', 'debug'],
    cwd: repoRoot,
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
  stderrEnded = once(transport.stderr!, 'end');
  client = new Client({ name: 'stdio-test', version: '0.0.0' });
  // A line on stdout that is not JSON-RPC reaches the client as a transport error.
  client.onerror = (error) => transportErrors.push(error);
  await client.connect(transport);
});

afterAll(async () => {
  await client?.close().catch(() => undefined);
  await rm(tempDir, { recursive: true, force: true });
});

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ type: string; text?: string }>)[0]?.text;

describe('mcp-orch stdio', () => {
  it('lists the tools of both servers, namespaced', async () => {
    const names = (await client!.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('one__echo');
    expect(names).toContain('two__echo');
  });

  it('routes a call to the right server', async () => {
    expect(textOf(await client!.callTool({ name: 'one__echo', arguments: { text: 'over stdio' } }))).toBe('over stdio');
    expect(textOf(await client!.callTool({ name: 'two__whoami', arguments: {} }))).toBe('two');
  });

  it('keeps stdout for the protocol and logs on stderr', async () => {
    await waitFor(() => stderr.join('').includes('child started'));
    const logLines = stderr
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    expect(transportErrors).toEqual([]);
  });

  it('ends the gateway and its children when the client closes', async () => {
    const gatewayPid = transport!.pid;
    const childPids = [
      Number(textOf(await client!.callTool({ name: 'one__pid', arguments: {} }))),
      Number(textOf(await client!.callTool({ name: 'two__pid', arguments: {} }))),
    ];
    expect(gatewayPid).toBeGreaterThan(0);
    for (const pid of childPids) {
      expect(pid).toBeGreaterThan(0);
      expect(processRunning(pid)).toBe(true);
    }

    await client!.close();
    client = undefined;
    await waitFor(() => !processRunning(gatewayPid!), { timeoutMs: 5000 });
    // The gateway went on stdin EOF by itself: the SIGTERM the SDK sends after its grace never came.
    await stderrEnded;
    expect(stderr.join('')).not.toContain('SIGTERM received');
    await waitFor(() => childPids.every((pid) => !processRunning(pid)), { timeoutMs: 5000 });
    expect(transportErrors).toEqual([]);
  });
});
