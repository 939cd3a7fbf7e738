/**
 * The subscriptions/listen streams of 2026 clients through the daemon in process, in front of two
 * echo fixtures: which list changes reach which stream (a server's own endpoint hears its server
 * only; the unified endpoint hears every server, and of servers going and coming), what the
 * acknowledgement agrees to, and how streams end (swept as old, closed with the daemon).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, openModernListen, waitFor } from '../../../test/helpers/clients.js';
import { fixtureServer } from '../../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../../test/helpers/inProcessDaemon.js';

interface Frame {
  jsonrpc?: unknown;
  method: string;
  params: { notifications?: unknown; _meta: Record<string, unknown> };
}

const SUBSCRIPTION = 'io.modelcontextprotocol/subscriptionId';
const config = {
  mcpServers: { echo: fixtureServer('echo', { FIXTURE_ID: 'echo' }), other: fixtureServer('echo', { FIXTURE_ID: 'other' }) },
};
const withIsolated = {
  mcpServers: {
    ...config.mcpServers,
    own: { ...fixtureServer('echo', { FIXTURE_ID: 'own' }), isolation: 'session' },
    // Speaks both eras, and announces list changes on a listen stream only, once a 2026 client listens.
    dual: fixtureServer('modern-only', { MODERN_DUAL: '1' }),
  },
};

/** A listen stream: its frames as they arrive, and whether it ended. */
async function listen(url: string, id: string, notifications: Record<string, boolean>) {
  const response = await openModernListen(url, { id, notifications });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const state = { text: '', ended: false };
  const pumped = (async () => {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      state.text += chunk.value;
    }
    state.ended = true;
  })().catch(() => undefined);
  const frames = () =>
    state.text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Frame);
  const count = (method: string) => frames().filter((frame) => frame.method === method).length;
  await waitFor(() => frames().length >= 1);
  return {
    frames,
    count,
    ack: frames()[0]!,
    ended: () => state.ended,
    cancel: async () => {
      await reader.cancel().catch(() => undefined);
      await pumped;
    },
  };
}

