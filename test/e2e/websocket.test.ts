// MCP over WebSocket (/mcp/ws, /servers/{name}/ws and their project forms) through the daemon: the
// SDK's own WebSocketClientTransport lists and calls tools; keys, browser tickets, Host and Origin
// are checked as on every route; oversized frames, floods, clients that stop reading and clients
// that vanish end their session and give back what they held.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { runCli } from '../helpers/cli.js';
import { connectTransport, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';

// Node 20 has no global WebSocket, which the SDK's client transport uses; Node 22 has its own.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const wsUrl = (url: string, path: string) => `${url.replace(/^http/, 'ws')}${path}`;

interface Refusal {
  status: number;
  body: string;
}

/** A raw WebSocket (the `ws` library, which may send headers); resolves open, or with the HTTP answer that refused it. */
function openSocket(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<WebSocket | Refusal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? ['mcp'], { headers: options.headers });
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    socket.once('error', reject);
  });
}

/** A raw socket that has initialized an MCP session: `request` sends one request and resolves with its answer. */
async function rawSession(url: string, headers: Record<string, string> = {}) {
  const socket = await openSocket(url, { headers });
  if (!(socket instanceof WebSocket)) throw new Error(`refused: ${socket.status} ${socket.body}`);
  const answers = new Map<number | string, (message: Record<string, unknown>) => void>();
  const received: Record<string, unknown>[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as Record<string, unknown>;
    received.push(message);
    answers.get(message.id as number)?.(message);
  });
  let next = 1;
  const request = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const id = next++;
      answers.set(id, resolve);
      socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  await request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } });
  socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return { socket, request, received };
}

const closed = (socket: WebSocket) =>
  new Promise<number>((resolve) => {
    if (socket.readyState === WebSocket.CLOSED) resolve(-1);
    socket.once('close', (code) => resolve(code));
  });

