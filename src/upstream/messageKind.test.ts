import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolResultSchema,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
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
      { jsonrpc: '2.0', id: 1, method: 'x', params: null },
      { jsonrpc: '2.0', id: 1, method: 5, result: {} },
      { jsonrpc: '2.0', id: 1, result: null },
      { jsonrpc: '2.0', id: 1.5, error: { code: 1, message: 'm' } },
      { jsonrpc: '2.0', id: 1, error: null },
      { jsonrpc: '2.0', id: 1, error: { code: 1 } },
    ]) {
      expect(kindOf(message), JSON.stringify(message)).toBeUndefined();
    }
  });

  it('takes an error response with a string id, a null id or none at all', () => {
    for (const id of [{ id: 'a' }, { id: null }, {}]) {
      expect(kindOf({ jsonrpc: '2.0', ...id, error: { code: -32600, message: 'Invalid Request' } })).toBe('response');
    }
  });

  // Two differences are meant (the id null of an error below, and this one): params given as an array (by position, which MCP never uses) pass here,
  // so that the method's own schema refuses the request with an answer, where the SDK's dispatcher
  // would drop it unanswered.
  it('agrees with the SDK schemas on any envelope with one of method, result or error', () => {
    const member = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined });
    const id = member(
      fc.oneof(
        fc.constant(null),
        fc.integer(),
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.string({ maxLength: 2 }),
        fc.constant({}),
      ),
    );
    const body = fc.oneof(
      fc.record({ method: fc.oneof(fc.string({ maxLength: 3 }), fc.integer()), params: member(fc.constantFrom(null, {}, 'p')) }),
      fc.record({ result: fc.constantFrom(null, {}, 'r', 1) }),
      fc.record({
        error: fc.oneof(
          fc.constantFrom(null, 'e'),
          fc.record({
            code: member(fc.oneof(fc.integer(), fc.string({ maxLength: 2 }))),
            message: member(fc.oneof(fc.string(), fc.integer())),
          }),
        ),
      }),
      fc.constant({}),
    );
    const message = fc
      .record({ jsonrpc: member(fc.constantFrom('2.0', '1.0')), id, body })
      .map(({ jsonrpc, id, body }) => JSON.parse(JSON.stringify({ jsonrpc, id, ...body })) as unknown);
    const sdkKind = (value: unknown) => {
      if (isJSONRPCRequest(value)) return 'request';
      if (isJSONRPCNotification(value)) return 'notification';
      // JSON-RPC 2.0 answers a message it could not parse with an error of id null; the SDK's schema has no null id.
      const nullId = (value as { id?: unknown }).id === null && isJSONRPCErrorResponse({ ...(value as object), id: 0 });
      return isJSONRPCResultResponse(value) || isJSONRPCErrorResponse(value) || nullId ? 'response' : undefined;
    };
    fc.assert(
      fc.property(message, (value) => kindOf(value) === sdkKind(value)),
      { numRuns: 500 },
    );
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

  it('leaves the SDK its own dispatcher where Protocol lacks what it calls, and intercept still keeps its messages', async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = new Server({ name: 's', version: '1' }, { capabilities: { tools: {} } });
    server.fallbackRequestHandler = async (request) => ({ content: [{ type: 'text', text: `did ${request.method}` }] });
    const notified: string[] = [];
    server.fallbackNotificationHandler = async (notification) => void notified.push(notification.method);
    // As in an SDK version without it.
    Object.assign(server, { _onerror: undefined });
    const kept: string[] = [];
    const intercept = (message: JSONRPCMessage) => 'method' in message && message.method === 'mine' && kept.push(message.method) > 0;
    expect(await connectByKind(server, serverSide, undefined, intercept)).toBe(false);
    const client = new Client({ name: 'c', version: '1' }, { capabilities: { roots: { listChanged: true } } });
    expect(await connectByKind(Object.assign(client, { _onrequest: undefined }), clientSide, () => client.connect(clientSide))).toBe(false);

    const result = await client.request({ method: 'tools/call', params: { name: 'echo' } }, CallToolResultSchema);
    expect(result.content).toEqual([{ type: 'text', text: 'did tools/call' }]);
    await client.notification({ method: 'mine' });
    await client.notification({ method: 'notifications/roots/list_changed' });
    await expect.poll(() => notified).toEqual(['notifications/roots/list_changed']);
    expect(kept).toEqual(['mine']);
    await client.close();
  });
});
