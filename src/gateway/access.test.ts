/**
 * Keys changing under open sessions, through the daemon in process with access control on: a
 * session and a listen stream whose key is revoked end, and the others hear that their lists may
 * have changed.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, openModernListen, recordNotifications, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { hashKey } from '../auth/keys.js';
import { issueKey } from '../auth/issue.js';
import { openStore, type Store } from '../store/open.js';

describe('keys changing under open sessions', () => {
  let running: InProcessDaemon;
  let store: Store;
  const clients: Client[] = [];

  const listen = (key: string, notifications: Record<string, boolean> = { toolsListChanged: true, resourcesListChanged: true }) =>
    openModernListen(`${running.url}/mcp`, { token: key, notifications });
  /** Reads a stream's text until it contains `until`. */
  const readUntil = async (reader: ReadableStreamDefaultReader<string>, until: string) => {
    let streamed = '';
    while (!streamed.includes(until)) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`stream ended before ${until}: ${streamed}`);
      streamed += chunk.value;
    }
    return streamed;
  };

  beforeAll(async () => {
    running = await startInProcessDaemon({ auth: true, config: { mcpServers: { echo: fixtureServer('echo') } } });
    await running.daemon.settled();
    store = openStore(running.dataDir);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    store.close();
    await running.stop();
  });

  it('ends what a revoked key holds, and tells the other sessions their lists may have changed', async () => {
    const first = store.keys.findByHash(hashKey(running.firstRunKey!))!;
    const other = issueKey(store.keys, { project: first.project, member: first.member!, name: 'other' });
    const doomed = await connectStreamable(`${running.url}/mcp`, { token: running.firstRunKey! });
    const staying = await connectStreamable(`${running.url}/servers/echo/mcp`, { token: other.key });
    clients.push(doomed, staying);
    const heard: Notification[] = recordNotifications(staying);
    const [doomedStream, stayingStream, promptsStream] = await Promise.all([
      listen(running.firstRunKey!),
      listen(other.key),
      listen(other.key, { promptsListChanged: true }),
    ]);
    expect([doomedStream.status, stayingStream.status, promptsStream.status]).toEqual([200, 200, 200]);
    const reader = stayingStream.body!.pipeThrough(new TextDecoderStream()).getReader();
    const promptsReader = promptsStream.body!.pipeThrough(new TextDecoderStream()).getReader();
    try {
      expect(running.daemon.gateway.sessionCounts()['streamable-http']).toBe(2);
      store.keys.revoke(first.id);
      // The revoked key's stream ends; so does its session.
      expect(await doomedStream.text()).toContain('notifications/subscriptions/acknowledged');
      await waitFor(() => running.daemon.gateway.sessionCounts()['streamable-http'] === 1);
      await waitFor(() =>
        ['tools', 'prompts', 'resources'].every((kind) => heard.some((n) => n.method === `notifications/${kind}/list_changed`)),
      );
      // Each staying stream hears every list it agreed to, and only those.
      const streamed = await readUntil(reader, 'notifications/resources/list_changed');
      expect(streamed).toContain('notifications/tools/list_changed');
      expect(streamed).not.toContain('notifications/prompts/list_changed');
      const prompts = await readUntil(promptsReader, 'notifications/prompts/list_changed');
      expect(prompts).not.toMatch(/notifications\/(tools|resources)\/list_changed/);
      expect(await staying.callTool({ name: 'echo', arguments: { text: 'still here' } })).toEqual({
        content: [{ type: 'text', text: 'still here' }],
      });
    } finally {
      await Promise.all([reader.cancel(), promptsReader.cancel()]);
    }
  });
});
