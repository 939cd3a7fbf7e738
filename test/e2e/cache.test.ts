// The response cache through the daemon: a server that opts in answers repeated idempotent calls
// from the cache, per project, and every event that may change an answer drops it (the server's
// list_changed, resources/updated, a restart, a config change). The echo fixture's `counter` tells
// a cached answer from a fresh one: each call that reaches the server counts up.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { daemonClients, recordNotifications, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';

const textOf = (result: unknown): string => ((result as { content: { text: string }[] }).content[0]?.text ?? '') as string;

describe('response cache', () => {
  let daemon: DaemonHandle;
  const { connect, closeAll } = daemonClients(() => daemon.url);
  const config = (echoCache: object) => ({
    mcpServers: {
      echo: { ...fixtureServer('echo'), cache: echoCache },
      ro: { ...fixtureServer('echo'), cache: { tools: 'readOnly' } },
    },
    orch: { defaults: { health: { intervalSec: 0 } } },
  });
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
    textOf(await client.callTool({ name, arguments: args }));
  const counts = async (server: string) => {
    const metrics = await scrapeMetrics(daemon.url);
    return {
      hits: metricValue(metrics, 'mcp_orch_cache_hits_total', { server }) ?? 0,
      misses: metricValue(metrics, 'mcp_orch_cache_misses_total', { server }) ?? 0,
    };
  };
  const pidOf = async (server: string): Promise<number | null> => {
    const body = (await (await daemon.api(`/api/servers/${server}`)).json()) as { pid: number | null; state: string };
    return body.state === 'running' ? body.pid : null;
  };

  beforeAll(async () => {
    daemon = await startDaemon({ config: config({ ttlSec: 300, tools: ['counter', 'echo'], resources: true }) });
    expect((await runCli(['projects', 'create', 'other', '--data-dir', daemon.dataDir])).code).toBe(0);
    await waitFor(async () => (await pidOf('echo')) && (await pidOf('ro')), { timeoutMs: 15_000 });
  });

  afterAll(async () => {
    await closeAll();
    await daemon?.stop();
  });

  it('answers a repeated call from the cache within a project, on its per-server and unified endpoints alike', async () => {
    const perServer = await connect('/servers/echo/mcp');
    const unified = await connect('/mcp');
    const other = await connect('/projects/other/servers/echo/mcp');
    expect(await call(perServer, 'counter')).toBe('1');
    expect(await call(perServer, 'counter')).toBe('1');
    expect(await call(unified, 'echo__counter')).toBe('1');
    // Another project never sees the first one's answers: its call reaches the server.
    expect(await call(other, 'counter')).toBe('2');
    expect(await call(other, 'counter')).toBe('2');
    // Other arguments are another entry; tools not listed are never kept.
    expect(await call(perServer, 'echo', { text: 'a' })).toBe('a');
    expect(await call(perServer, 'echo', { text: 'b' })).toBe('b');
    expect(await call(perServer, 'whoami')).toBe('');
    expect(await counts('echo')).toEqual({ hits: 3, misses: 4 });

    // The audit is written in batches, off the request path; the unified call is recorded by the name the client used.
    const rows = await waitFor(async () => {
      const audit = await runCli(['audit', '--json', '--type', 'tools/call', '--data-dir', daemon.dataDir]);
      const all = audit.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { name: string; detail: { cached?: boolean } | null; project: string });
      const counters = all.filter((row) => row.name === 'counter' || row.name === 'echo__counter');
      return counters.length === 5 ? counters : undefined;
    });
    expect(rows.filter((row) => row.detail?.cached === true).map((row) => row.project)).toEqual(['default', 'default', 'other']);
    expect(rows.filter((row) => row.detail?.cached !== true)).toHaveLength(2);
  });

  it('keeps the tools a server annotates read-only and idempotent with "readOnly", and no others', async () => {
    const client = await connect('/servers/ro/mcp');
    expect(await call(client, 'counter')).toBe('1');
    expect(await call(client, 'peek')).toBe('1');
    expect(await call(client, 'counter')).toBe('2');
    expect(await call(client, 'peek')).toBe('1');
    expect(await counts('ro')).toEqual({ hits: 1, misses: 1 });
  });

  it('drops a server’s answers when its tool list changes', async () => {
    const client = await connect('/servers/echo/mcp');
    const notifications = recordNotifications(client);
    const before = await call(client, 'counter');
    expect(await call(client, 'counter')).toBe(before);
    await call(client, 'add_tool', { name: 'extra' });
    await waitFor(() => notifications.some((n) => n.method === 'notifications/tools/list_changed'));
    expect(Number(await call(client, 'counter'))).toBeGreaterThan(Number(before));
  });

  it('drops a resource’s answer when the server says it was updated', async () => {
    const client = await connect('/servers/echo/mcp');
    const notifications = recordNotifications(client);
    const read = () => client.readResource({ uri: 'fixture://readme' });
    await client.subscribeResource({ uri: 'fixture://readme' });
    await read();
    const start = await counts('echo');
    await read();
    expect(await counts('echo')).toEqual({ hits: start.hits + 1, misses: start.misses });
    expect(await call(client, 'touch', { uri: 'fixture://readme' })).toBe('notified');
    await waitFor(() => notifications.some((n) => n.method === 'notifications/resources/updated'));
    await read();
    expect(await counts('echo')).toEqual({ hits: start.hits + 1, misses: start.misses + 1 });
  });

  it('drops a server’s answers when it restarts', async () => {
    const client = await connect('/servers/echo/mcp');
    const cached = await call(client, 'counter');
    expect(cached).not.toBe('1');
    const pid = await pidOf('echo');
    expect((await daemon.api('/api/servers/echo/restart', { method: 'POST' })).status).toBe(200);
    await waitFor(async () => {
      const now = await pidOf('echo');
      return now !== null && now !== pid;
    });
    // A new process counts from 1: the answer kept before the restart is gone.
    expect(await call(client, 'counter')).toBe('1');
  });

  it('follows a config change: a tool no longer listed is no longer kept', async () => {
    const pid = await pidOf('echo');
    await daemon.writeConfig(config({ ttlSec: 300, tools: ['echo'] }));
    await waitFor(
      async () => {
        const now = await pidOf('echo');
        return now !== null && now !== pid;
      },
      { timeoutMs: 10_000 },
    );
    const client = await connect('/servers/echo/mcp');
    expect(await call(client, 'counter')).toBe('1');
    expect(await call(client, 'counter')).toBe('2');
  });
});
