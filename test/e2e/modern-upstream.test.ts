// Upstreams that speak ONLY 2026-07-28 (no initialize): modern-only.mjs over stdio and the same
// server over stateless HTTP (remote), behind one daemon, with a v1 client in 2025-11-25 and a v2
// client pinned to 2026-07-28 at the same time, on the per-server and unified endpoints. The server's
// input_required reaches the 2026 client as is and the 2025 client as an elicitation request.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, connectStreamable, MODERN_VERSION as MODERN, waitFor, type ModernClient } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';

const fixture = fileURLToPath(new URL('../fixtures/modern-only.mjs', import.meta.url));
const health = { intervalSec: 0.2, timeoutSec: 2, failureThreshold: 2 };

interface TextResult {
  content: Array<{ type: string; text?: string }>;
}
const textOf = (result: unknown): string => ((result as TextResult).content[0]?.text ?? '') as string;

const DISCOVER = 'modern-only: server/discover';
const logEvents = { MODERN_LOG_EVENTS: '1' };

/** The HTTP fixture, and how often it logged each event (`server/discover`, `slow started`, ...). */
async function startHttpFixture(): Promise<{ child: ChildProcess; url: string; events: (event: string) => number }> {
  const child = spawn(process.execPath, [fixture, '--http', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...logEvents },
  });
  const seen = new Map<string, number>();
  createInterface({ input: child.stderr! }).on('line', (line) => {
    const event = /^modern-only: (.*)$/.exec(line)?.[1];
    if (event) seen.set(event, (seen.get(event) ?? 0) + 1);
    else process.stderr.write(`${line}\n`);
  });
  const lines = createInterface({ input: child.stdout! });
  const [url] = (await once(lines, 'line')) as [string];
  return { child, url, events: (event) => seen.get(event) ?? 0 };
}

function connectAnswering(url: string, elicited: string[]): Promise<ModernClient> {
  return connectModern(url, {
    elicitation: (request) => {
      elicited.push(`2026: ${request.params.message}`);
      return { action: 'accept', content: { name: 'Ada' } };
    },
  });
}

