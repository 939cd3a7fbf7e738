// Servers that write to stdout what is no JSON-RPC message, as many on npm do, through a real daemon:
// their lines are skipped and kept in their log, counted in /metrics, and warned about in /api, and
// no call is cut short by them; real corruption (a message broken by a newline, megabytes of stray
// output within a second) fails the server with an error that says what was seen, and only that server.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse, connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

/** What the broken message of the `broken` server holds: its caller's data, which no error may quote. */
const BROKEN_DATA = 'private to the caller';
const CALLS = 20;

interface ServerRow {
  name: string;
  state: string;
  restarts: number;
  error: string | null;
  warning: string | null;
  history: { to: string; cause: string }[];
}

let daemon: DaemonHandle;
const clients: Client[] = [];

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      mcpServers: {
        noisy: fixtureServer('noisy'),
        broken: fixtureServer('noisy', { NOISY_DATA: BROKEN_DATA }),
        flooded: fixtureServer('noisy'),
        quiet: fixtureServer('echo'),
      },
      orch: { defaults: { health: { intervalSec: 0 }, backoff: { initialMs: 100, maxMs: 100 } } },
    },
  });
  await waitFor(async () => (await servers()).every((s) => s.state === 'running'), { timeoutMs: 15_000 });
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await daemon?.stop();
});

async function servers(): Promise<ServerRow[]> {
  return ((await (await daemon.api('/api/servers')).json()) as { servers: ServerRow[] }).servers;
}

async function server(name: string): Promise<ServerRow> {
  const row = (await servers()).find((s) => s.name === name);
  if (!row) throw new Error(`no server ${name}`);
  return row;
}

async function logLines(name: string): Promise<string[]> {
  const body = (await (await daemon.api(`/api/servers/${name}/logs?lines=500`)).json()) as { lines: { line: string }[] };
  return body.lines.map((entry) => entry.line);
}

async function strayCounter(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  const match = new RegExp(`^mcp_orch_server_stray_stdout_lines_total\\{server="${name}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

async function track(client: Promise<Client>): Promise<Client> {
  clients.push(await client);
  return clients.at(-1)!;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ type: string; text?: string }>)[0]?.text;

describe('a server that logs to stdout', () => {
  it('answers every call, per server and unified, over both transports', async () => {
    const direct = await track(connectStreamable(`${daemon.url}/servers/noisy/mcp`));
    const unified = await track(connectSse(`${daemon.url}/sse`));
    const texts = Array.from({ length: CALLS }, (_, i) => `call ${i}`);
    const answers = await Promise.all(
      texts.map((text, i) =>
        i % 2 === 0
          ? direct.callTool({ name: 'echo', arguments: { text } })
          : unified.callTool({ name: 'noisy__echo', arguments: { text } }),
      ),
    );
    expect(answers.map(textOf)).toEqual(texts);
    expect(await server('noisy')).toMatchObject({ state: 'running', restarts: 0, error: null });
  });

  it('keeps its lines in its log as stdout, counts them, and warns once in /api and the daemon log', async () => {
    // The banner, the JSON log line, and one line per call of the test above.
    const expected = 2 + CALLS;
    expect(await strayCounter('noisy')).toBe(expected);
    expect(await strayCounter('quiet')).toBe(0);

    const lines = await logLines('noisy');
    expect(lines.slice(0, 2)).toEqual(['[stdout] Starting noisy server...', '[stdout] {"level":30,"time":0,"msg":"noisy server ready"}']);
    expect(lines.filter((line) => line.startsWith('[stdout] echo called with "call '))).toHaveLength(CALLS);

    const { warning } = await server('noisy');
    expect(warning).toContain(`wrote ${expected} lines to stdout that are not JSON-RPC, skipped and kept in its log`);
    expect(warning).toContain('"Starting noisy server..."');
    expect(warning).toContain('`mcp-orch logs noisy`');
    expect((await server('quiet')).warning).toBeNull();

    // Once per server, with its first line: the noisy fixture serves as three servers here.
    const warned = daemon.stderrLines
      .filter((line) => line.includes('wrote a line to stdout that is not JSON-RPC'))
      .map((line) => JSON.parse(line) as { server: string; stdout: string; level: number });
    expect(warned.map((entry) => entry.server).sort()).toEqual(['broken', 'flooded', 'noisy']);
    expect(warned.every((entry) => entry.stdout === 'Starting noisy server...' && entry.level === 40)).toBe(true);
  });
});

describe('a stdout that cannot be trusted', () => {
  it('fails a server whose message breaks off, naming what was seen without quoting it; it restarts and the others answer', async () => {
    const client = await track(connectStreamable(`${daemon.url}/servers/broken/mcp`));
    const failure = await client.callTool({ name: 'break' }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toContain(
      'server "broken" went away during tools/call: wrote a line to stdout that breaks off inside a JSON-RPC message',
    );
    expect(failure?.message).toContain('a newline inside a message, or other output written into one');
    expect(failure?.message).not.toContain(BROKEN_DATA);
    // The operator sees the line itself, in the log and in the cause of the restart.
    const row = await waitFor(async () => {
      const s = await server('broken');
      return s.restarts === 1 && s.state === 'running' ? s : undefined;
    });
    expect(row.history.find((t) => t.to === 'restarting')?.cause).toContain(BROKEN_DATA);
    expect((await logLines('broken')).some((line) => line.startsWith('[stdout] {"jsonrpc":"2.0"') && line.includes(BROKEN_DATA))).toBe(
      true,
    );

    const again = await track(connectStreamable(`${daemon.url}/servers/broken/mcp`));
    expect(textOf(await again.callTool({ name: 'echo', arguments: { text: 'back' } }))).toBe('back');
    expect(await server('noisy')).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('fails a server that writes megabytes of stray output within a second, saying how much', async () => {
    const client = await track(connectStreamable(`${daemon.url}/mcp`));
    const failure = await client.callTool({ name: 'flooded__flood', arguments: { mib: 16 } }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(
      /server "flooded" went away during tools\/call: wrote \d+\.\d MiB of output that is not JSON-RPC to stdout within a second \(\d+ lines\), more than the 2 MiB a server may log there/,
    );
    expect(textOf(await client.callTool({ name: 'quiet__echo', arguments: { text: 'unaffected' } }))).toBe('unaffected');
  });
});
