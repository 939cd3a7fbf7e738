/**
 * Remote upstreams whose origin goes away and comes back on the same port: a 2025 Streamable HTTP
 * server with sessions and a legacy SSE one (echo-http.mjs), whose restart forgets every session, and
 * a stateless 2026-07-28 server (modern-only.mjs --http). While an origin is down, a client of either
 * era hears an error naming the server; once it is back the gateway serves again, initializing anew
 * where the session was lost, and the streams that carry list changes are open again. Then the
 * streams alone drop (a relay between gateway and origins cuts every connection): the GET stream,
 * the SSE stream (and with it the SSE session) and the listen stream are opened again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, connectStreamable, recordNotifications, waitFor, type ModernClient } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}.mjs`, import.meta.url));
const textOf = (result: unknown): string => (result as { content: { text?: string }[] }).content[0]?.text ?? '';

/** An origin process; `restart` stops it and starts it again on the port it had. */
class Origin {
  private child: ChildProcess | undefined;
  url = '';

  constructor(
    private readonly script: string,
    private readonly portFlag: string,
  ) {}

  async start(port = 0, env: Record<string, string> = {}): Promise<void> {
    const child = spawn(process.execPath, [this.script, this.portFlag, String(port)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...env },
    });
    this.child = child;
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    this.url = line;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
}

/** The three remote servers: Streamable HTTP and SSE at the base URL of echo-http, and the 2026 one. */
function gatewayTo(base: string, modernUrl: string) {
  return {
    mcpServers: {
      http: { type: 'streamable-http', url: `${base}/mcp`, timeout: 3 },
      sse: { type: 'sse', url: `${base}/sse`, timeout: 3 },
      modern: { url: modernUrl, timeout: 3 },
    },
  };
}

/** A TCP relay to `target` whose connections can be cut, as a network failure does, while the origin runs on. */
async function startRelay(target: string): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const keep = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((inbound) => {
    const outbound = connect(Number(port), hostname);
    keep(inbound);
    keep(outbound);
    inbound.pipe(outbound).pipe(inbound);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut,
    close: async () => {
      cut();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Calls `touch` until the update it sends for the server's fixture://readme reaches the client (the stream it rides on may be reopening). */
async function hearsUpdates(client: Client, heard: Notification[], server: string): Promise<void> {
  const uri = `mcp-orch://${server}/fixture://readme`;
  const count = () => heard.filter((n) => n.method === 'notifications/resources/updated' && n.params?.uri === uri).length;
  const before = count();
  await waitFor(
    async () => {
      await client.callTool({ name: `${server}__touch`, arguments: { uri: 'fixture://readme' } });
      return count() > before;
    },
    { timeoutMs: 15_000 },
  );
}

describe('remote upstreams whose origin restarts', () => {
  const sessions = new Origin(fixture('echo-http'), '--port');
  const stateless = new Origin(fixture('modern-only'), '--http');
  let daemon: DaemonHandle;
  let legacy: Client;
  let modern: ModernClient;

  beforeAll(async () => {
    await Promise.all([sessions.start(0, { FIXTURE_ID: 'first' }), stateless.start()]);
    daemon = await startDaemon({ config: gatewayTo(sessions.url, stateless.url) });
    [legacy, modern] = await Promise.all([connectStreamable(`${daemon.url}/mcp`), connectModern(`${daemon.url}/mcp`)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([legacy, modern].map((client) => client?.close().catch(() => undefined)));
    await daemon?.stop();
    await Promise.all([sessions.stop(), stateless.stop()]);
  });

  it('names the server while its origin is down, and serves again once it is back, in a new session with its subscriptions', async () => {
    const heard = recordNotifications(legacy);
    for (const name of ['http', 'sse']) {
      expect(textOf(await legacy.callTool({ name: `${name}__whoami` }))).toBe('first');
      await legacy.subscribeResource({ uri: `mcp-orch://${name}/fixture://readme` });
    }
    expect(textOf(await modern.callTool({ name: 'modern__echo', arguments: { text: 'before' } }))).toBe('before');

    await Promise.all([sessions.stop(), stateless.stop()]);
    for (const client of [legacy, modern] as Client[]) {
      for (const name of ['http', 'sse']) {
        await expect(client.callTool({ name: `${name}__whoami` }), name).rejects.toThrow(`server "${name}"`);
      }
      await expect(client.callTool({ name: 'modern__echo', arguments: { text: 'down' } })).rejects.toThrow('server "modern"');
    }

    await Promise.all([sessions.start(sessions.port, { FIXTURE_ID: 'second' }), stateless.start(stateless.port)]);
    for (const client of [legacy, modern] as Client[]) {
      for (const name of ['http', 'sse']) {
        await waitFor(async () => textOf(await client.callTool({ name: `${name}__whoami` })) === 'second', { timeoutMs: 15_000 });
      }
      await waitFor(async () => textOf(await client.callTool({ name: 'modern__echo', arguments: { text: 'after' } })) === 'after', {
        timeoutMs: 15_000,
      });
    }

    // The session is new, initialized and subscribed again (an SSE stream reopened alone would be neither).
    for (const name of ['http', 'sse']) await hearsUpdates(legacy, heard, name);

    // The origins' announcements reach the gateway again: the servers' own streams are open anew.
    for (const name of ['http', 'sse']) await legacy.callTool({ name: `${name}__add_tool`, arguments: { name: 'fresh' } });
    await modern.callTool({ name: 'modern__grow' });
    await waitFor(
      async () => {
        const names = (await legacy.listTools()).tools.map((tool) => tool.name);
        return (
          ['http__fresh', 'sse__fresh'].every((name) => names.includes(name)) && names.some((name) => name.startsWith('modern__extra_'))
        );
      },
      { timeoutMs: 10_000 },
    );
  });
});

describe('remote upstreams whose streams drop while the origin runs on', () => {
  const sessions = new Origin(fixture('echo-http'), '--port');
  const stateless = new Origin(fixture('modern-only'), '--http');
  const relays: Awaited<ReturnType<typeof startRelay>>[] = [];
  let daemon: DaemonHandle;
  let legacy: Client;

  beforeAll(async () => {
    await Promise.all([sessions.start(), stateless.start()]);
    relays.push(...(await Promise.all([startRelay(sessions.url), startRelay(stateless.url)])));
    daemon = await startDaemon({ config: gatewayTo(relays[0]!.url, `${relays[1]!.url}/mcp`) });
    legacy = await connectStreamable(`${daemon.url}/mcp`);
  }, 60_000);

  afterAll(async () => {
    await legacy?.close().catch(() => undefined);
    await daemon?.stop();
    await Promise.all(relays.map((relay) => relay.close()));
    await Promise.all([sessions.stop(), stateless.stop()]);
  });

  it('opens the GET, SSE and listen streams again, so updates and list changes go on reaching clients', async () => {
    const heard = recordNotifications(legacy);
    for (const name of ['http', 'sse']) await legacy.subscribeResource({ uri: `mcp-orch://${name}/fixture://readme` });
    for (const name of ['http', 'sse']) await hearsUpdates(legacy, heard, name);

    for (const relay of relays) relay.cut();
    // The Streamable HTTP session lives on at the origin; the SSE one ended with its stream and is made anew, subscribed.
    for (const name of ['http', 'sse']) await hearsUpdates(legacy, heard, name);
    // The 2026 server announces the tool it adds on a listen stream, which must be open again (or the lists read again).
    await legacy.callTool({ name: 'modern__grow' });
    await waitFor(async () => (await legacy.listTools()).tools.some((tool) => tool.name.startsWith('modern__extra_')), {
      timeoutMs: 10_000,
    });
  });
});
