/**
 * MCP over WebSocket through the daemon in process, with the `ws` library's real sockets: the SDK's
 * WebSocket client, and raw frames for what a client may not send (garbage, batches, duplicate ids,
 * more requests than may be in flight) and for a client that stops reading.
 */
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectTransport, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

// Node 20 has no global WebSocket, which the SDK's client transport uses.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

type Message = Record<string, unknown> & { id?: unknown; error?: { code: number; message: string; data?: { limit?: string } } };

describe('MCP over WebSocket in process', () => {
  let running: InProcessDaemon;
  const ws = (path: string) => `${running.url.replace(/^http/, 'ws')}${path}`;
  const open = () => running.daemon.gateway.sessionCounts().websocket;

  /** A raw socket with an initialized session of `version`: every message it receives, and a request helper. */
  async function rawSession(path: string, version = '2025-11-25') {
    const socket = new WebSocket(ws(path), ['mcp']);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const received: Message[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data)) as Message));
    const answer = (id: unknown) => waitFor(() => received.find((message) => message.id === id));
    socket.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'init',
        method: 'initialize',
        params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
      }),
    );
    await answer('init');
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    return {
      socket,
      received,
      answer,
      send: (message: unknown) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)),
    };
  }

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: {
        mcpServers: { echo: fixtureServer('echo') },
        orch: { limits: { inFlight: 2, batch: 3, sessionsPerClient: 4, streamBufferBytes: 64 * 1024 } },
      },
    });
    await running.daemon.settled();
  });
  afterAll(() => running.stop());

  it('serves the SDK client on the unified and per-server endpoints, and counts the sessions', async () => {
    const unified = await connectTransport(new WebSocketClientTransport(new URL(ws('/mcp/ws'))));
    const perServer = await connectTransport(new WebSocketClientTransport(new URL(ws('/servers/echo/ws'))));
    try {
      expect((await unified.listTools()).tools.map((tool) => tool.name)).toContain('echo__echo');
      expect(await unified.callTool({ name: 'echo__echo', arguments: { text: 'over ws' } })).toEqual({
        content: [{ type: 'text', text: 'over ws' }],
      });
      expect(await perServer.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
      expect(open()).toBe(2);
    } finally {
      await Promise.all([unified.close(), perServer.close()]);
    }
    await waitFor(() => open() === 0);
  });

  it('answers garbage, non-JSON-RPC, batches and duplicate ids itself, and the rest as usual', async () => {
    const { send, received, answer, socket } = await rawSession('/servers/echo/ws');
    try {
      send('not json');
      const parse = await waitFor(() => received.find((m) => m.error?.code === -32700));
      expect(parse).toMatchObject({ id: null, error: { message: expect.stringContaining('Parse error:') } });
      send({ jsonrpc: '1.0', id: 4 });
      expect((await answer(4)).error).toMatchObject({ code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' });
      send([]);
      await waitFor(() => received.filter((m) => m.error?.code === -32600).length === 2);
      const call = (id: unknown, text = 'x') => ({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text } },
      });
      send([call(5), call(6)]);
      expect((await answer(5)).error?.message).toBe(
        'Invalid Request: JSON-RPC batches are not part of protocol 2025-11-25 (send each message in a request of its own)',
      );
      expect((await answer(6)).error?.code).toBe(-32600);
      // 1 and "1" are different ids; a second "1" while the first is in flight is not.
      send({ jsonrpc: '2.0', id: '1', method: 'tools/call', params: { name: 'slow', arguments: { ms: 60_000, steps: 1 } } });
      send({ jsonrpc: '2.0', id: '1', method: 'tools/call', params: { name: 'echo', arguments: { text: 'dup' } } });
      send(call(1, 'number one'));
      expect((await answer(1)).result).toEqual({ content: [{ type: 'text', text: 'number one' }] });
      const duplicate = await waitFor(() => received.find((m) => m.id === '1' && m.error));
      expect(duplicate.error!.message).toBe('Invalid Request: id "1" belongs to a request in flight');
      send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: '1', reason: 'test' } });
      send(call('1', 'again'));
      expect((await waitFor(() => received.find((m) => m.id === '1' && m.result))).result).toEqual({
        content: [{ type: 'text', text: 'again' }],
      });
    } finally {
      socket.close();
    }
    await waitFor(() => open() === 0);
  });

  it('refuses requests past orch.limits.inFlight, counting a burst before the session sees it', async () => {
    const { send, received, socket } = await rawSession('/servers/echo/ws');
    try {
      for (let id = 10; id < 15; id++)
        send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 60_000, steps: 1 } } });
      await waitFor(() => received.filter((m) => m.error?.data?.limit === 'inFlight').length === 3);
      expect(received.filter((m) => m.error?.data?.limit === 'inFlight').map((m) => m.id)).toEqual([12, 13, 14]);
      expect(received.find((m) => m.id === 12)!.error!.message).toContain('too many requests in flight on this session: 2 at most');
      for (const id of [10, 11]) send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } });
      send({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: { name: 'echo', arguments: { text: 'ok' } } });
      expect((await waitFor(() => received.find((m) => m.id === 'after'))).result).toEqual({ content: [{ type: 'text', text: 'ok' }] });
      // A cancelled request gets no answer.
      expect(received.filter((m) => m.id === 10 || m.id === 11)).toEqual([]);
    } finally {
      socket.close();
    }
    await waitFor(() => open() === 0);
  });

  it('takes batches on revisions that had them, up to orch.limits.batch', async () => {
    const { send, received, answer, socket } = await rawSession('/servers/echo/ws', '2025-03-26');
    try {
      const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `${id}` } } });
      send([call(1), call(2)]);
      expect((await answer(1)).result).toEqual({ content: [{ type: 'text', text: '1' }] });
      expect((await answer(2)).result).toEqual({ content: [{ type: 'text', text: '2' }] });
      send([call(3), call(4), call(5), call(6)]);
      await waitFor(() => received.filter((m) => (m.id as number) >= 3).length === 4);
      expect(received.find((m) => m.id === 3)!.error!.message).toBe(
        'Invalid Request: a batch of 4 messages; 3 at most (send fewer messages per request, or raise orch.limits.batch)',
      );
    } finally {
      socket.close();
    }
    await waitFor(() => open() === 0);
  });

  it('drops a client that stops reading once it leaves streamBufferBytes unread', async () => {
    const { send, socket } = await rawSession('/servers/echo/ws');
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'chatter', arguments: { count: 100, bytes: 100_000 }, _meta: { progressToken: 'p' } },
    });
    await waitFor(() => open() === 0, { timeoutMs: 20_000 });
    socket.resume();
    await closed;
  });

  it('refuses an unknown server and a client past its sessions before upgrading', async () => {
    const refusal = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(ws(path), ['mcp']);
        socket.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          response.resume();
        });
        socket.once('open', () => reject(new Error('opened')));
        socket.once('error', () => undefined);
      });
    expect(await refusal('/servers/nope/ws')).toBe(404);
    const sockets = [];
    for (let i = 0; i < 4; i++) sockets.push((await rawSession('/mcp/ws')).socket);
    expect(await refusal('/mcp/ws')).toBe(429);
    for (const socket of sockets) socket.terminate();
    await waitFor(() => open() === 0);
    const again = await rawSession('/mcp/ws');
    again.socket.close();
    await waitFor(() => open() === 0);
  });
});

