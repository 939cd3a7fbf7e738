/**
 * Clients of a shared server are strangers to each other: what one session sends must not steer
 * what the server does for another (roots), and what the server sends for one must not reach another
 * (sampling, log messages). A server with `isolation: "session"` gives each session an instance of
 * its own. Every case runs two or more real clients against one daemon and real servers.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, CreateMessageRequest, Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, recordNotifications, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const filesystemEntry = fileURLToPath(new URL('../../node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', import.meta.url));

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}

async function close(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

interface ServerRow {
  name: string;
  instances: number;
}

describe('isolation between clients of a shared server', () => {
  let daemon: DaemonHandle;
  let scratch: string;
  let allowed: string;
  let outside: string;
  const clients: Client[] = [];

  const connect = async (server: string, options: Parameters<typeof connectStreamable>[1] = {}): Promise<Client> => {
    const client = await connectStreamable(`${daemon.url}/servers/${server}/mcp`, options);
    clients.push(client);
    return client;
  };
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const answering = (who: string, asked: string[]) => (request: CreateMessageRequest) => {
    const content = request.params.messages[0]?.content;
    asked.push(content && !Array.isArray(content) && content.type === 'text' ? content.text : '');
    return { role: 'assistant' as const, model: who, content: { type: 'text' as const, text: `from ${who}` } };
  };
  const instancesOf = async (name: string): Promise<number> => {
    const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: ServerRow[] };
    return servers.find((s) => s.name === name)!.instances;
  };

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mcp-orch-isolation-'));
    allowed = join(scratch, 'allowed');
    outside = join(scratch, 'outside');
    await mkdir(allowed);
    await mkdir(outside);
    await writeFile(join(allowed, 'public.txt'), 'for everyone\n');
    await writeFile(join(outside, 'secret.txt'), 'not for clients\n');
    daemon = await startDaemon({
      config: {
        mcpServers: {
          files: { command: process.execPath, args: [filesystemEntry, allowed] },
          llm: fixtureServer('sampling'),
          own: { ...fixtureServer('sampling'), isolation: 'session', maxInstances: 2 },
          echo: fixtureServer('echo'),
        },
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map(close));
    await daemon?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it("never offers a client's roots to a shared server, so its sandbox stays where the config put it", async () => {
    // The attack: declare file:/// as a root and announce a change, so that the server asks again.
    const attacker = await connect('files', { roots: [{ uri: 'file:///', name: 'everything' }] });
    await attacker.sendRootsListChanged();
    const victim = await connect('files');
    const directories = textOf(await call(victim, 'list_allowed_directories'));
    expect(directories).toContain(allowed);
    expect(directories).not.toMatch(/^\/$/m);
    for (const client of [attacker, victim]) {
      const read = await call(client, 'read_text_file', { path: join(outside, 'secret.txt') });
      expect(read.isError).toBe(true);
      expect(textOf(read)).not.toContain('not for clients');
    }
    expect(textOf(await call(victim, 'read_text_file', { path: join(allowed, 'public.txt') }))).toContain('for everyone');
  });

  it('declares no roots to a shared server without configured ones, and refuses its roots/list', async () => {
    const client = await connect('llm', { roots: [{ uri: 'file:///home', name: 'home' }], sampling: answering('x', []) });
    expect(JSON.parse(textOf(await call(client, 'capabilities')))).not.toHaveProperty('roots');
    const roots = await call(client, 'list_roots');
    expect(roots.isError).toBe(true);
    expect(textOf(roots)).toContain('has none configured');
  });

  it('refuses a server request it cannot tie to one client, and never shows one client what another asked', async () => {
    const askedA: string[] = [];
    const askedB: string[] = [];
    const a = await connect('llm', { sampling: answering('A', askedA) });
    const b = await connect('llm', { sampling: answering('B', askedB) });
    // B's call is in flight at the server when A's tool asks for sampling: the server does not say
    // which client its request is for, so the gateway must not guess.
    const held = call(b, 'hold');
    await waitFor(async () => textOf(await call(a, 'held')) === '1');
    const answer = await call(a, 'ask_llm', { prompt: 'private to A' });
    expect(answer.isError).toBe(true);
    expect(textOf(answer)).toContain('isolation');
    expect(askedA).toEqual([]);
    expect(askedB).toEqual([]);
    await call(a, 'release');
    expect(textOf(await held)).toBe('released');
    // With one client in flight the tie is certain again.
    expect(textOf(await call(a, 'ask_llm', { prompt: 'A alone' }))).toBe('from A');
    expect(askedA).toEqual(['A alone']);
    expect(askedB).toEqual([]);
  });

  it('gives each session of an isolated server its own instance, whose requests reach only its session', async () => {
    const askedA: string[] = [];
    const askedB: string[] = [];
    const a = await connect('own', { sampling: answering('A', askedA), roots: [{ uri: 'file:///a', name: 'a' }] });
    const b = await connect('own', { sampling: answering('B', askedB), roots: [{ uri: 'file:///b', name: 'b' }] });
    const heldA = call(a, 'hold');
    const [fromA, fromB] = await Promise.all([call(a, 'ask_llm', { prompt: 'to A' }), call(b, 'ask_llm', { prompt: 'to B' })]);
    expect([textOf(fromA), textOf(fromB)]).toEqual(['from A', 'from B']);
    expect([askedA, askedB]).toEqual([['to A'], ['to B']]);
    expect(JSON.parse(textOf(await call(a, 'list_roots')))).toEqual(['file:///a']);
    expect(JSON.parse(textOf(await call(b, 'list_roots')))).toEqual(['file:///b']);
    // B's instance has no call of A's blocked in it.
    expect(textOf(await call(b, 'held'))).toBe('0');
    await call(a, 'release');
    await heldA;
    const pids = [textOf(await call(a, 'pid')), textOf(await call(b, 'pid'))];
    expect(pids[0]).not.toBe(pids[1]);
    expect(await instancesOf('own')).toBe(2);

    // At maxInstances, a third session is told so rather than sharing someone's instance.
    const c = await connect('own', { sampling: answering('C', []) });
    const refused = await c.callTool({ name: 'pid', arguments: {} }).catch((error: unknown) => error);
    expect(String((refused as Error).message ?? refused)).toContain('maxInstances');

    // A session that ends takes its instance with it.
    await close(a);
    await waitFor(async () => (await instancesOf('own')) === 1);
    await waitFor(() => !processAlive(Number(pids[0])));
    expect(textOf(await call(c, 'pid'))).not.toBe(pids[1]);
  });

  it("sends a shared server's log messages only to sessions that set a log level", async () => {
    const quiet = await connect('echo');
    const listening = await connect('echo');
    const heardQuiet: Notification[] = recordNotifications(quiet);
    const heard: Notification[] = recordNotifications(listening);
    await listening.setLoggingLevel('info');
    await call(quiet, 'log', { level: 'error', message: 'from the quiet session' });
    await call(listening, 'log', { level: 'info', message: 'from the listening session' });
    await waitFor(() => heard.some((n) => JSON.stringify(n).includes('from the listening session')));
    expect(heardQuiet.filter((n) => n.method === 'notifications/message')).toEqual([]);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
