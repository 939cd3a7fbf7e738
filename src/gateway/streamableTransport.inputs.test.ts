import { describe, expect, it } from 'vitest';
import { BOTH, call, errorOf, inSession, open, post, transport } from '../../test/helpers/streamableTransport.js';

/** Unusual input a client (or the HTTP layer) may hand the transport, and answers the server sends. */
describe('StreamableHttpServerTransport inputs', () => {
  it('refuses with 415 a POST that declares no Content-Type, or an empty one', async () => {
    const { t, received } = await open();
    const message = { jsonrpc: '2.0', id: 1, method: 'a' };
    const bytes = new TextEncoder().encode(JSON.stringify(message));
    // A byte body, unlike a string one, gets no Content-Type of its own.
    const undeclared = new Request('http://localhost/mcp', { method: 'POST', headers: { accept: BOTH, ...inSession() }, body: bytes });
    expect(undeclared.headers.get('content-type')).toBeNull();
    const empty = new Request('http://localhost/mcp', {
      method: 'POST',
      headers: { accept: BOTH, 'content-type': '', ...inSession() },
      body: bytes,
    });
    for (const request of [undeclared, empty]) {
      const response = await t.handleRequest(request, { parsedBody: message });
      expect(response.status).toBe(415);
      expect(await errorOf(response)).toMatchObject({
        message: 'Unsupported Media Type: Content-Type must be application/json',
        data: { orchCode: 'UNSUPPORTED_MEDIA_TYPE' },
      });
    }
    expect(received.map((each) => ('method' in each ? each.method : undefined))).toEqual(['initialize']);
  });

  it('takes an initialize without a protocolVersion for none: refused as a request before initialize, no session started', async () => {
    const withoutVersion = [
      { jsonrpc: '2.0', id: 0, method: 'initialize' },
      { jsonrpc: '2.0', id: 0, method: 'initialize', params: { capabilities: {}, clientInfo: { name: 'test', version: '0' } } },
    ];
    for (const message of withoutVersion) {
      const { t, received } = transport();
      const response = await t.handleRequest(post(message), { parsedBody: message });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        id: 0,
        error: { message: 'Bad Request: Server not initialized', data: { orchCode: 'MISSING_SESSION' } },
      });
      expect(t.sessionId).toBeUndefined();
      expect(received).toEqual([]);
    }
  });

  it('answers a POST whose body was not handed over as a message that is not JSON-RPC', async () => {
    const { t } = await open();
    const response = await t.handleRequest(post({ jsonrpc: '2.0', id: 1, method: 'a' }, inSession()));
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({ code: -32700, message: expect.stringContaining('Parse error') });
  });

  it('settles a POST early only for notifications/cancelled: another notification naming its request changes nothing', async () => {
    const { t } = await open({}, { answer: false });
    const pending = call(t, { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow' } });
    const other = await call(t, {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { requestId: 5, progressToken: 5, progress: 1 },
    });
    expect(other.status).toBe(202);
    await t.send({ jsonrpc: '2.0', id: 5, result: { content: [] } });
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ jsonrpc: '2.0', id: 5, result: { content: [] } });
  });

  it("answers a request with the server's error, and refuses an answer that no request waits for", async () => {
    const { t } = await open({}, { answer: false });
    const stray = { jsonrpc: '2.0' as const, id: 99, error: { code: -32601, message: 'Method not found' } };
    await expect(t.send(stray)).rejects.toThrow('No connection established for request ID: 99');
    const pending = call(t, { jsonrpc: '2.0', id: 6, method: 'nope' });
    const refusal = { jsonrpc: '2.0' as const, id: 6, error: { code: -32601, message: 'Method not found' } };
    await t.send(refusal);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(refusal);
  });
});
