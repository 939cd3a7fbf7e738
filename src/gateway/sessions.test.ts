/**
 * The gateway's 2025-11-25 sessions on web-standard Requests, against a real echo server: legacy SSE
 * (the endpoint event, POSTed messages and their errors), Streamable HTTP sessions refused for what
 * they lack or carry, the quotas they hold and give back, and a session over an already-open
 * transport (stdio).
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal, type Principal } from '../auth/policy.js';
import type { Gateway } from './gateway.js';
import type { ViewSpec } from './view.js';

const ACCEPT = 'application/json, text/event-stream';
const echoSpec: ViewSpec = { kind: 'server', server: 'echo' };

const initialize = (protocolVersion = '2025-11-25', id: number | string = 0) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

function request(body: unknown, headers: Record<string, string> = {}, method = 'POST'): Request {
  return new Request('http://127.0.0.1/mcp', {
    method,
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

async function errorOf(
  response: Response,
): Promise<{ id: unknown; error: { code: number; message: string; data?: Record<string, unknown> } }> {
  return (await response.json()) as { id: unknown; error: { code: number; message: string; data?: Record<string, unknown> } };
}

/** Reads an event stream until `count` data frames arrived; returns them parsed (the endpoint one as its text). */
function frames(response: Response) {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const parsed = () =>
    text
      .split('\n\n')
      .filter((block) => block.includes('data: '))
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1],
        data: block
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n'),
      }));
  return {
    async until(count: number) {
      while (parsed().length < count) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended after: ${text}`);
        text += value;
      }
      return parsed();
    },
    cancel: () => reader.cancel(),
  };
}

describe('gateway sessions', () => {
  const principal = localPrincipal('default');
  let running: TestGateway;
  let gateway: Gateway;
  const connection = (address = '10.0.0.7', who: Principal = principal) => ({ address, principal: who });

  beforeAll(async () => {
    running = await startTestGateway({ limits: { sessionsPerClient: 2, inFlight: 1, batch: 2 } });
    gateway = running.gateway;
  });
  afterAll(() => running.close());

  describe('legacy SSE', () => {
    it('opens with the endpoint event, takes POSTed messages (202) and answers on the stream', async () => {
      const stream = await gateway.sseConnect(echoSpec, '/servers/echo/messages', connection());
      expect(stream.headers.get('content-type')).toBe('text/event-stream');
      const read = frames(stream);
      const [endpoint] = await read.until(1);
      expect(endpoint!.event).toBe('endpoint');
      const id = /^\/servers\/echo\/messages\?sessionId=(.+)$/.exec(endpoint!.data)![1]!;
      expect(gateway.sessionCounts().sse).toBe(1);
      const accepted = gateway.sseMessage(id, echoSpec, initialize(), connection());
      expect([accepted.status, await accepted.text()]).toEqual([202, 'Accepted']);
      gateway.sseMessage(id, echoSpec, { jsonrpc: '2.0', method: 'notifications/initialized' }, connection());
      gateway.sseMessage(id, echoSpec, call(1, 'echo', { text: 'over sse' }), connection());
      const all = await read.until(3);
      expect(all[1]!.event).toBe('message');
      expect(JSON.parse(all[1]!.data)).toMatchObject({ id: 0, result: { serverInfo: { name: 'echo-fixture' } } });
      expect(JSON.parse(all[2]!.data)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'over sse' }] } });

      // Another key may not use the session; a batch is not part of 2025-11-25; a long batch is refused first.
      const other = gateway.sseMessage(id, echoSpec, call(2, 'echo'), connection('10.0.0.7', { ...principal, kind: 'key', keyId: 9 }));
      expect(other.status).toBe(403);
      expect((await errorOf(other)).error.message).toBe(
        'this session was opened with another key (use the key that opened it, or send initialize again without Mcp-Session-Id)',
      );
      const batch = gateway.sseMessage(id, echoSpec, [call(3, 'echo'), call(4, 'echo')], connection());
      expect(batch.status).toBe(400);
      expect((await errorOf(batch)).error.message).toContain('JSON-RPC batches are not part of protocol 2025-11-25');
      const long = gateway.sseMessage(id, echoSpec, [call(5, 'echo'), call(6, 'echo'), call(7, 'echo')], connection());
      expect((await errorOf(long)).error.message).toContain('a batch of 3 messages; 2 at most');
      // The session's endpoint decides: the same id on another endpoint is unknown there.
      expect(gateway.sseMessage(id, { kind: 'unified' }, call(8, 'echo__echo'), connection()).status).toBe(404);
      await read.cancel();
      await waitFor(() => gateway.sessionCounts().sse === 0);
      expect(gateway.sseMessage(id, echoSpec, call(9, 'echo'), connection()).status).toBe(404);
    });

    it('takes a batch on a session of a revision that had them', async () => {
      const stream = await gateway.sseConnect(echoSpec, '/m', connection('10.0.0.12'));
      const read = frames(stream);
      const id = /sessionId=(.+)$/.exec((await read.until(1))[0]!.data)![1]!;
      gateway.sseMessage(id, echoSpec, initialize('2025-03-26'), connection('10.0.0.12'));
      await read.until(2);
      // One request in flight at most here: the batch carries a request and a notification.
      const batch = gateway.sseMessage(
        id,
        echoSpec,
        [call(1, 'echo', { text: 'a' }), { jsonrpc: '2.0', method: 'notifications/initialized' }],
        connection('10.0.0.12'),
      );
      expect(batch.status).toBe(202);
      const [, , answer] = await read.until(3);
      expect(JSON.parse(answer!.data)).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'a' }] } });
      await read.cancel();
      await waitFor(() => gateway.sessionCounts().sse === 0);
    });

    it('takes the revision from initialize only, and answers an initialize without params', async () => {
      const stream = await gateway.sseConnect(echoSpec, '/m', connection('10.0.0.13'));
      const read = frames(stream);
      const id = /sessionId=(.+)$/.exec((await read.until(1))[0]!.data)![1]!;
      expect(gateway.sseMessage(id, echoSpec, { jsonrpc: '2.0', id: 'bare', method: 'initialize' }, connection('10.0.0.13')).status).toBe(
        202,
      );
      const [, bare] = await read.until(2);
      expect(JSON.parse(bare!.data)).toMatchObject({ id: 'bare', error: { message: expect.any(String) } });
      // No revision settled yet: a batch is taken, as revisions before 2025-06-18 took them.
      const early = gateway.sseMessage(id, echoSpec, [{ jsonrpc: '2.0', method: 'notifications/initialized' }], connection('10.0.0.13'));
      expect(early.status).toBe(202);
      gateway.sseMessage(id, echoSpec, initialize(), connection('10.0.0.13'));
      await read.until(3);
      // Another message naming an older revision does not change the session's.
      gateway.sseMessage(
        id,
        echoSpec,
        { jsonrpc: '2.0', method: 'notifications/initialized', params: { protocolVersion: '2025-03-26' } },
        connection('10.0.0.13'),
      );
      const batch = gateway.sseMessage(
        id,
        echoSpec,
        [call(1, 'echo'), { jsonrpc: '2.0', method: 'notifications/initialized' }],
        connection('10.0.0.13'),
      );
      expect(batch.status).toBe(400);
      await read.cancel();
      await waitFor(() => gateway.sessionCounts().sse === 0);
    });

    it('ends the event stream of every session when the gateway closes', async () => {
      const own = await startTestGateway();
      try {
        const stream = await own.gateway.sseConnect(echoSpec, '/m', connection());
        const text = stream.text();
        await own.gateway.close();
        expect(await text).toMatch(/^event: endpoint\ndata: \/m\?sessionId=/);
      } finally {
        await own.close();
      }
    });

    it('puts the session id after the query the endpoint already has', async () => {
      const stream = await gateway.sseConnect({ kind: 'unified' }, '/messages?project=default', connection());
      const read = frames(stream);
      const [endpoint] = await read.until(1);
      expect(endpoint!.data).toMatch(/^\/messages\?project=default&sessionId=[0-9a-f-]{36}$/);
      await read.cancel();
      await waitFor(() => gateway.sessionCounts().sse === 0);
    });

    it('refuses a POST without a session id, with an unknown one, to an unknown server, and a connect to one', async () => {
      const missing = gateway.sseMessage(undefined, echoSpec, call(1, 'echo'), connection());
      expect(missing.status).toBe(400);
      expect(await errorOf(missing)).toMatchObject({
        id: 1,
        error: { message: 'the sessionId query parameter is required (POST to the URL given by the endpoint event of the SSE stream)' },
      });
      const unknown = gateway.sseMessage('nope', echoSpec, call(2, 'echo'), connection());
      expect(unknown.status).toBe(404);
      expect((await errorOf(unknown)).error.message).toBe('unknown session "nope" (open a new stream with GET on the /sse endpoint)');
      const server = gateway.sseMessage('nope', { kind: 'server', server: 'nope' }, call(3, 'echo'), connection());
      expect(server.status).toBe(404);
      expect((await errorOf(server)).error.data).toMatchObject({ orchCode: 'UNKNOWN_SERVER' });
      const connect = await gateway.sseConnect({ kind: 'server', server: 'nope' }, '/m', connection());
      expect(connect.status).toBe(404);
      expect(gateway.quotas.held.sessions).toBe(0);
    });
  });

  describe('Streamable HTTP', () => {
    const send = (body: unknown, headers: Record<string, string> = {}, spec: ViewSpec = echoSpec, method = 'POST', address = '10.0.0.8') =>
      gateway.streamable(request(body, headers, method), spec, body, connection(address));
    const open = async (version = '2025-11-25', address = '10.0.0.8') => {
      const init = await send(initialize(version), {}, echoSpec, 'POST', address);
      expect(init.status).toBe(200);
      const headers = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': version };
      await send({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers, echoSpec, 'POST', address);
      return headers;
    };

    it('asks for initialize when a request comes without a session, whatever its method', async () => {
      for (const [body, method] of [
        [call(1, 'echo'), 'POST'],
        [undefined, 'GET'],
        [[{ jsonrpc: '2.0', method: 'notifications/initialized' }], 'POST'],
      ] as const) {
        const response = await send(body, {}, echoSpec, method);
        expect(response.status).toBe(400);
        expect((await errorOf(response)).error.message).toBe(
          'Bad Request: Mcp-Session-Id header is required (start with an initialize request; its response carries the session id)',
        );
      }
    });

    it('opens a session for an initialize inside a batch of older revisions', async () => {
      const response = await send([initialize('2025-03-26', 'i')]);
      expect(response.status).toBe(200);
      const id = response.headers.get('mcp-session-id')!;
      expect(await response.json()).toMatchObject([{ id: 'i', result: { protocolVersion: '2025-03-26' } }]);
      expect((await send(undefined, { 'mcp-session-id': id }, echoSpec, 'DELETE')).status).toBe(200);
    });

    it('never keeps a session whose initialize was refused, nor its place', async () => {
      const before = gateway.sessionCounts()['streamable-http'];
      const refused = await gateway.streamable(
        request(initialize(), { accept: 'text/html' }),
        echoSpec,
        initialize(),
        connection('10.0.0.9'),
      );
      expect(refused.status).toBe(406);
      await waitFor(() => gateway.sessionCounts()['streamable-http'] === before);
      const sessions = [await open('2025-11-25', '10.0.0.9'), await open('2025-11-25', '10.0.0.9')];
      for (const headers of sessions) await send(undefined, headers, echoSpec, 'DELETE', '10.0.0.9');
    });

    it('holds sessions per client to the limit: 429 with Retry-After, SSE included, and gives the place back', async () => {
      const a = await open('2025-11-25', '10.0.0.10');
      const b = await open('2025-11-25', '10.0.0.10');
      const over = await send(initialize(), {}, echoSpec, 'POST', '10.0.0.10');
      expect([over.status, over.headers.get('retry-after')]).toEqual([429, '1']);
      expect((await errorOf(over)).error.data).toMatchObject({ limit: 'sessionsPerClient', max: 2 });
      expect((await gateway.sseConnect(echoSpec, '/m', connection('10.0.0.10'))).status).toBe(429);
      await expect(gateway.openWebSocket(echoSpec, connection('10.0.0.10'))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      // Another client is not held back by this one.
      const elsewhere = await open('2025-11-25', '10.0.0.11');
      expect((await send(undefined, a, echoSpec, 'DELETE', '10.0.0.10')).status).toBe(200);
      await waitFor(() => gateway.quotas.held.sessions === 2);
      const again = await open('2025-11-25', '10.0.0.10');
      for (const [headers, address] of [
        [b, '10.0.0.10'],
        [again, '10.0.0.10'],
        [elsewhere, '10.0.0.11'],
      ] as const) {
        await send(undefined, headers, echoSpec, 'DELETE', address);
      }
      await waitFor(() => gateway.quotas.held.sessions === 0);
    });

    it('bounds the requests in flight per session (429) and refuses batches on revisions without them', async () => {
      const headers = await open();
      const slow = send(call(1, 'slow', { ms: 60_000, steps: 1 }), headers);
      const refused = await waitFor(async () => {
        const probe = await send(call(2, 'echo', { text: 'x' }), headers);
        if (probe.status === 429) return probe;
        await probe.text();
        return undefined;
      });
      expect(refused.headers.get('retry-after')).toBe('1');
      expect((await errorOf(refused)).error.message).toBe(
        'too many requests in flight on this session: 1 at most (wait for answers before sending more, or raise orch.limits.inFlight)',
      );
      // A notification carries no request: it passes.
      expect((await send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } }, headers)).status).toBe(202);
      await slow;
      const batch = await send([call(3, 'echo'), call(4, 'echo')], headers);
      expect(batch.status).toBe(400);
      expect((await errorOf(batch)).error.message).toContain('not part of protocol 2025-11-25');
      await send(undefined, headers, echoSpec, 'DELETE');
    });

    it('refuses a session of another transport, and a session of another key', async () => {
      const stream = await gateway.sseConnect(echoSpec, '/m', connection());
      const read = frames(stream);
      const id = /sessionId=(.+)$/.exec((await read.until(1))[0]!.data)![1]!;
      const wrong = await send(call(1, 'echo'), { 'mcp-session-id': id });
      expect(wrong.status).toBe(404);
      expect((await errorOf(wrong)).error.message).toBe(
        `unknown session "${id}" (the session ended or belongs to another endpoint; send initialize again without Mcp-Session-Id)`,
      );
      await read.cancel();
      const headers = await open();
      const stranger = await gateway.streamable(request(call(2, 'echo'), headers), echoSpec, call(2, 'echo'), {
        address: '10.0.0.8',
        principal: { ...principal, kind: 'key', keyId: 7 },
      });
      expect(stranger.status).toBe(403);
      await send(undefined, headers, echoSpec, 'DELETE');
    });
  });

  it('serves a session over an already-open transport (stdio), counted as such', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const session = await gateway.connectTransport({ kind: 'unified' }, serverSide, principal);
    const client = new Client({ name: 'stdio-client', version: '1' });
    await client.connect(clientSide);
    try {
      expect(gateway.sessionCounts().stdio).toBe(1);
      expect(client.getServerVersion()).toMatchObject({ name: 'mcp-orch', title: 'mcp-orch unified endpoint', version: '0.0.0-test' });
      expect(await client.callTool({ name: 'echo__echo', arguments: { text: 'stdio' } })).toEqual({
        content: [{ type: 'text', text: 'stdio' }],
      });
      expect(session.caller).toMatchObject({
        transport: 'stdio',
        endpoint: 'unified',
        era: '2025-11-25',
        client: { name: 'stdio-client' },
      });
    } finally {
      await client.close();
    }
    await waitFor(() => gateway.sessionCounts().stdio === 0);
  });
});
