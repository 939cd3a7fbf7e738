/**
 * What servers coming, going and restarting mean for open sessions, through the daemon in process:
 * resource subscriptions counted across sessions and renewed after a restart, and list changes
 * announced to the sessions whose lists a server's state changes (2025 sessions and 2026 listen
 * streams alike).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonClients, openModernListen, recordNotifications, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

const textOf = (result: unknown): string => (result as { content: { text?: string }[] }).content[0]?.text ?? '';

describe('pool events in process', () => {
  let running: InProcessDaemon;
  const clients = daemonClients(() => running.url);
  const heard = new Map<Client, Notification[]>();
  const connect = async (path: string) => {
    const client = await clients.connect(path);
    heard.set(client, recordNotifications(client));
    return client;
  };
  const close = async (client: Client) => {
    if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession();
    await client.close();
  };
  const count = (client: Client, method: string) => heard.get(client)!.filter((n) => n.method === method).length;

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: { mcpServers: { one: fixtureServer('echo', { FIXTURE_ID: 'one' }), two: fixtureServer('echo', { FIXTURE_ID: 'two' }) } },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await clients.closeAll();
    await running.stop();
  });

  it('subscribes a server once for many sessions, until the last one leaves', async () => {
    const a = await connect('/servers/one/mcp');
    const b = await connect('/sse');
    const touch = async () => textOf(await a.callTool({ name: 'touch', arguments: { uri: 'fixture://readme' } }));
    await a.subscribeResource({ uri: 'fixture://readme' });
    await b.subscribeResource({ uri: 'mcp-orch://one/fixture://readme' });
    // Subscribing twice, or unsubscribing what one never subscribed to, changes nothing.
    await b.subscribeResource({ uri: 'mcp-orch://one/fixture://readme' });
    await b.unsubscribeResource({ uri: 'mcp-orch://one/fixture://shared' });
    expect(await touch()).toBe('notified');
    await waitFor(() => count(a, 'notifications/resources/updated') === 1 && count(b, 'notifications/resources/updated') === 1);
    expect(heard.get(b)!.find((n) => n.method === 'notifications/resources/updated')!.params).toEqual({
      uri: 'mcp-orch://one/fixture://readme',
    });
    await a.unsubscribeResource({ uri: 'fixture://readme' });
    expect(await touch()).toBe('notified');
    await waitFor(() => count(b, 'notifications/resources/updated') === 2);
    expect(count(a, 'notifications/resources/updated')).toBe(1);
    // The last subscriber's session ends: the server is unsubscribed.
    await close(b);
    await waitFor(async () => (await touch()) === 'not subscribed');
  });

  it('keeps both of two sessions that subscribe at the same moment', async () => {
    const [a, b] = await Promise.all([connect('/servers/one/mcp'), connect('/servers/one/mcp')]);
    await Promise.all([a.subscribeResource({ uri: 'fixture://shared' }), b.subscribeResource({ uri: 'fixture://shared' })]);
    expect(textOf(await a.callTool({ name: 'touch', arguments: { uri: 'fixture://shared' } }))).toBe('notified');
    await waitFor(() => count(a, 'notifications/resources/updated') === 1 && count(b, 'notifications/resources/updated') === 1);
    await Promise.all([close(a), close(b)]);
  });

  it('counts the same URI of two servers apart, and renews only a restarted server’s own subscriptions', async () => {
    const a = await connect('/servers/two/mcp');
    const b = await connect('/servers/one/mcp');
    const touch = async (client: Client, uri: string) => textOf(await client.callTool({ name: 'touch', arguments: { uri } }));
    await b.subscribeResource({ uri: 'fixture://readme' });
    await a.subscribeResource({ uri: 'fixture://readme' });
    expect(await touch(a, 'fixture://readme')).toBe('notified');
    await b.subscribeResource({ uri: 'fixture://shared' });
    await running.daemon.control('two', 'restart');
    await running.daemon.settled();
    await waitFor(async () => (await touch(a, 'fixture://readme')) === 'notified');
    await waitFor(() => count(a, 'notifications/resources/updated') === 2);
    // "two" is not told of what was subscribed on "one".
    expect(await touch(a, 'fixture://shared')).toBe('not subscribed');
    await Promise.all([close(a), close(b)]);
  });

  it('tells unified sessions and listen streams when a server goes and comes back, and no one else', async () => {
    const unified = await connect('/mcp');
    const other = await connect('/servers/two/mcp');
    const listen = await openModernListen(`${running.url}/mcp`, {
      id: 'l',
      notifications: { toolsListChanged: true, promptsListChanged: true },
    });
    const reader = listen.body!.pipeThrough(new TextDecoderStream()).getReader();
    let streamed = '';
    try {
      await running.daemon.control('one', 'stop');
      await waitFor(() => ['tools', 'prompts', 'resources'].every((kind) => count(unified, `notifications/${kind}/list_changed`) === 1));
      expect((await unified.listTools()).tools.some((tool) => tool.name.startsWith('one__'))).toBe(false);
      while (!streamed.includes('notifications/prompts/list_changed')) streamed += (await reader.read()).value ?? '';
      expect(streamed).toContain('notifications/tools/list_changed');
      expect(streamed).not.toContain('notifications/resources/list_changed');
      await running.daemon.control('one', 'start');
      await running.daemon.settled();
      await waitFor(() => count(unified, 'notifications/tools/list_changed') >= 2);
      expect((await unified.listTools()).tools.map((tool) => tool.name)).toContain('one__echo');
      expect(heard.get(other)!.filter((n) => n.method.endsWith('/list_changed'))).toEqual([]);
    } finally {
      await reader.cancel();
      await close(unified);
      await close(other);
    }
  });
});
