/**
 * The WebSocket transport on its own, frame by frame: what it answers itself, what it hands to the
 * session, how it counts requests in flight, and how it ends. Its socket is the small interface the
 * HTTP layer hands over (MessageSocket), recorded here so that the unread backlog can be set to the
 * byte; wsTransport.test.ts drives the same class with the `ws` library's real sockets.
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { WebSocketServerTransport, type MessageSocket, type WebSocketTransportOptions } from './wsTransport.js';

class RecordingSocket implements MessageSocket {
  readonly frames: unknown[] = [];
  readonly closes: [number, string][] = [];
  terminated = 0;
  bufferedAmount = 0;
  send(text: string): void {
    this.frames.push(JSON.parse(text));
  }
  close(code: number, reason: string): void {
    this.closes.push([code, reason]);
  }
  terminate(): void {
    this.terminated++;
  }
}

function setup(options: Partial<WebSocketTransportOptions> = {}, listen = true) {
  const socket = new RecordingSocket();
  const transport = new WebSocketServerTransport('s1', socket, { maxBufferedBytes: 100, ...options });
  const delivered: JSONRPCMessage[] = [];
  let closes = 0;
  if (listen) {
    transport.onmessage = (message) => delivered.push(message);
    transport.onclose = () => closes++;
  }
  const receive = (message: unknown) => transport.receive(typeof message === 'string' ? message : JSON.stringify(message));
  return { socket, transport, delivered, receive, closes: () => closes };
}

const request = (id: unknown, method = 'tools/call', params: object = { name: 'echo' }) => ({ jsonrpc: '2.0', id, method, params });
const duplicateOf = (id: unknown) => ({
  jsonrpc: '2.0',
  id,
  error: expect.objectContaining({ code: -32600, message: `Invalid Request: id ${JSON.stringify(id)} belongs to a request in flight` }),
});

describe('WebSocketServerTransport frames', () => {
  it('answers a frame that is not JSON with a parse error and a hint', () => {
    const { socket, delivered, receive } = setup();
    receive('{oops');
    expect(socket.frames).toEqual([
      {
        jsonrpc: '2.0',
        id: null,
        error: {
          code: -32700,
          message: expect.stringMatching(/^Parse error: .* \(send one JSON-RPC message per text frame\)$/),
          data: { orchCode: 'PARSE_ERROR' },
        },
      },
    ]);
    expect(delivered).toEqual([]);
  });

  it('refuses null, odd ids and a batch with one bad message, echoing only ids that are ids', () => {
    const { socket, delivered, receive } = setup();
    receive('null');
    receive({ jsonrpc: '1.0', id: { not: 'an id' } });
    receive({ jsonrpc: '1.0', id: 'x' });
    receive([request(1), { jsonrpc: '2.0', id: 2 }]);
    expect(socket.frames.map((frame) => (frame as { id: unknown }).id)).toEqual([null, null, 'x', null]);
    expect(socket.frames).toEqual(
      Array.from({ length: 4 }, () =>
        expect.objectContaining({
          error: expect.objectContaining({ code: -32600, message: 'Invalid Request: not a JSON-RPC 2.0 message' }),
        }),
      ),
    );
    expect(delivered).toEqual([]);
  });

  it('works without a screen, a message handler or an overflow handler', async () => {
    const { socket, transport, receive } = setup({}, false);
    receive(request(1));
    socket.bufferedAmount = 101;
    await expect(transport.send({ jsonrpc: '2.0', id: 1, result: {} })).rejects.toThrow('the client left more than 100 bytes unread');
    expect([socket.terminated, transport.streaming]).toEqual([1, false]);
    const quiet = setup({}, false).transport;
    quiet.closed();
    expect(quiet.streaming).toBe(false);
  });

  it('answers each request of a screened frame with the refusal, and nothing for its notifications', () => {
    const refusal = new OrchError('LIMIT_REACHED', 'too many', { data: { limit: 'batch' } });
    const screened: [unknown, number][] = [];
    const { socket, delivered, receive } = setup({
      screen: (body, inFlight) => {
        screened.push([body, inFlight]);
        return Array.isArray(body) ? refusal : undefined;
      },
    });
    receive(request(1));
    receive([request(2), { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } }, request(3)]);
    expect(screened.map(([, inFlight]) => inFlight)).toEqual([0, 1]);
    expect(socket.frames.map((frame) => (frame as { id: unknown }).id)).toEqual([2, 3]);
    expect(socket.frames[0]).toMatchObject({ jsonrpc: '2.0', error: { message: 'too many', data: { limit: 'batch' } } });
    expect(delivered).toEqual([request(1)]);
  });

  it('frees an id when it is answered or cancelled, not when the server sends a request or another notification', async () => {
    const { socket, transport, delivered, receive } = setup();
    receive(request(1));
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'sampling/createMessage', params: {} });
    await transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } });
    receive({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { requestId: 1 } });
    receive(request(1));
    expect(socket.frames.at(-1)).toEqual(duplicateOf(1));
    await transport.send({ jsonrpc: '2.0', id: 1, result: {} });
    receive(request(1));
    receive({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
    receive({ jsonrpc: '2.0', method: 'notifications/cancelled' });
    receive(request(1));
    receive({ jsonrpc: '2.0', id: 1, error: { code: -1, message: 'client answers the server' } });
    receive(request(1));
    await transport.send({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'failed' } });
    receive(request(1));
    expect(socket.frames.at(-1)).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'failed' } });
    expect(delivered.filter((message) => 'method' in message && message.method === 'tools/call')).toHaveLength(4);
    expect(socket.frames.filter((frame) => (frame as { error?: { code: number } }).error?.code === -32600)).toHaveLength(2);
  });

  it('takes the protocol revision from initialize only, and only a string one', () => {
    const { transport, receive } = setup();
    receive(request(1, 'initialize'));
    expect(transport.protocolVersion).toBeUndefined();
    receive({ jsonrpc: '2.0', id: 2, method: 'initialize' });
    receive(request(3, 'initialize', { protocolVersion: 20250326 }));
    expect(transport.protocolVersion).toBeUndefined();
    receive(request(4, 'tools/call', { protocolVersion: '2025-03-26' }));
    expect(transport.protocolVersion).toBeUndefined();
    receive(request(5, 'initialize', { protocolVersion: '2025-03-26' }));
    expect(transport.protocolVersion).toBe('2025-03-26');
  });

  it('drops a client that leaves more than maxBufferedBytes unread, not one at the bound', async () => {
    let overflows = 0;
    const { socket, transport, receive, closes } = setup({ onOverflow: () => overflows++ });
    socket.bufferedAmount = 100;
    await transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: {} });
    expect(socket.frames).toHaveLength(1);
    socket.bufferedAmount = 101;
    await expect(transport.send({ jsonrpc: '2.0', method: 'notifications/message', params: {} })).rejects.toThrow(
      'the client left more than 100 bytes unread; its connection was dropped',
    );
    expect([socket.frames.length, socket.terminated, overflows, closes(), transport.streaming]).toEqual([1, 1, 1, 1, false]);
    receive(request(1));
    expect(socket.frames).toHaveLength(1);
  });

  it('ends once: close sends a close frame, and nothing is received or sent after', async () => {
    const { socket, transport, delivered, receive, closes } = setup();
    expect(transport.streaming).toBe(true);
    await transport.close();
    await transport.close();
    transport.closed();
    expect(socket.closes).toEqual([[1000, 'session closed']]);
    expect(closes()).toBe(1);
    receive(request(1));
    receive('garbage');
    expect([delivered, socket.frames]).toEqual([[], []]);
    await expect(transport.send({ jsonrpc: '2.0', id: 1, result: {} })).rejects.toThrow('the WebSocket is closed');
  });
});
