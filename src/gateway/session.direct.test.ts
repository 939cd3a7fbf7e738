/**
 * A 2025-11-25 session's own message handling, seen from a client that writes raw JSON-RPC over an
 * already-open transport (as `mcp-orch stdio` serves one): the calls it answers beside the SDK
 * (cancelled, malformed, duplicated), the ones it leaves to the SDK (task-augmented ones), what
 * it tells the forwarding path about who is calling, and its end.
 */
import { RELATED_TASK_META_KEY, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { connectRaw, toolCall as call, type RawClient, type RawMessage as Message } from '../../test/helpers/rawSession.js';
import { fixtureUpstream } from '../../test/helpers/upstream.js';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal } from '../auth/policy.js';
import { createLogger } from '../log.js';
import type { Caller } from './caller.js';
import type { RequestRecord } from './forward.js';
import type { ViewSpec } from './view.js';

describe('a 2025-11-25 session, message by message', () => {
  let running: TestGateway;
  const records: RequestRecord[] = [];
  const opened: Caller[] = [];
  const closed: Caller[] = [];
  const principal = localPrincipal('default');

  const connect = (spec: ViewSpec = { kind: 'server', server: 'echo' }, capabilities: object = {}): Promise<RawClient> =>
    connectRaw(running.gateway, spec, principal, capabilities);

  beforeAll(async () => {
    running = await startTestGateway({
      observers: [
        {
          requestFinished: (record) => void records.push(record),
          sessionOpened: (caller) => void opened.push(caller),
          sessionClosed: (caller) => void closed.push(caller),
        },
      ],
    });
    const side = fixtureUpstream('side', 'side-channels', {
      logger: createLogger({ level: 'silent' }),
      onServerRequest: running.gateway.routeServerRequest,
    });
    const modern = fixtureUpstream('modern', 'modern-only', { logger: createLogger({ level: 'silent' }) });
    running.pool.add(side);
    running.pool.add(modern);
    await Promise.all([side.start(), modern.start()]);
  });
  afterAll(() => running.close());

  /** What the echo server's per-process counter says now (its `peek` tool, on a session of its own). */
  async function counter(): Promise<number> {
    const probe = await connect();
    await probe.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'peek', arguments: {} } });
    const { result } = (await probe.response(1)) as { result: { content: { text: string }[] } };
    await probe.close();
    return Number(result.content[0]!.text);
  }

  it('answers a call without params with the error the server gives, takes a cancellation without params, and counts nothing in flight after', async () => {
    const client = await connect();
    await client.send({ jsonrpc: '2.0', id: 1, method: 'tools/call' });
    expect(await client.response(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: { content: [{ type: 'text', text: 'MCP error -32602: Tool undefined not found' }], isError: true },
    });
    await client.send({ jsonrpc: '2.0', method: 'notifications/cancelled' });
    await client.send(call(2, 'echo', { text: 'still here' }));
    expect(await client.response(2)).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'still here' }] } });
    expect(client.session.inFlight).toBe(0);
    await client.close();
  });

  it('leaves a tools/call sent as a notification (no id) unanswered and unsent', async () => {
    const before = await counter();
    const client = await connect();
    await client.send({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'counter', arguments: {} } });
    await client.flush();
    expect(await counter()).toBe(before);
    expect(client.received.filter((m) => m.method === undefined && m.id === undefined)).toEqual([]);
    await client.close();
  });

  it('refuses a task-augmented call itself when its endpoint does not offer tasks, as the SDK does, so a server that ignores tasks never runs it', async () => {
    // The 2026-only fixture would answer the call and ignore its task.
    const client = await connect({ kind: 'server', server: 'modern' });
    await client.send(call(1, 'echo', { text: 'as a task' }, { task: { ttl: 60_000 } }));
    expect(await client.response(1)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32603, message: 'Server does not support task creation (required for tools/call)' },
    });
    await client.send(call(2, 'echo', { text: 'plain' }));
    expect(await client.response(2)).toMatchObject({ result: { content: [{ type: 'text', text: 'plain' }] } });
    await client.close();
  });

  it('serves a call that only names a related task like any other: its progress reaches the client', async () => {
    // The 2026-only fixture reports progress whatever task a call names.
    const client = await connect({ kind: 'server', server: 'modern' });
    const meta = { progressToken: 'related', [RELATED_TASK_META_KEY]: { taskId: 'a-task-elsewhere' } };
    await client.send(call(1, 'slow', { ms: 10, steps: 2 }, { _meta: meta }));
    expect(await client.response(1)).toMatchObject({ result: { content: [{ type: 'text' }] } });
    expect(client.received.filter((m) => m.method === 'notifications/progress').map((m) => m.params)).toMatchObject([
      { progressToken: 'related', progress: 1, total: 2 },
      { progressToken: 'related', progress: 2, total: 2 },
    ]);
    await client.close();
  });

  it('cancels the latest of two calls that share an id, even when the earlier one is answered first', async () => {
    const stats = async () => {
      const probe = await connect();
      await probe.send(call(1, 'slow_stats'));
      const { result } = (await probe.response(1)) as { result: { structuredContent: { started: number; cancelled: number } } };
      await probe.close();
      return result.structuredContent;
    };
    const before = await stats();
    const client = await connect();
    // Sent together: the echo is answered while the slow call, sent after it with the same id, still runs.
    await client.send(call(5, 'echo', { text: 'first answered' }));
    await client.send(call(5, 'slow', { ms: 60_000, steps: 1 }));
    await waitFor(async () => (await stats()).started === before.started + 1);
    expect(await client.response(5)).toMatchObject({ result: { content: [{ text: 'first answered' }] } });
    await client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5, reason: 'enough' } });
    await waitFor(async () => (await stats()).cancelled === before.cancelled + 1);
    await client.flush();
    expect(client.received.filter((m) => m.id === 5)).toHaveLength(1);
    await client.close();
  });

  it('keeps nothing of the calls it has answered or that were cancelled', async () => {
    const client = await connect();
    for (let id = 1; id <= 3; id++) await client.send(call(id, 'echo', { text: String(id) }));
    await client.send(call(4, 'slow', { ms: 60_000, steps: 1 }));
    await client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
    await Promise.all([1, 2, 3].map((id) => client.response(id)));
    // The session's own table of calls being answered (what a cancellation looks up) is a bound on what a client makes it hold.
    await waitFor(() => (client.session as unknown as { calls: Map<RequestId, unknown> }).calls.size === 0);
    expect(client.session.inFlight).toBe(0);
    await client.close();
  });

  it('sends progress of a call over Streamable HTTP on the stream of that call', async () => {
    const connection = { address: '127.0.0.1', principal };
    const spec: ViewSpec = { kind: 'server', server: 'echo' };
    const send = (method: 'POST' | 'DELETE', body: unknown, headers: Record<string, string> = {}) =>
      running.gateway.streamable(
        new Request('http://127.0.0.1/servers/echo/mcp', {
          method,
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
          ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
        }),
        spec,
        body,
        connection,
      );
    const post = (body: unknown, headers: Record<string, string> = {}) => send('POST', body, headers);
    const init = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'h', version: '1' } },
    };
    const opened = await post(init);
    const headers = { 'mcp-session-id': opened.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await opened.text();
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
    const streamed = await post(call(1, 'slow', { ms: 40, steps: 2 }, { _meta: { progressToken: 'tok' } }), headers);
    const frames = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Message);
    expect(frames.map((frame) => frame.method ?? frame.id)).toEqual(['notifications/progress', 'notifications/progress', 1]);
    expect(frames[0]!.params).toMatchObject({ progressToken: 'tok', progress: 1, total: 2 });
    expect((await send('DELETE', undefined, headers)).status).toBe(200);
  });

  it("relays a server's progress for a method the SDK answers (one of the server's own, on its endpoint)", async () => {
    const client = await connect({ kind: 'server', server: 'side' });
    await client.send({ jsonrpc: '2.0', id: 1, method: 'x/count', params: { _meta: { progressToken: 'count' } } });
    expect(await client.response(1)).toEqual({ jsonrpc: '2.0', id: 1, result: { counted: 2 } });
    expect(client.received.filter((m) => m.method === 'notifications/progress').map((m) => m.params)).toEqual([
      { progressToken: 'count', progress: 1, total: 2 },
      { progressToken: 'count', progress: 2, total: 2 },
    ]);
    await client.close();
  });

  it('tells the client that asked a URL elicitation of a shared server when the server completes it', async () => {
    const client = await connect({ kind: 'server', server: 'side' }, { elicitation: { url: {} } });
    await client.send(call(1, 'ask_url', { elicitationId: 'sign-in-1' }));
    const isAsk = (m: Message) => m.method === 'elicitation/create';
    await waitFor(() => client.received.some(isAsk));
    const asked = client.received.find(isAsk)!;
    expect(asked.params).toMatchObject({ mode: 'url', elicitationId: 'sign-in-1' });
    await client.send({ jsonrpc: '2.0', id: asked.id!, result: { action: 'accept' } });
    expect(await client.response(1)).toMatchObject({ result: { content: [{ type: 'text', text: 'accept' }] } });
    await waitFor(() => client.received.some((m) => m.method === 'notifications/elicitation/complete'));
    expect(client.received.find((m) => m.method === 'notifications/elicitation/complete')!.params).toEqual({ elicitationId: 'sign-in-1' });
    await client.close();
  });

  it('cancels a request it sent its client outside any call when the signal given aborts', async () => {
    const client = await connect({ kind: 'server', server: 'echo' }, { roots: {} });
    const abort = new AbortController();
    const asking = client.session.peer.request({ method: 'roots/list' }, abort.signal);
    const isAsk = (m: Message) => m.method === 'roots/list';
    await waitFor(() => client.received.some(isAsk));
    const asked = client.received.find(isAsk)!;
    abort.abort(new Error('the server gave up'));
    await expect(asking).rejects.toThrow('the server gave up');
    await waitFor(() => client.received.some((m) => m.method === 'notifications/cancelled'));
    expect(client.received.find((m) => m.method === 'notifications/cancelled')!.params).toMatchObject({ requestId: asked.id });
    await client.close();
  });

  it("delivers, as a peer outside any call, the notifications of what its client started (a URL elicitation's end)", async () => {
    const client = await connect({ kind: 'server', server: 'echo' }, { elicitation: { url: {} } });
    const done = { method: 'notifications/elicitation/complete', params: { elicitationId: 'e-1' } };
    client.session.peer.notify!(done);
    await client.flush();
    expect(client.received).toContainEqual({ jsonrpc: '2.0', ...done });
    await client.close();
  });

  it("tells the forwarding path the client's name once it has initialized, and the principal the session has now", async () => {
    const client = await connect();
    await client.send(call(1, 'echo', { text: 'who' }));
    await client.response(1);
    const mine = () => records.filter((record) => record.caller.id === client.session.id);
    expect(opened.find((caller) => caller.id === client.session.id)?.client).toBeUndefined();
    expect(mine().map((record) => record.caller.client)).toEqual([{ name: 'raw-client', version: '1' }]);
    // Narrowed under the open session, as the registry refreshes it from the store: the next call is refused at once.
    const narrowed = { ...principal, servers: ['llm'] };
    client.session.principal = narrowed;
    await client.send(call(2, 'echo', { text: 'who now' }));
    expect(await client.response(2)).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: {
        code: -32600,
        message:
          'this key reaches only "llm", not "echo" (create a key that includes it: mcp-orch keys create --project default --servers llm,echo)',
        data: { orchCode: 'FORBIDDEN', rule: 'narrowed' },
      },
    });
    expect(mine().map((record) => record.caller.principal)).toEqual([principal, narrowed]);
    await client.close();
  });

  it('sends nothing once it is closing, and ends once however often it is closed', async () => {
    const client = await connect();
    const closing = client.session.close();
    client.session.notify({ method: 'notifications/tools/list_changed' });
    await Promise.all([closing, client.session.close()]);
    expect(client.received.filter((m) => m.method === 'notifications/tools/list_changed')).toEqual([]);
    expect(closed.filter((caller) => caller.id === client.session.id)).toHaveLength(1);
    await client.close();
  });
});
