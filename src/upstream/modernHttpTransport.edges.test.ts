/**
 * ModernHttpTransport at the edges of a request's life: cancelled before or during its answer, a
 * stream that breaks after it, answers with nobody listening yet, and the SDK's own client on top.
 */
import type { ServerResponse } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { EmptyResultSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { collect, serve, sseEvent } from '../../test/helpers/modernHttp.js';
import { ModernHttpTransport } from './modernHttpTransport.js';

const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' };
const listen = (id: number): JSONRPCMessage => ({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { _meta: envelope } });
const cancel = (requestId: number): JSONRPCMessage => ({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId } });
const idOf = (message: JSONRPCMessage): unknown => (message as { id?: unknown }).id;

describe('ModernHttpTransport, a request cancelled or cut short', () => {
  it('cancelled before the server answered at all: the send settles quietly and nothing answers it', async () => {
    const held: ServerResponse[] = [];
    const url = await serve((_req, body, res) => {
      if (body.id === 1) held.push(res);
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: body.id, result: {} }));
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    const sending = transport.send(listen(1));
    await expect.poll(() => held.length).toBe(1);
    await transport.send(cancel(1));
    await expect(sending).resolves.toBeUndefined();
    await transport.send(listen(2));
    await expect.poll(() => messages).toEqual([{ jsonrpc: '2.0', id: 2, result: {} }]);
    await transport.close();
  });

  it('cancelled while its stream is open: no error is reported and nothing answers it; other notifications cancel nothing', async () => {
    const streams = new Map<unknown, ServerResponse>();
    const ended: unknown[] = [];
    const url = await serve((_req, body, res) => {
      streams.set(body.id, res);
      res.on('close', () => ended.push(body.id));
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(sseEvent({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: `for ${String(body.id)}` } }));
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.send(listen(1));
    await transport.send(listen(2));
    await expect.poll(() => messages).toHaveLength(2);
    // A notification naming request 1 that is no cancellation changes nothing for it.
    await transport.send({ jsonrpc: '2.0', method: 'notifications/progress', params: { requestId: 1, progressToken: 1, progress: 1 } });
    await transport.send(cancel(2));
    await expect.poll(() => ended).toEqual([2]);
    streams.get(1)!.end(sseEvent({ jsonrpc: '2.0', id: 1, result: {} }));
    await expect.poll(() => messages.filter((message) => idOf(message) !== undefined)).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(errors).toEqual([]);
    // Closing gives up the rest the same way.
    await transport.send(listen(3));
    await expect.poll(() => messages).toHaveLength(4);
    await transport.close();
    await expect.poll(() => ended).toEqual([2, 1, 3]);
    expect(messages.filter((message) => idOf(message) === 3)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('whose stream breaks after its answer: the break is reported, and the answer stands alone', async () => {
    const url = await serve((_req, body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(sseEvent({ jsonrpc: '2.0', id: body.id, result: {} }), () => res.destroy());
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.send(listen(1));
    await expect.poll(() => errors).toHaveLength(1);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    await transport.close();
  });

  it('whose stream carries a server request with the same id: that is no answer, and the end of the stream still is an error', async () => {
    const request = { jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } };
    const url = await serve((_req, _body, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end(sseEvent(request));
    });
    const transport = new ModernHttpTransport(url);
    const messages = collect(transport);
    await transport.send(listen(1));
    await expect.poll(() => messages).toHaveLength(2);
    expect(messages).toEqual([
      request,
      { jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'the server ended its event stream before the answer' } },
    ]);
    await transport.close();
  });
});

describe('ModernHttpTransport, with nobody or the SDK listening', () => {
  it('drops a message read while no one listens, and goes on reading', async () => {
    const url = await serve((_req, body, res) => {
      res
        .writeHead(200, { 'Content-Type': 'text/event-stream' })
        .end(`${sseEvent({ jsonrpc: '2.0', id: body.id, result: {} })}data: {broken\n\n`);
    });
    const transport = new ModernHttpTransport(url);
    const errors: Error[] = [];
    transport.onerror = (error) => errors.push(error);
    await transport.send(listen(1));
    // The events are read in order: the answer nobody took, then the data that is no JSON.
    await expect.poll(() => errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(SyntaxError);
    await transport.close();
  });

  it("lets the SDK's client see a request's progress before its answer, when both come in one piece", async () => {
    const url = await serve((_req, body, res) => {
      const token = (body.params as { _meta: { progressToken: unknown } })._meta.progressToken;
      const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } };
      const log = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'working' } };
      res
        .writeHead(200, { 'Content-Type': 'text/event-stream' })
        .end(sseEvent(log) + sseEvent(progress) + sseEvent({ jsonrpc: '2.0', id: body.id, result: {} }));
    });
    const transport = new ModernHttpTransport(url);
    const client = new Client({ name: 'test', version: '1.0.0' });
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await Protocol.prototype.connect.call(client, transport);
    try {
      const progress: number[] = [];
      await client.request({ method: 'tools/call', params: { name: 'slow', _meta: envelope } }, EmptyResultSchema, {
        onprogress: (p) => progress.push(p.progress),
      });
      expect(progress).toEqual([1]);
      expect(errors).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
