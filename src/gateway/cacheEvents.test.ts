/**
 * The response cache beside a running server (an SDK server over Streamable HTTP in this process,
 * reached by a real Upstream in a real pool): which tools its annotations make cacheable with
 * "readOnly", and every pool event that drops answers or must leave them alone.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configuredUpstream } from '../../test/helpers/upstream.js';
import { localPrincipal } from '../auth/policy.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { ResponseCache } from './cache.js';
import type { Caller } from './caller.js';

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] });

/** Tools annotated every way "readOnly" must tell apart, and one that sends the notification it is given. */
function annotatedServer(): McpServer {
  const server = new McpServer({ name: 'annotated', version: '1.0.0' }, { capabilities: { logging: {}, resources: { subscribe: true } } });
  server.registerTool('lookup', { annotations: { readOnlyHint: true, idempotentHint: true } }, () => text('lookup'));
  server.registerTool('peek', { annotations: { readOnlyHint: true } }, () => text('peek'));
  server.registerTool('put', { annotations: { idempotentHint: true } }, () => text('put'));
  server.registerTool('plain', {}, () => text('plain'));
  server.registerTool(
    'announce',
    { description: 'Sends `notification` (method and params as given) within the call', inputSchema: { notification: z.looseObject({}) } },
    async ({ notification }, extra) => {
      await extra.sendNotification(notification as ServerNotification);
      return text('sent');
    },
  );
  return server;
}

/** Stateless Streamable HTTP: a server and transport of their own for each POST, as the SDK suggests. */
async function serveAnnotated(): Promise<{ http: Server; url: string }> {
  const http = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => void transport.close());
    void annotatedServer()
      .connect(transport)
      .then(() => transport.handleRequest(req, res));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return { http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp` };
}

const caller: Caller = {
  id: 'session-a',
  era: '2025-11-25',
  transport: 'streamable-http',
  endpoint: 'unified',
  principal: localPrincipal('a'),
};

describe('ResponseCache beside a running server', () => {
  const pool = new UpstreamPool();
  let http: Server;
  let upstream: Upstream;
  let cache: ResponseCache;
  const call = (name: string) => cache.slot(caller, upstream, 'tools/call', { name });
  const read = (uri: string) => cache.slot(caller, upstream, 'resources/read', { uri })!;
  const announce = async (notification: object): Promise<void> => {
    const heard = once(pool, 'notification');
    await upstream.request('tools/call', { name: 'announce', arguments: { notification } });
    await heard;
  };

  beforeAll(async () => {
    const served = await serveAnnotated();
    http = served.http;
    upstream = configuredUpstream(
      'annotated',
      { type: 'http', url: served.url, cache: { tools: 'readOnly', resources: true } },
      { logger: createLogger({ level: 'silent' }) },
    );
    pool.add(upstream);
    await upstream.start();
  });

  // A cache of each test's own, made inside the test, where mutation testing sees what it runs.
  beforeEach(() => {
    cache = new ResponseCache(pool, 1024 * 1024);
  });
  afterEach(() => cache.close());

  afterAll(async () => {
    await upstream.close();
    http.close();
  });

  it('keeps with "readOnly" the tools annotated both read-only and idempotent, and no others', () => {
    expect(call('lookup')).toBeDefined();
    for (const name of ['peek', 'put', 'plain', 'unlisted']) expect(call(name), name).toBeUndefined();
  });

  it('drops the server’s answers when its lists change', () => {
    call('lookup')!.keep(text('before'));
    expect(call('lookup')!.hit).toEqual(text('before'));
    pool.relist(upstream, 'tools');
    expect(call('lookup')!.hit).toBeUndefined();
  });

  it('drops the answer of the resource the server says was updated, and only that one', async () => {
    read('res://a').keep({ contents: [] });
    read('res://b').keep({ contents: [] });
    await announce({ method: 'notifications/resources/updated', params: { uri: 'res://a' } });
    expect(read('res://a').hit).toBeUndefined();
    expect(read('res://b').hit).toEqual({ contents: [] });
  });

  it('leaves answers, even one in flight, to other notifications, and lets the pool’s other listeners hear them', async () => {
    const inFlight = call('lookup')!;
    await announce({ method: 'notifications/message', params: { level: 'info', data: 'hello' } });
    inFlight.keep(text('kept'));
    expect(call('lookup')!.hit).toEqual(text('kept'));
    // An update that names no resource is malformed: it drops no resource's answer, and breaks nothing.
    read('res://kept').keep({ contents: [] });
    await announce({ method: 'notifications/resources/updated' });
    expect(read('res://kept').hit).toEqual({ contents: [] });
  });

  it('leaves nothing listening on the pool once closed', () => {
    const events = ['state', 'catalog', 'notification'] as const;
    const before = events.map((event) => pool.listenerCount(event));
    new ResponseCache(pool, 1024).close();
    expect(events.map((event) => pool.listenerCount(event))).toEqual(before);
  });

  // Last: the server stays stopped.
  it('drops the server’s answers when it stops', async () => {
    call('lookup')!.keep(text('from the running server'));
    await upstream.stop();
    expect(call('lookup')!.hit).toBeUndefined();
  });
});
