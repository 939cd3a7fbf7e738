import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { expect } from 'vitest';
import { EventStream, type EventStreamOptions } from '../../src/eventStream.js';
import { StreamableHttpServerTransport } from '../../src/gateway/streamableTransport.js';

/** A StreamableHttpServerTransport on its own, driven with web Requests as the HTTP layer would. */

export const SESSION = 'session-1';
export const BOTH = 'application/json, text/event-stream';

export function post(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request('http://localhost/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: BOTH, ...headers },
    body: JSON.stringify(body),
  });
}

export const inSession = (extra: Record<string, string> = {}) => ({
  'mcp-session-id': SESSION,
  'mcp-protocol-version': '2025-11-25',
  ...extra,
});

export function initialize(capabilities: Record<string, unknown> = {}): JSONRPCMessage {
  return {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'test', version: '0' } },
  };
}

export interface TransportOptions {
  /** false: the "server" answers nothing by itself (the test sends the responses). */
  answer?: boolean;
  /** Instead of a plain EventStream (a quota that refuses, say). */
  openStream?: (options: EventStreamOptions) => EventStream;
}

/** A transport whose "server" answers every request with `{ echo: method }` unless `answer` is false. */
export function transport(options: TransportOptions = {}) {
  const t = new StreamableHttpServerTransport({
    sessionIdGenerator: () => SESSION,
    openStream: options.openStream ?? ((streamOptions) => new EventStream(streamOptions)),
  });
  const received: JSONRPCMessage[] = [];
  let closed = 0;
  t.onclose = () => closed++;
  t.onmessage = (message) => {
    received.push(message);
    if (options.answer === false || !('id' in message) || !('method' in message)) return;
    queueMicrotask(() => void t.send({ jsonrpc: '2.0', id: message.id, result: { echo: message.method } }));
  };
  return { t, received, closed: () => closed };
}

/** A transport past initialize. */
export async function open(capabilities: Record<string, unknown> = {}, options: TransportOptions = {}) {
  const handle = transport(options);
  const response = await (options.answer === false
    ? (async () => {
        const pending = handle.t.handleRequest(post(initialize(capabilities)), { parsedBody: initialize(capabilities) });
        await Promise.resolve();
        await handle.t.send({
          jsonrpc: '2.0',
          id: 0,
          result: { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 's', version: '0' } },
        });
        return pending;
      })()
    : handle.t.handleRequest(post(initialize(capabilities)), { parsedBody: initialize(capabilities) }));
  expect(response.status).toBe(200);
  return handle;
}

export function call(t: StreamableHttpServerTransport, message: unknown, headers: Record<string, string> = inSession()) {
  return t.handleRequest(post(message, headers), { parsedBody: message });
}

/** A GET for the session's standalone stream. */
export function getStream(t: StreamableHttpServerTransport, headers: Record<string, string> = inSession({ accept: 'text/event-stream' })) {
  return t.handleRequest(new Request('http://localhost/mcp', { headers }));
}

/** The `data:` payloads of an ended event stream. */
export async function events(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice('data: '.length)) as unknown);
}

export async function firstEvent(response: Response): Promise<unknown> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes('\n\n')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  const data = text.split('\n').find((line) => line.startsWith('data: '));
  return data ? (JSON.parse(data.slice('data: '.length)) as unknown) : undefined;
}

/** The JSON-RPC error of a refusal. */
export async function errorOf(response: Response): Promise<{ code: number; message: string; data?: { orchCode?: string } }> {
  return ((await response.json()) as { error: { code: number; message: string; data?: { orchCode?: string } } }).error;
}