describe('listen streams in process', () => {
  let running: InProcessDaemon;
  const clients: Client[] = [];
  const client = async (server: string) => {
    const connected = await connectStreamable(`${running.url}/servers/${server}/mcp`);
    clients.push(connected);
    return connected;
  };
  const setTool = async (server: string, tool: 'add_tool' | 'remove_tool', name: string) => {
    await (await client(server)).callTool({ name: tool, arguments: { name } });
  };

  beforeAll(async () => {
    running = await startInProcessDaemon({ config: withIsolated });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await running.stop();
  });

  it("carries a server's list change to the streams that see it, as JSON-RPC 2.0 tagged with the subscription", async () => {
    const unified = await listen(`${running.url}/mcp`, 'u', { toolsListChanged: true });
    const echoOnly = await listen(`${running.url}/servers/echo/mcp`, 'e', { toolsListChanged: true });
    try {
      expect(unified.ack).toMatchObject({
        jsonrpc: '2.0',
        method: 'notifications/subscriptions/acknowledged',
        params: { notifications: { toolsListChanged: true }, _meta: { [SUBSCRIPTION]: 'u' } },
      });
      await setTool('other', 'add_tool', 'seen-by-unified');
      await waitFor(() => unified.count('notifications/tools/list_changed') === 1);
      // echo's own change comes after other's on the same stream: had other's reached it, it would be counted first.
      await setTool('echo', 'add_tool', 'seen-by-both');
      await waitFor(
        () => echoOnly.count('notifications/tools/list_changed') === 1 && unified.count('notifications/tools/list_changed') === 2,
      );
      expect(echoOnly.frames().slice(1)).toEqual([
        { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { [SUBSCRIPTION]: 'e' } } },
      ]);
    } finally {
      await setTool('other', 'remove_tool', 'seen-by-unified');
      await setTool('echo', 'remove_tool', 'seen-by-both');
      await Promise.all([unified.cancel(), echoOnly.cancel()]);
    }
  });

  it('agrees only to the list changes asked for with true', async () => {
    const stream = await listen(`${running.url}/servers/echo/mcp`, 'a', {
      toolsListChanged: false,
      promptsListChanged: true,
      resourcesListChanged: true,
    });
    try {
      expect(stream.ack.params.notifications).toEqual({ promptsListChanged: true, resourcesListChanged: true });
    } finally {
      await stream.cancel();
    }
  });

  it("tells unified streams of a server's restart for every list agreed, and not another server's stream", async () => {
    const unified = await listen(`${running.url}/mcp`, 'u2', {
      toolsListChanged: true,
      promptsListChanged: true,
      resourcesListChanged: true,
    });
    const echoOnly = await listen(`${running.url}/servers/echo/mcp`, 'e2', { toolsListChanged: true });
    try {
      await running.daemon.control('other', 'restart');
      await running.daemon.settled();
      await waitFor(() => ['tools', 'prompts', 'resources'].every((kind) => unified.count(`notifications/${kind}/list_changed`) >= 1));
      // other's restart reached echo's stream before echo's own change, or never.
      await setTool('echo', 'add_tool', 'after-restart');
      await waitFor(() => echoOnly.count('notifications/tools/list_changed') === 1);
      expect(echoOnly.frames()).toHaveLength(2);
    } finally {
      await setTool('echo', 'remove_tool', 'after-restart');
      await Promise.all([unified.cancel(), echoOnly.cancel()]);
    }
  });

  it("does not announce a session's own instance of an isolated server: its lists are that session's alone", async () => {
    const unified = await listen(`${running.url}/mcp`, 'u3', {
      toolsListChanged: true,
      promptsListChanged: true,
      resourcesListChanged: true,
    });
    try {
      const session = await client('own');
      expect(await session.callTool({ name: 'add_tool', arguments: { name: 'mine' } })).toMatchObject({
        content: [{ type: 'text', text: 'added mine' }],
      });
      // The session's instance started and changed its list before echo's change, which alone is heard.
      await setTool('echo', 'add_tool', 'shared');
      await waitFor(() => unified.count('notifications/tools/list_changed') === 1);
      expect(unified.frames()).toHaveLength(2);
    } finally {
      await setTool('echo', 'remove_tool', 'shared');
      await unified.cancel();
    }
  });

  it("first opens the gateway's own listen stream to a server that announces changes only there", async () => {
    const stream = await listen(`${running.url}/servers/dual/mcp`, 'd', { toolsListChanged: true });
    try {
      expect(await (await client('dual')).callTool({ name: 'grow', arguments: {} })).toMatchObject({
        content: [{ type: 'text', text: expect.stringMatching(/^now \d+ tools$/) }],
      });
      await waitFor(() => stream.count('notifications/tools/list_changed') === 1);
    } finally {
      await stream.cancel();
    }
  });
});

describe('listen streams ending', () => {
  it('are swept once older than sessionIdleSec, and end when the daemon closes', async () => {
    const running = await startInProcessDaemon({ config: { ...config, orch: { sessionIdleSec: 1 } } });
    try {
      await running.daemon.settled();
      const asked = Date.now();
      const swept = await listen(`${running.url}/mcp`, 's', { toolsListChanged: true });
      await waitFor(() => swept.ended(), { timeoutMs: 10_000 });
      // A sweep ends only streams opened more than sessionIdleSec before it: never a young one.
      expect(Date.now() - asked).toBeGreaterThan(1000);
      await swept.cancel();
      const closing = await listen(`${running.url}/mcp`, 'c', { toolsListChanged: true });
      await running.stop();
      // Ended by the gateway, not cut by the closing server: the read sees the stream's end.
      await waitFor(() => closing.ended());
      await closing.cancel();
    } finally {
      await running.stop();
    }
  });
});
