/**
 * The forwarding path through the daemon in process: what it keeps from a cached server and what it
 * must not keep, progress only for a client that asked for it, a task's status for the client that
 * created it, a hosted server's requests on the call's own stream, and a 2026 caller's own instance
 * of an isolated server gone with its request. Plus the progress-token split as a plain function.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  CreateTaskResultSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type JSONRPCMessage,
  type Notification,
  type ServerNotification,
  type ServerResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, daemonClients, MODERN_VERSION, recordNotifications, type ConnectOptions } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { parseExposition } from '../../test/helpers/metrics.js';
import { serveSdkHttp, type SdkHttpServer } from '../../test/helpers/sdkHttpServer.js';
import { waitFor } from '../../test/helpers/wait.js';
import { openStore } from '../store/open.js';
import { splitProgressToken } from './forward.js';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });
const textOf = (result: unknown): string =>
  (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');

/**
 * A hosted 2025 server that does what no stdio fixture does: `start` creates a task (a
 * task-augmented call), `announce` sends the notifications it is given within its call, and `ask`
 * asks its client for a completion on the call's own stream.
 */
function hostedServer(): Server {
  const server = new Server(
    { name: 'hosted', version: '1.0.0' },
    {
      capabilities: { tools: {}, tasks: { requests: { tools: { call: {} } } } },
    },
  );
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: ['start', 'announce', 'ask'].map((name) => ({ name, inputSchema: { type: 'object' as const } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async ({ params }, extra): Promise<ServerResult> => {
    const args = params.arguments ?? {};
    if (params.name === 'start') {
      const now = new Date().toISOString();
      return { task: { taskId: String(args.id), status: 'working', ttl: 60_000, createdAt: now, lastUpdatedAt: now } };
    }
    if (params.name === 'announce') {
      for (const notification of args.notifications as ServerNotification[]) await extra.sendNotification(notification);
      return text('sent');
    }
    const messages = [{ role: 'user' as const, content: { type: 'text' as const, text: String(args.prompt) } }];
    const reply = await extra.sendRequest(
      { method: 'sampling/createMessage', params: { messages, maxTokens: 10 } },
      CreateMessageResultSchema,
    );
    return text(reply.content.type === 'text' ? reply.content.text : '');
  });
  return server;
}

/** Every message the client's transport hands it, progress included, in arrival order. */
function recordWire(client: Client): JSONRPCMessage[] {
  const heard: JSONRPCMessage[] = [];
  const transport = client.transport!;
  const dispatch = transport.onmessage;
  transport.onmessage = (message, extra) => {
    heard.push(message);
    dispatch?.(message, extra);
  };
  return heard;
}

describe('the forwarding path', () => {
  let hosted: SdkHttpServer;
  let running: InProcessDaemon;
  const { connect, closeAll } = daemonClients(() => running.url);

  beforeAll(async () => {
    hosted = await serveSdkHttp(hostedServer);
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          echo: { ...fixtureServer('echo'), cache: { tools: ['echo', 'counter'] } },
          solo: { ...fixtureServer('echo'), isolation: 'session' },
          modern: { ...fixtureServer('modern-only'), cache: { tools: ['ask'] } },
          hosted: { type: 'http', url: hosted.url },
        },
      },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await closeAll();
    await running.stop();
    await hosted.close();
  });

  it('audits a call answered from the cache as cached, and the call that filled it as not', async () => {
    const client = await connect('/servers/echo/mcp');
    for (let round = 0; round < 2; round++) {
      expect(await client.callTool({ name: 'echo', arguments: { text: 'kept' } })).toEqual({ content: [{ type: 'text', text: 'kept' }] });
    }
    const store = openStore(running.dataDir);
    try {
      const rows = await waitFor(() => {
        const found = store.audit.query({ type: 'tools/call', server: 'echo', name: 'echo' });
        return found.length === 2 ? found : undefined;
      });
      const cached = rows.map((row) => (row.detail ? (JSON.parse(row.detail) as { cached?: boolean }).cached : undefined));
      expect(cached.sort()).toEqual([true, undefined]);
    } finally {
      store.close();
    }
  });

  it('audits a call whose tool name is no string, with no name and the error the client got', async () => {
    const envelope = { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} };
    for (const name of [42, { not: 'a name' }]) {
      const response = await fetch(`${running.url}/servers/modern/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': MODERN_VERSION,
          'mcp-method': 'tools/call',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: {}, _meta: envelope } }),
      });
      expect(await response.json()).toMatchObject({ error: { code: -32602, message: `unknown tool ${String(name)}` } });
    }
    const store = openStore(running.dataDir);
    try {
      const rows = await waitFor(() => {
        const found = store.audit.query({ type: 'tools/call', server: 'modern' }).filter((row) => row.detail?.includes('unknown tool'));
        return found.length === 2 ? found : undefined;
      });
      expect(rows.map((row) => [row.name, row.outcome])).toEqual([
        ['', 'error'],
        ['', 'error'],
      ]);
    } finally {
      store.close();
    }
  });

  it('answers a kept call from the cache without asking the server again, and counts the miss and the hit', async () => {
    const counted = async () => {
      const { samples } = parseExposition(await running.daemon.metrics.text());
      const value = (name: string) => samples.find((s) => s.name === name && s.labels.server === 'echo')?.value ?? 0;
      return { misses: value('mcp_orch_cache_misses_total'), hits: value('mcp_orch_cache_hits_total') };
    };
    const before = await counted();
    const client = await connect('/servers/echo/mcp');
    // The server counts each call it gets: the second answer is the first one, kept.
    expect(textOf(await client.callTool({ name: 'counter' }))).toBe('1');
    expect(textOf(await client.callTool({ name: 'counter' }))).toBe('1');
    expect(textOf(await client.callTool({ name: 'peek' }))).toBe('1');
    expect(await counted()).toEqual({ misses: before.misses + 1, hits: before.hits + 1 });
  });

  it("keeps no answer that followed one client's input: the next client is asked for its own", async () => {
    const named = (name: string): ConnectOptions => ({ elicitation: () => ({ action: 'accept', content: { name } }) });
    const ada = await connect('/servers/modern/mcp', named('Ada'));
    const bob = await connect('/servers/modern/mcp', named('Bob'));
    expect(textOf(await ada.callTool({ name: 'ask' }))).toMatch(/^Hello, Ada!/);
    expect(textOf(await bob.callTool({ name: 'ask' }))).toMatch(/^Hello, Bob!/);
  });

  it('relays progress only to a client that asked for it, with the token it gave', async () => {
    const client = await connect('/mcp');
    const heard = recordWire(client);
    const progress = () => heard.filter((message) => 'method' in message && message.method === 'notifications/progress');
    const plan = { steps: [{ type: 'tool', id: 'say', server: 'echo', tool: 'echo', arguments: { text: 'planned' } }] };
    // A server's progress and the gateway's own tool's, with no token asked for: none.
    expect(textOf(await client.callTool({ name: 'echo__slow', arguments: { ms: 30, steps: 3 } }))).toBe('done after 3 steps');
    expect((await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan } })).structuredContent).toMatchObject({
      status: 'succeeded',
    });
    expect(progress()).toEqual([]);
    // Asked for: each with the client's token.
    await client.callTool({ name: 'echo__slow', arguments: { ms: 30, steps: 3 } }, undefined, { onprogress: () => undefined });
    await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan } }, undefined, { onprogress: () => undefined });
    const tokens = progress().map((message) => (message as Notification).params?.progressToken);
    expect(tokens).toHaveLength(4);
    expect(tokens.every((token) => token !== undefined)).toBe(true);
  });

  it('sends a task’s status to the client that created it, and a status that names no task to no one', async () => {
    const creator = await connect('/servers/hosted/mcp');
    const other = await connect('/servers/hosted/mcp');
    const toCreator = recordNotifications(creator);
    const toOther = recordNotifications(other);
    const start = (client: Client, id: string) =>
      client.request({ method: 'tools/call', params: { name: 'start', arguments: { id }, task: { ttl: 60_000 } } }, CreateTaskResultSchema);
    expect((await start(creator, 't-1')).task).toMatchObject({ taskId: 't-1', status: 'working' });
    await start(other, 't-2');
    const status = (params: object) => ({ method: 'notifications/tasks/status', params });
    const done = (taskId: string) => status({ taskId, status: 'completed' });
    // Sent within the other client's calls; the first of them leaves that client with a call finished.
    await other.callTool({ name: 'announce', arguments: { notifications: [done('t-1')] } });
    await waitFor(() => toCreator.length === 1);
    await other.callTool({ name: 'announce', arguments: { notifications: [status({ status: 'completed' }), done('t-2')] } });
    await waitFor(() => toOther.some((notification) => notification.params?.taskId === 't-2'));
    expect(toCreator).toMatchObject([done('t-1')]);
    expect(toOther).toMatchObject([done('t-2')]);
  });

  it('gives a hosted server’s request on a call’s stream to the client whose call it is', async () => {
    const client = await connect('/servers/hosted/mcp', {
      sampling: () => ({ role: 'assistant', model: 'test', content: { type: 'text', text: 'the reply' } }),
    });
    expect(textOf(await client.callTool({ name: 'ask', arguments: { prompt: 'hello' } }))).toBe('the reply');
  });

  it('stops the instance of an isolated server a 2026 request had, with the request; a session keeps its own', async () => {
    const solo = running.daemon.pool.get('solo')!;
    const modern = await connectModern(`${running.url}/servers/solo/mcp`);
    try {
      expect(Number(textOf(await modern.callTool({ name: 'pid' })))).toBeGreaterThan(0);
    } finally {
      await modern.close();
    }
    expect(solo.instanceCount).toBe(0);
    const session = await connect('/servers/solo/mcp');
    await session.callTool({ name: 'pid' });
    expect(solo.instanceCount).toBe(1);
  });
});

describe('splitProgressToken', () => {
  it('takes a string or number token off the params, and leaves any other value where it is', () => {
    expect(splitProgressToken({ name: 't', _meta: { progressToken: 7, other: 1 } })).toEqual({
      params: { name: 't', _meta: { other: 1 } },
      progressToken: 7,
    });
    const params = { name: 't', _meta: { progressToken: { not: 'a token' } } };
    expect(splitProgressToken(params)).toEqual({ params, progressToken: undefined });
    expect(splitProgressToken({ name: 't' })).toEqual({ params: { name: 't' }, progressToken: undefined });
  });
});
