/**
 * The views the gateway keeps for its endpoints: a server's view is kept only while the server is in
 * the pool, so that the endpoint of a removed server is refused from the path again, and served again
 * once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { localPrincipal } from '../auth/policy.js';
import type { ViewSpec } from './view.js';

const echo: ViewSpec = { kind: 'server', server: 'echo' };
const connection = { address: '10.0.0.7', principal: localPrincipal('default') };
const listTools = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'views', version: '0' } },
};

type Refusal = { id: unknown; error: { message: string; data?: { orchCode?: string } } };

describe('the view of an endpoint', () => {
  let running: TestGateway;
  beforeAll(async () => {
    running = await startTestGateway();
  });
  afterAll(() => running?.close());

  const post = (spec: ViewSpec, body: unknown) =>
    running.gateway.streamable(
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      }),
      spec,
      body,
      connection,
    );

  it('refuses the endpoint of a server removed from the pool, though its view was kept, and serves it once the server is back', async () => {
    // The endpoint exists (its view is made and kept): a request without a session is refused for that.
    const kept = await post(echo, listTools);
    expect(kept.status).toBe(400);
    expect(((await kept.json()) as Refusal).error.data?.orchCode).toBe('MISSING_SESSION');

    const upstream = running.pool.remove('echo')!;
    try {
      const removed = await post(echo, listTools);
      expect(removed.status).toBe(404);
      expect(await removed.json()).toMatchObject({
        id: 1,
        error: { message: 'unknown server "echo" (no servers are configured)', data: { orchCode: 'UNKNOWN_SERVER' } },
      });
    } finally {
      running.pool.add(upstream);
    }

    const back = await post(echo, initialize);
    expect(back.status).toBe(200);
    expect(back.headers.get('mcp-session-id')).toBeTruthy();
  });
});
