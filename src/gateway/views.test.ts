/**
 * An endpoint before any session: the views the gateway keeps for it (a server's only while the
 * server is in the pool, so that a removed server's endpoint is refused from the path again), who may
 * open a session on it, and what a request without a session is told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { localPrincipal, type Principal } from '../auth/policy.js';
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

  const post = (spec: ViewSpec, body: unknown, principal: Principal = connection.principal) =>
    running.gateway.streamable(
      new Request('http://127.0.0.1/mcp', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      }),
      spec,
      body,
      { ...connection, principal },
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

  it('refuses a session on a server the key does not reach, before anything starts, and lets a viewer open one', async () => {
    const sessions = running.gateway.sessionCounts()['streamable-http'];
    const narrowed: Principal = { kind: 'key', project: 'default', role: 'member', servers: ['other'], readOnly: false };
    const refused = await post(echo, initialize, narrowed);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({
      id: 0,
      error: {
        message:
          'this key reaches only "other", not "echo" (create a key that includes it: mcp-orch keys create --project default --servers other,echo)',
        data: { orchCode: 'FORBIDDEN' },
      },
    });
    expect(running.gateway.sessionCounts()['streamable-http']).toBe(sessions);

    // A session is opened to list and call: a viewer, who may list, gets one.
    const viewer: Principal = { kind: 'key', project: 'default', role: 'viewer', servers: null, readOnly: false };
    const opened = await post(echo, initialize, viewer);
    expect(opened.status).toBe(200);
    expect(opened.headers.get('mcp-session-id')).toBeTruthy();
  });

  it('tells a request without a session to start with initialize, and an initialize batched with more that it must come alone', async () => {
    const before = running.gateway.sessionCounts()['streamable-http'];
    for (const body of [listTools, [listTools], null]) {
      const response = await post(echo, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as Refusal).error).toMatchObject({
        message: 'Bad Request: Mcp-Session-Id header is required (start with an initialize request; its response carries the session id)',
        data: { orchCode: 'MISSING_SESSION' },
      });
    }
    const batched = await post(echo, [{ jsonrpc: '2.0', method: 'notifications/initialized' }, initialize]);
    expect(batched.status).toBe(400);
    expect(((await batched.json()) as Refusal).error.message).toBe('Invalid Request: Only one initialization request is allowed');
    expect(running.gateway.sessionCounts()['streamable-http']).toBe(before);
  });

  it('gives back the quota slot of a WebSocket session it refuses', async () => {
    const small = await startTestGateway({ limits: { sessionsPerClient: 1 } });
    try {
      const address = '10.0.0.9';
      const narrowed: Principal = { kind: 'key', project: 'default', role: 'member', servers: ['other'], readOnly: false };
      await expect(small.gateway.openWebSocket(echo, { address, principal: narrowed })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      // The one session this client may hold is still free.
      const opening = await small.gateway.openWebSocket(echo, { address, principal: connection.principal });
      opening.abandon();
    } finally {
      await small.close();
    }
  });
});
