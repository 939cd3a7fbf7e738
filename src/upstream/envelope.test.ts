import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import {
  enveloped,
  META_CLIENT_CAPABILITIES,
  META_CLIENT_INFO,
  META_PROTOCOL_VERSION,
  META_SERVER_INFO,
  MODERN_VERSION,
  probeEra,
} from './envelope.js';

const capabilities = { sampling: {} };
const clientInfo = { name: 'mcp-orch', version: '1.2.3' };

describe('enveloped', () => {
  it("adds the 2026 envelope to a request's _meta, keeping its params and other _meta keys", () => {
    expect(enveloped('tools/call', { name: 'echo', _meta: { progressToken: 7 } }, capabilities, clientInfo)).toEqual({
      method: 'tools/call',
      params: {
        name: 'echo',
        _meta: {
          progressToken: 7,
          [META_PROTOCOL_VERSION]: '2026-07-28',
          [META_CLIENT_CAPABILITIES]: capabilities,
          [META_CLIENT_INFO]: clientInfo,
        },
      },
    });
  });

  it('envelopes a request without params', () => {
    expect(enveloped('server/discover', undefined, capabilities, clientInfo).params._meta).toEqual({
      [META_PROTOCOL_VERSION]: '2026-07-28',
      [META_CLIENT_CAPABILITIES]: capabilities,
      [META_CLIENT_INFO]: clientInfo,
    });
  });

  it("leaves a request that carries an envelope of its own (a 2026 client's) as it is", () => {
    const params = { name: 'echo', _meta: { [META_PROTOCOL_VERSION]: '2026-07-28', [META_CLIENT_INFO]: { name: 'own', version: '1' } } };
    const request = enveloped('tools/call', params, capabilities, clientInfo);
    expect(request).toEqual({ method: 'tools/call', params });
    expect(request.params).toBe(params);
  });
});

/** A server on the other end of an in-memory transport that answers each request with `answer`. */
async function serverAnswering(answer: (request: { id: unknown; method: string; params: Record<string, unknown> }) => JSONRPCMessage[]) {
  const [client, server] = InMemoryTransport.createLinkedPair();
  const seen: JSONRPCMessage[] = [];
  server.onmessage = (message) => {
    seen.push(message);
    for (const reply of answer(message as never)) void server.send(reply);
  };
  await server.start();
  return { client, server, seen };
}

describe('probeEra', () => {
  it('sends server/discover with the envelope and takes a server that lists 2026-07-28 for one of that era', async () => {
    const { client, seen } = await serverAnswering((request) => [
      { jsonrpc: '2.0', id: 'someone-else', result: { supportedVersions: ['2025-11-25'] } },
      {
        jsonrpc: '2.0',
        id: request.id as string,
        result: {
          supportedVersions: ['2025-11-25', MODERN_VERSION],
          capabilities: { tools: { listChanged: true } },
          serverInfo: { name: 'modern', version: '2' },
          instructions: 'be kind',
        },
      },
    ]);
    const probed = await probeEra(client, capabilities, clientInfo, 5_000);
    expect(probed).toEqual({
      era: '2026-07-28',
      discovered: { capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'modern', version: '2' }, instructions: 'be kind' },
    });
    expect(seen).toEqual([
      {
        jsonrpc: '2.0',
        id: 'mcp-orch-discover',
        method: 'server/discover',
        params: {
          _meta: { [META_PROTOCOL_VERSION]: MODERN_VERSION, [META_CLIENT_CAPABILITIES]: capabilities, [META_CLIENT_INFO]: clientInfo },
        },
      },
    ]);
    // The transport is handed over with its handlers cleared.
    expect(client.onmessage).toBeUndefined();
    expect(client.onclose).toBeUndefined();
  });

  it('reads serverInfo from _meta when the result has none, and defaults what the server left out', async () => {
    const { client } = await serverAnswering((request) => [
      {
        jsonrpc: '2.0',
        id: request.id as string,
        result: { supportedVersions: [MODERN_VERSION], instructions: 42, _meta: { [META_SERVER_INFO]: { name: 'in-meta', version: '1' } } },
      },
    ]);
    expect(await probeEra(client, capabilities, clientInfo, 5_000)).toEqual({
      era: '2026-07-28',
      discovered: { capabilities: {}, serverInfo: { name: 'in-meta', version: '1' }, instructions: undefined },
    });
  });

  it('takes a server that does not list 2026-07-28, or answers with an error, for one of the initialize era', async () => {
    for (const reply of [
      { result: { supportedVersions: ['2025-11-25'] } },
      { result: { supportedVersions: '2026-07-28' } },
      { result: {} },
      { error: { code: -32601, message: 'Method not found' } },
    ]) {
      const { client } = await serverAnswering((request) => [{ jsonrpc: '2.0', id: request.id, ...reply } as JSONRPCMessage]);
      expect(await probeEra(client, capabilities, clientInfo, 5_000)).toEqual({ era: '2025-11-25', discovered: undefined });
    }
  });

  it('takes a silent server for one of the initialize era once the wait is over', async () => {
    const { client, seen } = await serverAnswering(() => []);
    expect(await probeEra(client, capabilities, clientInfo, 50)).toEqual({ era: '2025-11-25', discovered: undefined });
    expect(seen).toHaveLength(1);
  });

  it('gives up at once when the transport closes, or cannot send', async () => {
    const { client, server, seen } = await serverAnswering(() => []);
    const probing = probeEra(client, capabilities, clientInfo, 60_000);
    await expect.poll(() => seen.length).toBe(1); // sent: only the close can end the wait
    await server.close();
    expect(await probing).toEqual({ era: '2025-11-25', discovered: undefined });

    const [lone] = InMemoryTransport.createLinkedPair(); // closed: its send throws
    await lone.close();
    expect(await probeEra(lone, capabilities, clientInfo, 60_000)).toEqual({ era: '2025-11-25', discovered: undefined });
  });
});
