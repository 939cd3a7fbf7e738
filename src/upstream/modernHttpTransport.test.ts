import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { collect, serve } from '../../test/helpers/modernHttp.js';
import { ModernHttpTransport } from './modernHttpTransport.js';

const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };

describe('ModernHttpTransport', () => {
  it('sends the standard headers matching the body, configured headers too, and delivers a JSON answer', async () => {
    let seen: IncomingMessage['headers'] = {};
    const url = await serve((req, body, res) => {
      seen = req.headers;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { ok: true } }));
    });
    const transport = new ModernHttpTransport(url, { Authorization: 'Bearer t' });
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'grüße', _meta: envelope } });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 1, result: { ok: true } }]);
    expect(seen['mcp-protocol-version']).toBe('2026-07-28');
    expect(seen['mcp-method']).toBe('tools/call');
    expect(seen['mcp-name']).toBe(`=?base64?${Buffer.from('grüße').toString('base64')}?=`);
    expect(seen.authorization).toBe('Bearer t');
    await transport.close();
  });

  it('delivers SSE answers in order and turns a non-JSON-RPC HTTP error into an error response', async () => {
    const url = await serve((_req, body, res) => {
      if (body.method === 'tools/list') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('no session');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })}\n\n`,
      );
      res.end(`event: message\r\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} })}\r\n\r\n`);
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'slow', _meta: { ...envelope, progressToken: 1 } },
    });
    await transport.send({ jsonrpc: '2.0', id: 3, method: 'tools/list', params: { _meta: envelope } });
    await expect.poll(() => messages.length).toBe(3);
    const byId = (id: number) => messages.find((message) => (message as { id?: number }).id === id);
    expect(messages.findIndex((m) => (m as { method?: string }).method === 'notifications/progress')).toBeLessThan(
      messages.indexOf(byId(2)!),
    );
    expect((byId(3) as { error: { message: string } }).error.message).toMatch(/^HTTP 404 .*no session/);
    await transport.close();
  });

  it('answers with an error when the event stream ends or breaks before the answer, so that no request waits for its timeout', async () => {
    const url = await serve((_req, body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'hi' } })}\n\n`);
      if (body.id === 4) res.end();
      else setImmediate(() => res.destroy());
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 4, method: 'subscriptions/listen', params: { _meta: envelope } });
    await transport.send({ jsonrpc: '2.0', id: 5, method: 'subscriptions/listen', params: { _meta: envelope } });
    const errorOf = (id: number) =>
      (messages.find((message) => (message as { id?: number }).id === id) as { error?: { code: number; message: string } } | undefined)
        ?.error;
    await expect.poll(() => errorOf(4)).toEqual({ code: -32603, message: 'the server ended its event stream before the answer' });
    await expect.poll(() => errorOf(5)?.message).toMatch(/^the server's event stream broke before the answer: /);
    expect(messages.filter((message) => (message as { method?: string }).method === 'notifications/message')).toHaveLength(2);
    await transport.close();
  });

  it('takes an error the server could not tie to a request (id null) as the answer to the request it was posted with', async () => {
    const unsupported = { code: -32000, message: 'Bad Request: Unsupported protocol version: 2026-07-28' };
    const url = await serve((_req, body, res) => {
      const answer =
        body.method === 'tools/list' ? { id: null, result: {} } : { id: body.method === 'prompts/list' ? 77 : null, error: unsupported };
      res
        .writeHead(body.method === 'tools/list' ? 200 : 400, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', ...answer }));
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 8, method: 'server/discover', params: { _meta: envelope } });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 8, error: unsupported }]);
    // A result is never anonymous: one without its id is passed on as it came.
    await transport.send({ jsonrpc: '2.0', id: 9, method: 'tools/list', params: { _meta: envelope } });
    await expect.poll(() => messages[1]).toEqual({ jsonrpc: '2.0', id: null, result: {} });
    // Nor is an error tied to another request: it is passed on with the id it names.
    await transport.send({ jsonrpc: '2.0', id: 10, method: 'prompts/list', params: { _meta: envelope } });
    await expect.poll(() => messages[2]).toEqual({ jsonrpc: '2.0', id: 77, error: unsupported });
    await transport.close();
  });

  it('reads an SSE answer cut anywhere: inside CRLF pairs, inside a character, data over several lines', async () => {
    const event = Buffer.from(`event: message\r\ndata: {"jsonrpc":"2.0",\r\ndata: "id":5,"result":{"text":"é"}}\r\n\r\n`);
    const cuts = [...event.keys()].filter((i) => event[i] === 0x0d || event[i] === 0xc3).map((i) => i + 1);
    const url = await serve(async (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let from = 0;
      for (const cut of [...cuts, event.length]) {
        res.write(event.subarray(from, cut));
        from = cut;
        await new Promise((resolve) => setTimeout(resolve, 5)); // one read per piece
      }
      res.end();
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'x', _meta: envelope } });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 5, result: { text: 'é' } }]);
    expect(errors).toEqual([]);
    await transport.close();
  });

  it('refuses a redirect to another origin: the configured headers never reach it', async () => {
    const reached: IncomingMessage['headers'][] = [];
    const elsewhere = await serve((req, body, res) => {
      reached.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} }));
    });
    const moved = await serve((_req, _body, res) => {
      res.writeHead(307, { Location: `${elsewhere.href}?from=moved` }).end();
    });
    const transport = new ModernHttpTransport(moved, { Authorization: 'Bearer secret', 'X-Api-Key': 'key' });
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'x', _meta: envelope } });
    await expect.poll(() => messages.length).toBe(1);
    const { error } = messages[0] as { id: number; error: { message: string } };
    expect(messages[0]).toMatchObject({ id: 6 });
    expect(error.message).toContain(`Redirect to ${elsewhere.href} not followed`);
    expect(error.message).toContain("only redirects within the server's origin are followed");
    expect(error.message).not.toContain('secret');
    expect(reached).toEqual([]);
    await transport.close();
  });

  it('follows a redirect within the server origin, headers and all', async () => {
    const seen: { path: string | undefined; authorization: string | undefined }[] = [];
    const url = await serve((req, body, res) => {
      seen.push({ path: req.url, authorization: req.headers.authorization });
      if (req.url === '/old') {
        res.writeHead(308, { Location: '/mcp' }).end();
        return;
      }
      res
        .writeHead(200, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: { at: req.url } }));
    });
    const transport = new ModernHttpTransport(new URL('/old', url), { Authorization: 'Bearer secret' });
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 7, method: 'tools/list', params: { _meta: envelope } });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 7, result: { at: '/mcp' } }]);
    expect(seen).toEqual([
      { path: '/old', authorization: 'Bearer secret' },
      { path: '/mcp', authorization: 'Bearer secret' },
    ]);
    await transport.close();
  });

  it('cancels a request by closing its HTTP request', async () => {
    let closed = false;
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.flushHeaders();
      res.on('close', () => (closed = true));
    });
    const transport = new ModernHttpTransport(url);
    collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 4, method: 'subscriptions/listen', params: { _meta: envelope } });
    await transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 4 } });
    await expect.poll(() => closed).toBe(true);
    await transport.close();
  });

  it('names what a call is about in Mcp-Name, plain when it can be, and sends the version the request names, 2026-07-28 if none', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const url = await serve((req, body, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} }));
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'greet' } });
    await transport.send({ jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///a b' } });
    await transport.send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: ' padded', _meta: { 'io.modelcontextprotocol/protocolVersion': 7 } },
    });
    await transport.send({ jsonrpc: '2.0', id: 4, method: 'tools/list' });
    await transport.send({
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/list',
      params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2027-01-01' } },
    });
    await expect.poll(() => messages.length).toBe(5);
    expect(seen.map((headers) => [headers['mcp-name'], headers['mcp-protocol-version'], headers['mcp-method']])).toEqual([
      ['greet', '2026-07-28', 'prompts/get'],
      ['file:///a b', '2026-07-28', 'resources/read'],
      [`=?base64?${Buffer.from(' padded').toString('base64')}?=`, '2026-07-28', 'tools/call'],
      [undefined, '2026-07-28', 'tools/list'],
      [undefined, '2027-01-01', 'tools/list'],
    ]);
    expect(seen[0]!['content-type']).toBe('application/json');
    expect(seen[0]!.accept).toBe('application/json, text/event-stream');
    await transport.close();
  });

  it('posts nothing for responses and notifications other than a cancellation, and nothing once closed', async () => {
    let posts = 0;
    const url = await serve((_req, body, res) => {
      posts++;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} }));
    });
    const transport = new ModernHttpTransport(url);
    let closes = 0;
    transport.onclose = () => closes++;
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } });
    expect(posts).toBe(0);
    await transport.close();
    await transport.close();
    expect(closes).toBe(1);
    await expect(transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).rejects.toThrow('transport closed');
  });

  it('answers a request whose HTTP answer is no JSON-RPC with an error naming the status and the start of the body', async () => {
    const url = await serve((_req, body, res) => {
      if (body.id === 1) res.writeHead(502, 'Bad Gateway').end();
      else if (body.id === 3) res.writeHead(200, { 'Content-Type': 'application/json' }).end('null');
      else res.writeHead(500, 'Internal Server Error', { 'Content-Type': 'application/json' }).end(`{"oops": "${'z'.repeat(300)}"}`);
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await transport.send({ jsonrpc: '2.0', id: 3, method: 'tools/list' });
    await expect.poll(() => messages.length).toBe(3);
    const byId = (id: number) => messages.find((m) => (m as { id: number }).id === id) as { error: { code: number; message: string } };
    expect(byId(1).error).toEqual({ code: -32603, message: 'HTTP 502 Bad Gateway' });
    expect(byId(2).error).toEqual({
      code: -32603,
      message: `HTTP 500 Internal Server Error: ${`{"oops": "${'z'.repeat(300)}"}`.slice(0, 200)}`,
    });
    expect(byId(3).error).toEqual({ code: -32603, message: 'HTTP 200 OK: null' });
    await transport.close();
  });

  it('reads an SSE stream whose lines end in a lone CR, cut after each CR, and keeps spaces inside the data', async () => {
    const answer = JSON.stringify({ jsonrpc: '2.0', id: 6, result: { text: 'a b' } });
    const pieces = ['event: message\r', `data:${answer}\r`, '\r'];
    const url = await serve(async (_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      for (const piece of pieces) {
        res.write(piece);
        await new Promise((resolve) => setTimeout(resolve, 5)); // one read per piece
      }
      res.end();
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'x', _meta: envelope } });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 6, result: { text: 'a b' } }]);
    await transport.close();
  });

  it('skips SSE events without data or without a JSON-RPC message, and reports data that is not JSON', async () => {
    const url = await serve((_req, body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(
        `: a comment\n\nevent: ping\n\ndata: {"not":"rpc"}\n\ndata: {broken\n\ndata:\ndata:\n\ndata:${JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} })}\n\n`,
      );
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(errors).toHaveLength(2); // the broken object, and two empty data lines: a line end is no JSON
    expect(errors.every((error) => error instanceof SyntaxError)).toBe(true);
    await transport.close();
  });

  it('skips data that is not JSON even with no error listener, and drops an event the stream ends before its blank line', async () => {
    const url = await serve((_req, body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      const answer = JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} });
      res.end(body.id === 1 ? `data: {broken\n\ndata: ${answer}\n\n` : `data: ${answer}\n`);
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    await transport.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    await expect.poll(() => messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ id: 2, error: { message: 'the server ended its event stream before the answer' } });
    await transport.close();
  });

  it('fails to send to a server it cannot reach', async () => {
    const transport = new ModernHttpTransport(new URL('http://127.0.0.1:9/mcp'));
    await expect(transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).rejects.toThrow();
    await transport.close();
  });
});
