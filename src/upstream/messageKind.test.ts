import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolResultSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createRequire } from 'node:module';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { describe, expect, it } from 'vitest';
import { connectByKind, kindOf } from './messageKind.js';

const sdkVersion = (createRequire(import.meta.url)('@modelcontextprotocol/sdk/package.json') as { version: string }).version;

describe('kindOf', () => {
  it('tells requests, notifications and responses apart by their envelope', () => {
    expect(kindOf({ jsonrpc: '2.0', id: 1, method: 'tools/list' })).toBe('request');
    expect(kindOf({ jsonrpc: '2.0', id: 'a', method: 'tools/call', params: { name: 'x' } })).toBe('request');
    expect(kindOf({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe('notification');
    expect(kindOf({ jsonrpc: '2.0', id: 1, result: {} })).toBe('response');
    expect(kindOf({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } })).toBe('response');
  });

  it('refuses what the SDK schemas refuse', () => {
    for (const message of [
      null,
      'text',
      { id: 1, method: 'x' },
      { jsonrpc: '1.0', id: 1, method: 'x' },
      { jsonrpc: '2.0', id: 1.5, method: 'x' },
      { jsonrpc: '2.0', id: {}, method: 'x' },
      { jsonrpc: '2.0', id: 1, method: 5 },
      { jsonrpc: '2.0', id: 1, method: 'x', params: 'p' },
      { jsonrpc: '2.0', id: 1, result: 'r' },
      { jsonrpc: '2.0', id: 1, error: { code: '1', message: 'm' } },
      { jsonrpc: '2.0', id: 1 },
    ]) {
      expect(kindOf(message), JSON.stringify(message)).toBeUndefined();
    }
  });
});

describe('connectByKind', () => {
  it('finds the SDK Protocol internals it dispatches to (the SDK is pinned to an exact version for this)', () => {
    const internals = ['_onrequest', '_onnotification', '_onresponse', '_onerror'] as const;
    const missing = internals.filter((name) => typeof (Protocol.prototype as unknown as Record<string, unknown>)[name] !== 'function');
    expect(
      missing,
      `@modelcontextprotocol/sdk ${sdkVersion}: Protocol no longer has ${missing.join(', ')}, which connectByKind ` +
        '(src/upstream/messageKind.ts) calls; read the new protocol.js and adapt it before moving the pinned version',
    ).toEqual([]);
  });

  it('dispatches requests, notifications and responses of a real Client and Server, and reports malformed messages', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {} } });
    const notified: string[] = [];
    server.fallbackRequestHandler = async (request) => ({ content: [{ type: 'text', text: `did ${request.method}` }] });
    server.fallbackNotificationHandler = async (notification) => {
      notified.push(notification.method);
    };
    const errors: string[] = [];
    server.onerror = (error) => errors.push(error.message);
    const seen: JSONRPCMessage[] = [];
    serverSide.onmessage = (message) => seen.push(message);

    expect(await connectByKind(server, serverSide)).toBe(true);
    const client = new Client({ name: 'c', version: '1' }, { capabilities: { roots: { listChanged: true } } });
    expect(await connectByKind(client, clientSide, () => client.connect(clientSide))).toBe(true);

    const result = await client.request({ method: 'tools/call', params: { name: 'echo' } }, CallToolResultSchema);
    expect(result.content).toEqual([{ type: 'text', text: 'did tools/call' }]);
    await client.notification({ method: 'notifications/roots/list_changed' });
    await clientSide.send({ jsonrpc: '2.0', id: 9, method: 7 } as unknown as JSONRPCMessage);
    await expect.poll(() => errors.length).toBe(1);

    expect(notified).toEqual(['notifications/roots/list_changed']); // initialized has the SDK's own handler
    expect(errors[0]).toContain('Unknown message type');
    // A handler the transport had before connecting still sees every message.
    expect(seen.map((m) => ('method' in m ? m.method : undefined))).toEqual([
      'initialize',
      'notifications/initialized',
      'tools/call',
      'notifications/roots/list_changed',
      7,
    ]);
    await client.close();
  });
});
