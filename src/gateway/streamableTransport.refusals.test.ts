import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { call, errorOf, getStream, initialize, inSession, open, post, SESSION, transport } from '../../test/helpers/streamableTransport.js';
import { OrchError } from '../errors.js';

/** What a client that gets something wrong is told: status, JSON-RPC error, message and hint. */
describe('StreamableHttpServerTransport refusals', () => {
  it('refuses methods other than GET, POST and DELETE with 405 and the allowed ones', async () => {
    const { t } = await open();
    const response = await t.handleRequest(new Request('http://localhost/mcp', { method: 'PUT', headers: inSession() }));
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, POST, DELETE');
    const error = await errorOf(response);
    expect(error.message).toBe('Method not allowed.');
    expect(error.data?.orchCode).toBe('METHOD_NOT_ALLOWED');
  });

  it('says which media types a POST and a GET must accept, also when Accept is missing', async () => {
    const { t } = await open();
    const both = 'Not Acceptable: Client must accept both application/json and text/event-stream';
    const wrong = await call(t, { jsonrpc: '2.0', id: 1, method: 'a' }, inSession({ accept: 'text/plain' }));
    expect(await errorOf(wrong)).toMatchObject({ message: both, data: { orchCode: 'NOT_ACCEPTABLE' } });
    const request = new Request('http://localhost/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...inSession() },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'a' }),
    });
    const none = await t.handleRequest(request, { parsedBody: { jsonrpc: '2.0', id: 2, method: 'a' } });
    expect(none.status).toBe(406);
    expect((await errorOf(none)).message).toBe(both);

    const eventStream = 'Not Acceptable: Client must accept text/event-stream';
    const get = await getStream(t, inSession({ accept: 'application/json' }));
    expect(get.status).toBe(406);
    expect((await errorOf(get)).message).toBe(eventStream);
    const bare = await getStream(t, inSession());
    expect(bare.status).toBe(406);
    expect((await errorOf(bare)).message).toBe(eventStream);
  });

  it('takes application/json with parameters, in any case, and refuses other or missing content types with 415', async () => {
    const { t } = await open();
    let id = 0;
    const send = (contentType: string | undefined) => {
      const message = { jsonrpc: '2.0', id: ++id, method: 'a' };
      const headers: Record<string, string> = { accept: 'application/json', ...inSession() };
      if (contentType !== undefined) headers['content-type'] = contentType;
      return t.handleRequest(new Request('http://localhost/mcp', { method: 'POST', headers, body: JSON.stringify(message) }), {
        parsedBody: message,
      });
    };
    for (const accepted of ['application/json; charset=utf-8', 'Application/JSON', 'application/json ; charset=utf-8']) {
      const response = await send(accepted);
      expect(response.status, accepted).toBe(200);
      expect(await response.json()).toEqual({ jsonrpc: '2.0', id, result: { echo: 'a' } });
    }
    for (const refused of ['text/plain', 'application/jsonl', undefined]) {
      const response = await send(refused);
      expect(response.status, String(refused)).toBe(415);
      expect(await errorOf(response)).toMatchObject({
        message: 'Unsupported Media Type: Content-Type must be application/json',
        data: { orchCode: 'UNSUPPORTED_MEDIA_TYPE' },
      });
    }
  });

  it('refuses an empty batch and a message that is not JSON-RPC with 400, saying what a message needs', async () => {
    const { t } = await open();
    const empty = await call(t, []);
    expect(empty.status).toBe(400);
    expect(await errorOf(empty)).toMatchObject({ code: -32600, message: 'Invalid Request: empty batch' });
    const bad = await call(t, { id: 3, method: 'a' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      id: 3,
      error: {
        code: -32700,
        message:
          'Parse error: Invalid JSON-RPC message (each message needs jsonrpc "2.0" and a method, or an id with a result or an error)',
      },
    });
  });

  it('refuses a second initialize, and an initialize batched with anything else, without starting a session', async () => {
    const { t } = await open();
    const again = await call(t, initialize());
    expect(again.status).toBe(400);
    expect(await errorOf(again)).toMatchObject({ code: -32600, message: 'Invalid Request: Server already initialized' });

    const fresh = transport();
    const batch = [initialize(), { jsonrpc: '2.0', method: 'notifications/initialized' }];
    const batched = await fresh.t.handleRequest(post(batch), { parsedBody: batch });
    expect(batched.status).toBe(400);
    expect(await errorOf(batched)).toMatchObject({
      code: -32600,
      message: 'Invalid Request: Only one initialization request is allowed',
    });
    expect(fresh.t.sessionId).toBeUndefined();
    expect(fresh.received).toEqual([]);
  });

  it('takes a request that carries a protocolVersion parameter but is not initialize as an ordinary request', async () => {
    const { t } = await open();
    const message = { jsonrpc: '2.0', id: 8, method: 'custom/probe', params: { protocolVersion: '2025-11-25' } };
    const response = await call(t, message);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 8, result: { echo: 'custom/probe' } });
  });

  it('refuses a request before initialize with 400 and the request id', async () => {
    const { t, received } = transport();
    const response = await call(t, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, {});
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      id: 4,
      error: { message: 'Bad Request: Server not initialized', data: { orchCode: 'MISSING_SESSION' } },
    });
    expect(received).toEqual([]);
  });

  it('tells a POST and a GET without Mcp-Session-Id how to get one', async () => {
    const { t } = await open();
    const message =
      'Bad Request: Mcp-Session-Id header is required (start with an initialize request; its response carries the session id)';
    const missing = await call(t, { jsonrpc: '2.0', id: 10, method: 'a' }, { 'mcp-protocol-version': '2025-11-25' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ id: 10, error: { message, data: { orchCode: 'MISSING_SESSION' } } });
    const get = await getStream(t, { accept: 'text/event-stream' });
    expect(get.status).toBe(400);
    expect((await errorOf(get)).message).toBe(message);
    expect(t.streaming).toBe(false);
  });

  it('names an unknown session and says what to do, also once the session has ended', async () => {
    const { t } = await open();
    const hint = '(the session ended or belongs to another endpoint; send initialize again without Mcp-Session-Id)';
    const other = await call(t, { jsonrpc: '2.0', id: 9, method: 'a' }, inSession({ 'mcp-session-id': 'other' }));
    expect(other.status).toBe(404);
    expect(await errorOf(other)).toMatchObject({ message: `unknown session "other" ${hint}`, data: { orchCode: 'UNKNOWN_SESSION' } });
    await t.close();
    // After the end, whatever comes (here a request without a parsed body) is told the session is gone.
    const ended = await t.handleRequest(new Request('http://localhost/mcp', { headers: inSession({ accept: 'text/event-stream' }) }));
    expect(ended.status).toBe(404);
    expect((await errorOf(ended)).message).toBe(`unknown session "${SESSION}" ${hint}`);

    const never = transport();
    await never.t.close();
    const closedEarly = await call(never.t, initialize());
    expect(closedEarly.status).toBe(404);
    expect((await errorOf(closedEarly)).message).toBe(`unknown session "" ${hint}`);
  });

  it('lists the supported protocol versions when refusing another', async () => {
    const { t } = await open();
    const bad = await call(t, { jsonrpc: '2.0', id: 1, method: 'a' }, inSession({ 'mcp-protocol-version': '1999-01-01' }));
    expect(bad.status).toBe(400);
    expect((await errorOf(bad)).message).toMatch(
      /^Bad Request: Unsupported protocol version: 1999-01-01 \(supported versions: 2025-11-25, 2025-06-18, .*\)$/,
    );
  });

  it('refuses a second GET stream with 409 while the first is open', async () => {
    const { t } = await open();
    const first = await getStream(t);
    expect(first.headers.get('mcp-session-id')).toBe(SESSION);
    const second = await getStream(t);
    expect(second.status).toBe(409);
    expect(await errorOf(second)).toMatchObject({
      message: 'Conflict: Only one SSE stream is allowed per session',
      data: { orchCode: 'CONFLICT' },
    });
    await first.body!.cancel();
  });

  it('passes on the quota refusal of a stream it could not open, for a POST and a GET', async () => {
    const refusal = () => new OrchError('RATE_LIMITED', 'too many event streams', { hint: 'close some first', retryAfterSec: 1 });
    const { t, received } = await open(
      {},
      {
        openStream: () => {
          throw refusal();
        },
      },
    );
    const message: JSONRPCMessage = { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { _meta: { progressToken: 1 } } };
    const streamed = await call(t, message);
    expect(streamed.status).toBe(429);
    expect(streamed.headers.get('retry-after')).toBe('1');
    expect(await streamed.json()).toMatchObject({ id: 6, error: { message: 'too many event streams (close some first)' } });
    expect(received).not.toContainEqual(message);
    const get = await getStream(t);
    expect(get.status).toBe(429);
    expect((await errorOf(get)).message).toBe('too many event streams (close some first)');
    expect(t.streaming).toBe(false);
  });
});
