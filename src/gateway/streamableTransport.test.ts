import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { EventStream } from '../eventStream.js';
import { StreamableHttpServerTransport } from './streamableTransport.js';
import {
  call,
  events,
  firstEvent,
  getStream,
  initialize,
  inSession,
  open,
  post,
  SESSION,
  transport,
} from '../../test/helpers/streamableTransport.js';

describe('StreamableHttpServerTransport', () => {
  it('answers initialize as JSON with the session id', async () => {
    const { t, received } = transport();
    const response = await t.handleRequest(post(initialize()), { parsedBody: initialize() });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(SESSION);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 0, result: { echo: 'initialize' } });
    expect(t.sessionId).toBe(SESSION);
    expect(received).toHaveLength(1);
  });

  it('answers notifications and responses with 202 and delivers them', async () => {
    const { t, received } = await open();
    const notification: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
    const response = await call(t, notification);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    expect(received.at(-1)).toEqual(notification);
    const reply = await call(t, { jsonrpc: '2.0', id: 'srv-1', result: {} });
    expect(reply.status).toBe(202);
  });

  it('answers a request with a JSON body when nothing else can flow on it', async () => {
    const { t } = await open();
    const response = await call(t, { jsonrpc: '2.0', id: 5, method: 'tools/list' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(SESSION);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 5, result: { echo: 'tools/list' } });
  });

  it('answers a batch of requests with one JSON array', async () => {
    const { t } = await open();
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'a' },
      { jsonrpc: '2.0', method: 'notifications/x' },
      { jsonrpc: '2.0', id: 2, method: 'b' },
    ];
    const response = await t.handleRequest(post(batch, inSession()), { parsedBody: batch });
    expect(await response.json()).toEqual([
      { jsonrpc: '2.0', id: 1, result: { echo: 'a' } },
      { jsonrpc: '2.0', id: 2, result: { echo: 'b' } },
    ]);
  });

  it('streams a request with a progress token: its progress, then the response, then the end', async () => {
    const { t } = await open({}, { answer: false });
    const request: JSONRPCMessage = {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'slow', _meta: { progressToken: 'p' } },
    };
    const response = await call(t, request);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('mcp-session-id')).toBe(SESSION);
    const progress: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'p', progress: 1 } };
    await t.send(progress, { relatedRequestId: 7 });
    await t.send({ jsonrpc: '2.0', id: 7, result: { content: [] } });
    expect(await events(response)).toEqual([progress, { jsonrpc: '2.0', id: 7, result: { content: [] } }]);
  });

  it('streams every request of a client that declared sampling, elicitation or roots; its requests ride on the stream', async () => {
    for (const capability of ['sampling', 'elicitation', 'roots']) {
      const { t } = await open({ [capability]: {} }, { answer: false });
      const response = await call(t, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'x' } });
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      const ask: JSONRPCMessage = { jsonrpc: '2.0', id: 'srv-0', method: 'sampling/createMessage', params: {} };
      await t.send(ask, { relatedRequestId: 3 });
      await t.send({ jsonrpc: '2.0', id: 3, result: {} });
      expect(await events(response)).toEqual([ask, { jsonrpc: '2.0', id: 3, result: {} }]);
    }
  });

  it('answers as JSON when the client accepts only JSON, and as a stream when it accepts only SSE', async () => {
    const { t } = await open();
    const json = await call(
      t,
      { jsonrpc: '2.0', id: 1, method: 'a', params: { _meta: { progressToken: 1 } } },
      inSession({ accept: 'application/json' }),
    );
    expect(json.headers.get('content-type')).toBe('application/json');
    const sse = await call(t, { jsonrpc: '2.0', id: 2, method: 'b' }, inSession({ accept: 'text/event-stream' }));
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    expect(await events(sse)).toEqual([{ jsonrpc: '2.0', id: 2, result: { echo: 'b' } }]);
  });

  it('refuses with 406 a POST whose client accepts neither JSON nor SSE, and a GET without SSE', async () => {
    const { t } = await open();
    const refused = await call(t, { jsonrpc: '2.0', id: 1, method: 'a' }, inSession({ accept: 'text/plain' }));
    expect(refused.status).toBe(406);
    expect(((await refused.json()) as { error: { code: number } }).error.code).toBe(-32000);
    const get = await t.handleRequest(new Request('http://localhost/mcp', { headers: inSession({ accept: 'application/json' }) }));
    expect(get.status).toBe(406);
    const fresh = transport();
    const init = await fresh.t.handleRequest(post(initialize(), { accept: 'text/html' }), { parsedBody: initialize() });
    expect(init.status).toBe(406);
    expect(fresh.t.sessionId).toBeUndefined();
  });

  it('refuses with 415 a body that is not declared as JSON', async () => {
    const { t } = await open();
    const response = await call(t, { jsonrpc: '2.0', id: 1, method: 'a' }, inSession({ 'content-type': 'text/plain' }));
    expect(response.status).toBe(415);
  });

  it('answers an unknown session id with 404 and a missing one with 400', async () => {
    const { t } = await open();
    const unknown = await call(t, { jsonrpc: '2.0', id: 9, method: 'a' }, inSession({ 'mcp-session-id': 'other' }));
    expect(unknown.status).toBe(404);
    const body = (await unknown.json()) as { id: unknown; error: { code: number; message: string } };
    expect(body.id).toBe(9);
    expect(body.error.code).toBe(-32001);
    expect(body.error.message).toContain('other');
    const missing = await call(t, { jsonrpc: '2.0', id: 10, method: 'a' }, { 'mcp-protocol-version': '2025-11-25' });
    expect(missing.status).toBe(400);
    const error = ((await missing.json()) as { error: { code: number; message: string } }).error;
    expect(error.code).toBe(-32000);
    expect(error.message).toMatch(/Mcp-Session-Id/);
  });

  it('refuses an unsupported MCP-Protocol-Version with 400 and accepts the 2025 ones', async () => {
    const { t } = await open();
    const bad = await call(t, { jsonrpc: '2.0', id: 1, method: 'a' }, inSession({ 'mcp-protocol-version': '1999-01-01' }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('1999-01-01');
    for (const version of ['2025-11-25', '2025-06-18', '2025-03-26']) {
      expect((await call(t, { jsonrpc: '2.0', id: version, method: 'a' }, inSession({ 'mcp-protocol-version': version }))).status).toBe(
        200,
      );
    }
  });

  it('refuses a message that is not JSON-RPC with 400 and a parse error, and a second initialize', async () => {
    const { t } = await open();
    const bad = await call(t, { id: 1, method: 'a' } as unknown as JSONRPCMessage);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const again = await call(t, initialize());
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { code: number } }).error.code).toBe(-32600);
  });

  it('opens one standalone stream with GET, refuses a second with 409, and sends unrelated messages on it', async () => {
    const { t } = await open();
    const get = () => t.handleRequest(new Request('http://localhost/mcp', { headers: inSession({ accept: 'text/event-stream' }) }));
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    expect((await get()).status).toBe(409);
    const note: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/tools/list_changed' };
    await t.send(note);
    expect(await firstEvent(first)).toEqual(note);
    // The client went away: a new GET may open the stream again.
    expect((await get()).status).toBe(200);
  });

  it('drops unrelated notifications without a GET stream and fails requests that have nowhere to go', async () => {
    const { t } = await open();
    await expect(t.send({ jsonrpc: '2.0', method: 'notifications/message', params: {} })).resolves.toBeUndefined();
    await expect(t.send({ jsonrpc: '2.0', id: 's', method: 'roots/list' })).rejects.toThrow(/GET/);
    await expect(t.send({ jsonrpc: '2.0', id: 'nope', result: {} })).rejects.toThrow(/nope/);
  });

  it('ends the session on DELETE: 200, onclose, open streams end, pending requests answered, then 404', async () => {
    const { t, closed } = await open({}, { answer: false });
    const stream = await t.handleRequest(new Request('http://localhost/mcp', { headers: inSession({ accept: 'text/event-stream' }) }));
    const pending = call(t, { jsonrpc: '2.0', id: 4, method: 'tools/call' });
    await Promise.resolve();
    const deleted = await t.handleRequest(new Request('http://localhost/mcp', { method: 'DELETE', headers: inSession() }));
    expect(deleted.status).toBe(200);
    expect(closed()).toBe(1);
    expect(await stream.text()).toBe('');
    expect((await pending).status).toBe(404);
    expect((await call(t, { jsonrpc: '2.0', id: 5, method: 'a' })).status).toBe(404);
    await t.close();
    expect(closed()).toBe(1);
  });

  it('settles the POST of a request the client cancelled: 202 for JSON, the end for a stream', async () => {
    const { t } = await open({}, { answer: false });
    const json = call(t, { jsonrpc: '2.0', id: 11, method: 'tools/call' });
    const cancel: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 11 } };
    expect((await call(t, cancel)).status).toBe(202);
    expect((await json).status).toBe(202);
    const sse = await call(t, { jsonrpc: '2.0', id: 12, method: 'tools/call', params: { _meta: { progressToken: 1 } } });
    await call(t, { ...cancel, params: { requestId: 12 } });
    expect(await events(sse)).toEqual([]);
  });

  it('refuses a DELETE of another session with 404 and keeps the session', async () => {
    const { t, closed } = await open();
    const response = await t.handleRequest(
      new Request('http://localhost/mcp', { method: 'DELETE', headers: inSession({ 'mcp-session-id': 'x' }) }),
    );
    expect(response.status).toBe(404);
    expect(closed()).toBe(0);
  });

  it('says whether the GET stream is open: a client listening there', async () => {
    const { t } = await open();
    expect(t.streaming).toBe(false);
    const stream = await getStream(t);
    expect(t.streaming).toBe(true);
    await stream.body!.cancel();
    expect(t.streaming).toBe(false);
  });

  it('sends what the server says about a request answered as JSON on the GET stream, and the response in the body', async () => {
    const { t } = await open({}, { answer: false });
    const stream = await getStream(t);
    const pending = call(t, { jsonrpc: '2.0', id: 21, method: 'tools/call' });
    await Promise.resolve();
    const log: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'working' } };
    await t.send(log, { relatedRequestId: 21 });
    expect(await firstEvent(stream)).toEqual(log);
    await t.send({ jsonrpc: '2.0', id: 21, result: {} });
    expect(await (await pending).json()).toEqual({ jsonrpc: '2.0', id: 21, result: {} });
  });

  it('keeps the stream of a batch open until every request of it is answered', async () => {
    const { t } = await open({}, { answer: false });
    const batch = [
      { jsonrpc: '2.0', id: 31, method: 'tools/call', params: { _meta: { progressToken: 'a' } } },
      { jsonrpc: '2.0', id: 32, method: 'tools/call' },
    ];
    const response = await call(t, batch);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    await t.send({ jsonrpc: '2.0', id: 32, result: { n: 2 } });
    await t.send({ jsonrpc: '2.0', id: 31, result: { n: 1 } });
    expect(await events(response)).toEqual([
      { jsonrpc: '2.0', id: 32, result: { n: 2 } },
      { jsonrpc: '2.0', id: 31, result: { n: 1 } },
    ]);
  });

  it('answers a batch whose requests are partly cancelled with the responses of the rest', async () => {
    const { t } = await open({}, { answer: false });
    const batch = [1, 2, 3].map((id) => ({ jsonrpc: '2.0', id, method: 'tools/call' }));
    const pending = call(t, batch);
    await Promise.resolve();
    const cancel = (requestId: number) => call(t, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });
    expect((await cancel(1)).status).toBe(202);
    await t.send({ jsonrpc: '2.0', id: 2, result: { n: 2 } });
    expect((await cancel(3)).status).toBe(202);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([{ jsonrpc: '2.0', id: 2, result: { n: 2 } }]);
  });

  it('ignores a cancel without a request id, of a request no longer open, or naming a response of the same batch', async () => {
    for (const accept of ['application/json', 'text/event-stream']) {
      const { t, received } = await open({}, { answer: false });
      const batch = [
        { jsonrpc: '2.0', id: 'srv-1', result: {} },
        { jsonrpc: '2.0', id: 41, method: 'tools/call' },
      ];
      const pending = call(t, batch, inSession({ accept }));
      await Promise.resolve();
      for (const params of [undefined, { requestId: 'gone' }, { requestId: 'srv-1' }]) {
        const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', ...(params ? { params } : {}) };
        expect((await call(t, cancel)).status).toBe(202);
        expect(received.at(-1)).toEqual(cancel);
      }
      await t.send({ jsonrpc: '2.0', id: 41, result: { done: true } });
      const response = await pending;
      const answers = accept === 'application/json' ? ((await response.json()) as unknown[]) : await events(response);
      expect(answers, accept).toEqual([{ jsonrpc: '2.0', id: 41, result: { done: true } }]);
    }
  });

  it('ends the stream of a request still running when the session is deleted, and refuses to send afterwards', async () => {
    const { t, closed } = await open({}, { answer: false });
    const streamed = await call(t, { jsonrpc: '2.0', id: 51, method: 'tools/call', params: { _meta: { progressToken: 1 } } });
    const deleted = await t.handleRequest(new Request('http://localhost/mcp', { method: 'DELETE', headers: inSession() }));
    expect(deleted.status).toBe(200);
    expect(closed()).toBe(1);
    expect(await events(streamed)).toEqual([]);
    await expect(t.send({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })).rejects.toThrow('the session is closed');
  });

  it('closes quietly when nothing was connected to it', async () => {
    const t = new StreamableHttpServerTransport({ sessionIdGenerator: () => SESSION, openStream: (options) => new EventStream(options) });
    await expect(t.close()).resolves.toBeUndefined();
    expect((await call(t, { jsonrpc: '2.0', id: 1, method: 'a' })).status).toBe(404);
  });
});