describe('MCP over WebSocket', () => {
  let daemon: DaemonHandle;
  const clients: Client[] = [];
  const sdkClient = async (path: string) => {
    const client = await connectTransport(new WebSocketClientTransport(new URL(wsUrl(daemon.url, path))));
    clients.push(client);
    return client;
  };
  const openWebSockets = async () => metricValue(await scrapeMetrics(daemon.url), 'mcp_orch_sessions_open', { transport: 'websocket' });

  beforeAll(async () => {
    daemon = await startDaemon({
      config: {
        mcpServers: { echo: fixtureServer('echo') },
        orch: { maxBodyBytes: 64 * 1024, limits: { inFlight: 4, sessionsPerClient: 6, streamBufferBytes: 64 * 1024 } },
      },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await daemon?.stop();
  });

  it('serves the SDK WebSocket client on the unified and the per-server endpoint, and their project forms', async () => {
    const unified = await sdkClient('/mcp/ws');
    expect((await unified.listTools()).tools.map((t) => t.name)).toContain('echo__echo');
    expect(await unified.callTool({ name: 'echo__echo', arguments: { text: 'over ws' } })).toEqual({
      content: [{ type: 'text', text: 'over ws' }],
    });
    const perServer = await sdkClient('/projects/default/servers/echo/ws');
    expect((await perServer.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(await perServer.callTool({ name: 'add', arguments: { a: 2, b: 3 } })).toMatchObject({ structuredContent: { sum: 5 } });
    expect(await perServer.readResource({ uri: 'fixture://readme' })).toMatchObject({ contents: [{ text: 'This is the echo fixture.' }] });
    expect(await openWebSockets()).toBe(2);
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await waitFor(async () => (await openWebSockets()) === 0);
  });

  it('answers a plain GET, a missing subprotocol and an unknown server over HTTP, with what to do', async () => {
    const plain = await fetch(`${daemon.url}/mcp/ws`);
    expect(plain.status).toBe(400);
    expect(await plain.text()).toContain('subprotocol \\"mcp\\"');
    const noProtocol = (await openSocket(wsUrl(daemon.url, '/mcp/ws'), { protocols: [] })) as Refusal;
    expect(noProtocol.status).toBe(400);
    expect(noProtocol.body).toContain('the WebSocket subprotocol \\"mcp\\" is required');
    const unknown = (await openSocket(wsUrl(daemon.url, '/servers/nope/ws'))) as Refusal;
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('unknown server \\"nope\\"');
  });

  it('refuses another site’s page and another Host name before anything opens', async () => {
    const origin = (await openSocket(wsUrl(daemon.url, '/mcp/ws'), { headers: { origin: 'https://evil.example' } })) as Refusal;
    expect(origin.status).toBe(403);
    expect(origin.body).toContain('origin https://evil.example is not allowed');
    const host = (await openSocket(wsUrl(daemon.url, '/mcp/ws'), { headers: { host: 'rebound.example' } })) as Refusal;
    expect(host.status).toBe(403);
    const own = await openSocket(wsUrl(daemon.url, '/mcp/ws'), { headers: { origin: daemon.url } });
    expect(own).toBeInstanceOf(WebSocket);
    (own as WebSocket).close();
  });

  it('closes a connection whose frame is larger than orch.maxBodyBytes, and serves the next one', async () => {
    const { socket } = await rawSession(wsUrl(daemon.url, '/servers/echo/ws'));
    const code = closed(socket);
    socket.send(
      JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(70_000) } } }),
    );
    expect(await code).toBe(1009);
    const next = await rawSession(wsUrl(daemon.url, '/servers/echo/ws'));
    expect(await next.request('tools/call', { name: 'echo', arguments: { text: 'still here' } })).toMatchObject({
      result: { content: [{ text: 'still here' }] },
    });
    next.socket.close();
    await waitFor(async () => (await openWebSockets()) === 0);
  });

  it('answers a flood of messages: requests past orch.limits.inFlight refused, garbage answered, cancelled ones let go', async () => {
    const { socket, received } = await rawSession(wsUrl(daemon.url, '/servers/echo/ws'));
    received.length = 0;
    const frames: string[] = [];
    // Calls that take a minute: the first four hold every place until they are cancelled.
    for (let id = 100; id < 300; id++) {
      frames.push(
        JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 60_000, steps: 1 } } }),
      );
    }
    frames.push('not json', JSON.stringify({ jsonrpc: '1.0', id: 1 }));
    for (const frame of frames) socket.send(frame);
    await waitFor(() => received.length === frames.length - 4, { timeoutMs: 10_000 });
    const limited = received.filter((m) => (m.error as { data?: { limit?: string } } | undefined)?.data?.limit === 'inFlight');
    expect(limited.map((m) => m.id)).toEqual(Array.from({ length: 196 }, (_, i) => 104 + i));
    expect(received.filter((m) => (m.error as { code?: number } | undefined)?.code === -32700)).toHaveLength(1);
    expect(received.filter((m) => (m.error as { code?: number } | undefined)?.code === -32600)).toHaveLength(1);

    for (let id = 100; id < 104; id++) {
      socket.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'test' } }));
    }
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 'after', method: 'tools/call', params: { name: 'echo', arguments: { text: 'ok' } } }));
    const after = await waitFor(() => received.find((m) => m.id === 'after'));
    expect(after.result).toMatchObject({ content: [{ text: 'ok' }] });
    socket.close();
    await waitFor(async () => (await openWebSockets()) === 0);
  });

  it('drops a client that stops reading once it leaves orch.limits.streamBufferBytes unread', { timeout: 30_000 }, async () => {
    const { socket, request } = await rawSession(wsUrl(daemon.url, '/servers/echo/ws'));
    await request('ping');
    socket.pause();
    // 20 MB of progress notifications for one call, more than the socket's buffers on both sides hold.
    const params = { name: 'chatter', arguments: { count: 200, bytes: 100_000 }, _meta: { progressToken: 'p' } };
    socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1000, method: 'tools/call', params }));
    await waitFor(async () => (await openWebSockets()) === 0, { timeoutMs: 20_000 });
    await waitFor(() => daemon.stderrLines.some((line) => line.includes('dropped a WebSocket whose client stopped reading')));
    socket.terminate();
  });

  it('ends the session of a client that vanishes without closing, and frees its place', async () => {
    const sockets = [];
    for (let i = 0; i < 6; i++) sockets.push((await rawSession(wsUrl(daemon.url, '/mcp/ws'))).socket);
    const over = (await openSocket(wsUrl(daemon.url, '/mcp/ws'))) as Refusal;
    expect(over.status).toBe(429);
    expect(over.body).toContain('sessionsPerClient');
    for (const socket of sockets) socket.terminate();
    await waitFor(async () => (await openWebSockets()) === 0);
    const again = await rawSession(wsUrl(daemon.url, '/mcp/ws'));
    again.socket.close();
  });
});