describe('idle sessions that hold a connection open', () => {
  let running: InProcessDaemon;
  afterAll(() => running?.stop());

  it('a WebSocket and a legacy SSE stream live as long as their connection, where an abandoned HTTP session is swept', async () => {
    running = await startInProcessDaemon({ config: { mcpServers: { echo: fixtureServer('echo') }, orch: { sessionIdleSec: 1 } } });
    const counts = () => running.daemon.gateway.sessionCounts();
    const socket = new WebSocket(`${running.url.replace(/^http/, 'ws')}/servers/echo/ws`, ['mcp']);
    const received: Message[] = [];
    socket.on('message', (data) => received.push(JSON.parse(String(data)) as Message));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const request = async (id: number, method: string, params: Record<string, unknown> = {}) => {
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      return waitFor(() => received.find((message) => message.id === id));
    };
    await request(1, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '0' } });
    socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
    const legacy = await fetch(`${running.url}/servers/echo/sse`, { headers: { accept: 'text/event-stream' } });
    expect(legacy.status).toBe(200);
    // Opened after the socket last sent anything: once it is swept, the socket was idle as long.
    const abandoned = await fetch(`${running.url}/servers/echo/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'abandoned', version: '0' } },
      }),
    });
    expect(abandoned.status).toBe(200);
    await abandoned.body?.cancel();
    expect(counts()).toMatchObject({ 'streamable-http': 1, websocket: 1, sse: 1 });

    await waitFor(() => counts()['streamable-http'] === 0, { timeoutMs: 10_000 });
    expect(counts()).toMatchObject({ websocket: 1, sse: 1 });
    expect(await request(2, 'ping')).toMatchObject({ id: 2, result: {} });
    socket.close();
    await legacy.body?.cancel();
    await waitFor(() => counts().websocket === 0 && counts().sse === 0);
  });
});
