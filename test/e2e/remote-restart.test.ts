/**
 * Remote upstreams whose origin goes away and comes back on the same port: a 2025 Streamable HTTP
 * server with sessions and a legacy SSE one (echo-http.mjs), whose restart forgets every session, and
 * a stateless 2026-07-28 server (modern-only.mjs --http). While an origin is down, a client of either
 * era hears an error naming the server; once it is back the gateway serves again, initializing anew
 * where the session was lost, and the streams that carry list changes are open again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
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

describe('remote upstreams whose origin restarts', () => {
  const sessions = new Origin(fixture('echo-http'), '--port');
  const stateless = new Origin(fixture('modern-only'), '--http');
  let daemon: DaemonHandle;
  let legacy: Client;
  let modern: ModernClient;

  beforeAll(async () => {
    await Promise.all([sessions.start(0, { FIXTURE_ID: 'first' }), stateless.start()]);
    daemon = await startDaemon({
      config: {
        mcpServers: {
          http: { type: 'streamable-http', url: `${sessions.url}/mcp`, timeout: 3 },
          sse: { type: 'sse', url: `${sessions.url}/sse`, timeout: 3 },
          modern: { url: stateless.url, timeout: 3 },
        },
      },
    });
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
    for (const name of ['http', 'sse']) {
      const uri = `mcp-orch://${name}/fixture://readme`;
      await waitFor(
        async () => textOf(await legacy.callTool({ name: `${name}__touch`, arguments: { uri: 'fixture://readme' } })) === 'notified',
      );
      await waitFor(() => heard.some((n) => n.method === 'notifications/resources/updated' && n.params?.uri === uri));
    }

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