describe('MCP over WebSocket with keys', () => {
  let daemon: DaemonHandle;
  let key: string;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo') } }, auth: true });
    const created = await runCli(['keys', 'create', '--name', 'ws', '--json', '--data-dir', daemon.dataDir]);
    key = (JSON.parse(created.stdout) as { key: string }).key;
  });
  afterAll(() => daemon?.stop());

  const ticket = async (path = '/ws-tickets', authorization = `Bearer ${key}`) => {
    const response = await fetch(`${daemon.url}${path}`, { method: 'POST', headers: { authorization } });
    return { status: response.status, body: (await response.json()) as { ticket?: string; expiresInSec?: number } };
  };

  it('takes a key in the Authorization header, and refuses a connection without one', async () => {
    const refused = (await openSocket(wsUrl(daemon.url, '/mcp/ws'))) as Refusal;
    expect(refused.status).toBe(401);
    const { request, socket } = await rawSession(wsUrl(daemon.url, '/servers/echo/ws'), { authorization: `Bearer ${key}` });
    expect(await request('tools/call', { name: 'echo', arguments: { text: 'keyed' } })).toMatchObject({
      result: { content: [{ text: 'keyed' }] },
    });
    socket.close();
  });

  it('lets a browser in with a ticket from the API, once, and never with a key in the URL', async () => {
    const issued = await ticket();
    expect(issued.status).toBe(200);
    expect(issued.body.expiresInSec).toBe(30);
    const url = wsUrl(daemon.url, `/mcp/ws?ticket=${issued.body.ticket}`);
    const client = await connectTransport(new WebSocketClientTransport(new URL(url)));
    expect(await client.callTool({ name: 'echo__echo', arguments: { text: 'ticket' } })).toEqual({
      content: [{ type: 'text', text: 'ticket' }],
    });
    await client.close();

    const reused = (await openSocket(url)) as Refusal;
    expect(reused.status).toBe(401);
    expect(reused.body).toContain('ticket is unknown, used or expired');
    expect(((await openSocket(wsUrl(daemon.url, `/mcp/ws?key=${key}`))) as Refusal).status).toBe(401);
    // A ticket of the default project opens nothing in another one.
    const other = await ticket();
    const elsewhere = (await openSocket(wsUrl(daemon.url, `/projects/elsewhere/mcp/ws?ticket=${other.body.ticket}`))) as Refusal;
    expect(elsewhere.status).toBe(403);
    expect((await ticket('/ws-tickets', 'Bearer mcpo_not_a_real_key_000000000000000000000')).status).toBe(401);

    const audit = await waitFor(async () => {
      const out = await runCli(['audit', '--json', '--type', 'auth.failed', '--data-dir', daemon.dataDir]);
      const rows = out.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { detail: { reason: string }; transport: string });
      return rows.some((row) => row.detail.reason === 'ticket') ? rows : undefined;
    });
    expect(audit.filter((row) => row.detail.reason === 'ticket')[0]!.transport).toBe('websocket');
  });
});