describe('upstreams of the 2026-07-28 era only, over stdio and HTTP', () => {
  let daemon: DaemonHandle;
  let remote: Awaited<ReturnType<typeof startHttpFixture>>;
  const elicited: string[] = [];
  const modern: Record<string, ModernClient> = {};
  const legacy: Record<string, LegacyClient> = {};
  const paths = ['/mcp', '/servers/local/mcp', '/servers/remote/mcp'];

  beforeAll(async () => {
    remote = await startHttpFixture();
    daemon = await startDaemon({
      config: {
        mcpServers: {
          // Frequent health checks: ping is refused by the fixture (-32601), server/discover answers.
          local: { command: process.execPath, args: [fixture], env: logEvents, health },
          remote: { url: remote.url, health },
        },
      },
    });
    for (const path of paths) {
      [modern[path], legacy[path]] = await Promise.all([
        connectAnswering(`${daemon.url}${path}`, elicited),
        connectStreamable(`${daemon.url}${path}`, {
          clientInfo: { name: 'v1-client', version: '1.0.0' },
          elicitation: (request) => {
            elicited.push(`2025: ${String((request.params as { message?: string }).message)}`);
            return { action: 'accept', content: { name: 'Grace' } };
          },
        }),
      ]);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...Object.values(modern), ...Object.values(legacy)].map((client) => client.close().catch(() => undefined)));
    await daemon?.stop();
    remote?.child.kill();
  });

  it('shows both servers running in the 2026-07-28 era, modern only', async () => {
    const servers = (await (await daemon.api('/api/servers')).json()) as {
      servers: Array<{ name: string; state: string; era: string; modernOnly: boolean; type: string }>;
    };
    const byName = Object.fromEntries(servers.servers.map((server) => [server.name, server]));
    expect(byName.local).toMatchObject({ state: 'running', era: MODERN, modernOnly: true, type: 'stdio' });
    expect(byName.remote).toMatchObject({ state: 'running', era: MODERN, modernOnly: true, type: 'streamable-http' });
  });

  it('checks their health with server/discover (ping is deprecated): they stay running', async () => {
    // Rounds counted as they happen, on both servers: a round starts only once the one before has
    // ended, so `rounds + 1` discoveries mean `rounds` finished checks, more than failureThreshold.
    const localDiscovered = async () => {
      const detail = (await (await daemon.api('/api/servers/local')).json()) as { stderr: Array<{ line: string }> };
      return detail.stderr.filter((entry) => entry.line === DISCOVER).length;
    };
    const before = { local: await localDiscovered(), remote: remote.events('server/discover') };
    const rounds = health.failureThreshold + 1;
    await waitFor(
      async () => (await localDiscovered()) > before.local + rounds && remote.events('server/discover') > before.remote + rounds,
      {
        timeoutMs: 10_000,
      },
    );
    expect(daemon.stderrLines.filter((line) => line.includes('health check failed') || line.includes('"unhealthy"'))).toEqual([]);
    const servers = (await (await daemon.api('/api/servers')).json()) as { servers: Array<{ state: string }> };
    expect(servers.servers.map((server) => server.state)).toEqual(['running', 'running']);
  });

  it('lists and calls tools, prompts and resources from both eras at once', async () => {
    const [modernTools, legacyTools] = await Promise.all([modern['/mcp']!.listTools(), legacy['/mcp']!.listTools()]);
    for (const list of [modernTools, legacyTools]) {
      expect(list.tools.map((tool) => tool.name)).toEqual(
        expect.arrayContaining(['local__echo', 'local__ask', 'remote__echo', 'remote__slow']),
      );
    }
    const calls = await Promise.all(
      paths.flatMap((path) => {
        const name = path === '/mcp' ? 'remote__echo' : 'echo';
        return [
          modern[path]!.callTool({ name, arguments: { text: `2026 via ${path}` } }),
          legacy[path]!.callTool({ name, arguments: { text: `2025 via ${path}` } }),
        ];
      }),
    );
    expect(calls.map(textOf)).toEqual(paths.flatMap((path) => [`2026 via ${path}`, `2025 via ${path}`]));

    const [modernPrompt, legacyPrompt, modernRead, legacyRead] = await Promise.all([
      modern['/servers/remote/mcp']!.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }),
      legacy['/servers/local/mcp']!.getPrompt({ name: 'greet', arguments: { name: 'Grace' } }),
      modern['/servers/local/mcp']!.readResource({ uri: 'modern://info' }),
      legacy['/servers/remote/mcp']!.readResource({ uri: 'modern://info' }),
    ]);
    expect(modernPrompt.messages[0]?.content).toEqual({ type: 'text', text: 'Hello from 2026, Ada!' });
    expect(legacyPrompt.messages[0]?.content).toEqual({ type: 'text', text: 'Hello from 2026, Grace!' });
    for (const read of [modernRead, legacyRead])
      expect((read.contents[0] as { text: string }).text).toBe('This server speaks 2026-07-28 only.');
  });

  it('relays progress to both eras, from stdio and HTTP', async () => {
    const seen: Record<string, number[]> = { modern: [], legacy: [] };
    const [modernSlow, legacySlow] = await Promise.all([
      modern['/mcp']!.callTool(
        { name: 'remote__slow', arguments: { steps: 3, ms: 150 } },
        { onprogress: (p) => seen.modern!.push(p.progress) },
      ),
      legacy['/servers/local/mcp']!.callTool({ name: 'slow', arguments: { steps: 3, ms: 150 } }, undefined, {
        onprogress: (p) => seen.legacy!.push(p.progress),
      }),
    ]);
    expect(textOf(modernSlow)).toBe('done after 3 steps');
    expect(textOf(legacySlow)).toBe('done after 3 steps');
    expect(seen.modern).toEqual([1, 2, 3]);
    expect(seen.legacy).toEqual([1, 2, 3]);
  });

  it('cancels a call through the HTTP upstream when a client of either era gives up, per server and unified', async () => {
    const cases: Array<[string, (signal: AbortSignal) => Promise<unknown>]> = [
      ['2026 /mcp', (signal) => modern['/mcp']!.callTool({ name: 'remote__slow', arguments: { ms: 120_000, steps: 1 } }, { signal })],
      [
        '2026 /servers/remote/mcp',
        (signal) => modern['/servers/remote/mcp']!.callTool({ name: 'slow', arguments: { ms: 120_000, steps: 1 } }, { signal }),
      ],
      [
        '2025 /mcp',
        (signal) => legacy['/mcp']!.callTool({ name: 'remote__slow', arguments: { ms: 120_000, steps: 1 } }, undefined, { signal }),
      ],
    ];
    for (const [label, call] of cases) {
      const [started, cancelled] = [remote.events('slow started'), remote.events('slow cancelled')];
      const abort = new AbortController();
      const pending = call(abort.signal).then(
        () => 'finished',
        () => 'rejected',
      );
      await waitFor(() => remote.events('slow started') === started + 1);
      abort.abort(`${label} gave up`);
      expect(await pending, label).toBe('rejected');
      // The server itself stops: the gateway closed its request to it.
      await waitFor(() => remote.events('slow cancelled') === cancelled + 1);
    }
  });

  it('carries the server input_required to the 2026 client as is and to the 2025 client as elicitation', async () => {
    const results = await Promise.all(
      paths.flatMap((path) => {
        const names = path === '/mcp' ? ['local__ask', 'remote__ask'] : ['ask'];
        return names.flatMap((name) => [modern[path]!.callTool({ name, arguments: {} }), legacy[path]!.callTool({ name, arguments: {} })]);
      }),
    );
    const texts = results.map(textOf);
    expect(texts.filter((text) => /^Hello, Ada! \(state ask-state-\w+\)$/.test(text))).toHaveLength(4);
    expect(texts.filter((text) => /^Hello, Grace! \(state ask-state-\w+\)$/.test(text))).toHaveLength(4);
    expect(elicited.filter((line) => line === '2026: What is your name?')).toHaveLength(4);
    expect(elicited.filter((line) => line === '2025: What is your name?')).toHaveLength(4);
  });

  it('declares the 2025 client own capabilities to the server: without elicitation, the server says what it needs', async () => {
    const plain = await connectStreamable(`${daemon.url}/servers/local/mcp`, { clientInfo: { name: 'v1-plain', version: '1.0.0' } });
    try {
      await expect(plain.callTool({ name: 'ask', arguments: {} })).rejects.toThrow(/elicitation/);
      expect(textOf(await plain.callTool({ name: 'echo', arguments: { text: 'still fine' } }))).toBe('still fine');
    } finally {
      await plain.close();
    }
  });

  it('keeps the catalog fresh from the server listen stream, for both eras', async () => {
    const grown = await legacy['/servers/remote/mcp']!.callTool({ name: 'grow', arguments: {} });
    expect(textOf(grown)).toMatch(/^now \d+ tools$/);
    await waitFor(async () => (await legacy['/mcp']!.listTools()).tools.some((tool) => tool.name.startsWith('remote__extra_')), {
      timeoutMs: 5_000,
    });
    const modernList = await modern['/mcp']!.listTools();
    expect(modernList.tools.some((tool) => tool.name.startsWith('remote__extra_'))).toBe(true);
  });
});
