/**
 * Everything a client can make the daemon hold is bounded (orch.limits): sessions, event streams,
 * requests in flight, batch length, and what a client that stops reading leaves queued. Past a
 * per-client limit the answer is 429, past a total one 503, each naming the limit; the daemon keeps
 * serving everyone else meanwhile.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';

const ACCEPT = 'application/json, text/event-stream';
const MODERN = '2026-07-28';
const PING = { jsonrpc: '2.0', id: 7, method: 'ping' };

function initialize(version = '2025-11-25', id = 1) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'limits', version: '0' } },
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: ACCEPT, ...headers },
    body: JSON.stringify(body),
  });
}

/** An initialized 2025 session: its id, and a POST bound to it. */
async function session(url: string, version = '2025-11-25') {
  const init = await post(url, initialize(version));
  expect(init.status).toBe(200);
  await init.text();
  const id = init.headers.get('mcp-session-id')!;
  const headers = { 'mcp-session-id': id, 'mcp-protocol-version': version };
  await (await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).text();
  return { id, send: (body: unknown) => post(url, body, headers), end: () => fetch(url, { method: 'DELETE', headers }) };
}

/** An initialized legacy SSE session: its stream read as it comes, and POSTs to the endpoint it names. */
async function legacySession(url: string) {
  const stream = await fetch(url, { headers: { accept: 'text/event-stream' } });
  expect(stream.status).toBe(200);
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const until = async <T>(find: () => T | undefined): Promise<T> => {
    for (;;) {
      const found = find();
      if (found !== undefined) return found;
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended early; it carried: ${text}`);
      text += value;
    }
  };
  const answered = (id: number) =>
    until(() =>
      [...text.matchAll(/^event: message\ndata: (.*)$/gm)]
        .map((match) => JSON.parse(match[1]!) as { id?: unknown; result?: unknown })
        .find((message) => message.id === id && message.result !== undefined),
    );
  const endpoint = new URL(await until(() => /^event: endpoint\ndata: (\S+)$/m.exec(text)?.[1]), url).href;
  const send = async (body: unknown) => (await post(endpoint, body)).status;
  expect(await send(initialize('2024-11-05'))).toBe(202);
  await answered(1);
  expect(await send({ jsonrpc: '2.0', method: 'notifications/initialized' })).toBe(202);
  return { send, answered, close: () => reader.cancel() };
}

function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.replace(/\D+/g, '')) * 1024;
}

async function healthMs(url: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/health`);
  await response.text();
  expect(response.status).toBe(200);
  return performance.now() - started;
}

describe('quotas', () => {
  let daemon: DaemonHandle;
  let mcp: string;

  beforeAll(async () => {
    daemon = await startDaemon({
      config: {
        mcpServers: { echo: fixtureServer('echo') },
        orch: { limits: { sessionsPerClient: 40, streamsPerClient: 12, inFlight: 3, batch: 5, streamBufferBytes: 65_536 } },
      },
    });
    mcp = `${daemon.url}/servers/echo/mcp`;
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it('bounds sessions per client under a flood of initializes, and keeps answering /health', async () => {
    const baseline = await healthMs(daemon.url);
    const before = rssBytes(daemon.process.pid!);
    const flood = await Promise.all(Array.from({ length: 400 }, () => post(mcp, initialize())));
    const statuses = flood.map((response) => response.status);
    const health = await healthMs(daemon.url);
    const refused = flood.find((response) => response.status === 429)!;
    const body = (await refused.json()) as { error: { message: string; data: { limit: string } } };
    await Promise.all(flood.filter((response) => response !== refused).map((response) => response.body?.cancel()));
    await Promise.all(
      flood
        .map((response) => response.headers.get('mcp-session-id'))
        .filter((id): id is string => id !== null)
        .map((id) => fetch(mcp, { method: 'DELETE', headers: { 'mcp-session-id': id } })),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(40);
    expect(statuses.filter((status) => status === 429)).toHaveLength(360);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(body.error.message).toContain('40 at most per client');
    expect(body.error.data.limit).toBe('sessionsPerClient');
    // Bounded memory: 360 refusals hold nothing.
    expect(rssBytes(daemon.process.pid!) - before).toBeLessThan(64 * 1024 * 1024);
    // /health stays as quick as it was (a bound relative to this machine, now).
    expect(health).toBeLessThan(Math.max(100, baseline * 20));
  });

  it('refuses long batches at once, and batches on revisions that dropped them', async () => {
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: `${id}` } } });
    const flood = Array.from({ length: 40_000 }, (_, i) => call(i));
    const started = performance.now();
    const long = await post(mcp, flood);
    expect(long.status).toBe(400);
    expect(((await long.json()) as { error: { message: string } }).error.message).toContain('a batch of 40000 messages; 5 at most');
    expect(performance.now() - started).toBeLessThan(5000);

    const modern = await session(mcp);
    const batched = await modern.send([call(1), call(2)]);
    expect(batched.status).toBe(400);
    expect(((await batched.json()) as { error: { message: string } }).error.message).toContain('not part of protocol 2025-11-25');
    await modern.end();

    const older = await session(mcp, '2025-03-26');
    const answered = await older.send([call(1), call(2), call(3)]);
    expect(answered.status).toBe(200);
    const replies = (await answered.json()) as { id: number; result: { content: { text: string }[] } }[];
    expect(replies.map((reply) => reply.result.content[0]!.text).sort()).toEqual(['1', '2', '3']);
    await older.end();
  });

  it('bounds the requests in flight on one session', async () => {
    const s = await session(mcp);
    const slow = (id: number) => s.send({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms: 3000 } } });
    const pending = [slow(1), slow(2), slow(3)];
    // Once the three are in flight, a fourth request of the session is refused.
    const refused = await waitFor(async () => {
      const probe = await s.send({ jsonrpc: '2.0', id: 90, method: 'tools/call', params: { name: 'slow_stats', arguments: {} } });
      if (probe.status === 429) return probe;
      await probe.text();
      return undefined;
    });
    const body = (await refused.json()) as { error: { message: string; data: { limit: string } } };
    expect(body.error.data.limit).toBe('inFlight');
    expect(body.error.message).toContain('3 at most');
    expect(refused.headers.get('retry-after')).toBe('1');
    await Promise.all((await Promise.all(pending)).map((response) => response.text()));
    const after = await s.send({ jsonrpc: '2.0', id: 91, method: 'tools/call', params: { name: 'echo', arguments: { text: 'again' } } });
    expect(after.status).toBe(200);
    await after.text();
    await s.end();
  });

  it('bounds the event streams one client holds open', async () => {
    const listen = (id: number) =>
      post(
        mcp,
        {
          jsonrpc: '2.0',
          id,
          method: 'subscriptions/listen',
          params: {
            notifications: { toolsListChanged: true },
            _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
          },
        },
        { 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
      );
    const open: Response[] = [];
    for (let id = 1; id <= 12; id++) {
      const response = await listen(id);
      expect(response.status).toBe(200);
      open.push(response);
    }
    const refused = await listen(13);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { data: { limit: string } } }).error.data.limit).toBe('streamsPerClient');
    await Promise.all(open.map((response) => response.body?.cancel()));
    // Each place is given back when its stream ends.
    await waitFor(async () => {
      const again = await listen(14);
      if (again.status !== 200) return false;
      await again.body?.cancel();
      return true;
    });
  });

  it('drops a stream whose client stopped reading instead of holding what it did not read', async () => {
    const s = await session(mcp);
    const before = rssBytes(daemon.process.pid!);
    // 64 MB of progress on a stream that this client never reads.
    const unread = await s.send({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'chatter', arguments: { count: 16_000, bytes: 4096 }, _meta: { progressToken: 'p' } },
    });
    expect(unread.headers.get('content-type')).toContain('text/event-stream');
    await waitFor(() => daemon.stderrLines.some((line) => line.includes('dropped an event stream whose client stopped reading')), {
      timeoutMs: 20_000,
    });
    expect(rssBytes(daemon.process.pid!) - before).toBeLessThan(48 * 1024 * 1024);
    await unread.body?.cancel().catch(() => undefined);
    await s.end();
  });
});

describe('idle sessions and listen streams', () => {
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo') }, orch: { sessionIdleSec: 1 } } });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  const opened = async (transport: string) => metricValue(await scrapeMetrics(daemon.url), 'mcp_orch_sessions_open', { transport });

  it('keeps a session whose client holds its stream open, on Streamable HTTP and legacy SSE, until the stream ends', async () => {
    const url = `${daemon.url}/servers/echo/mcp`;
    const held = await session(url);
    const listening = await fetch(url, {
      headers: { accept: 'text/event-stream', 'mcp-session-id': held.id, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(listening.status).toBe(200);
    const legacy = await legacySession(`${daemon.url}/servers/echo/sse`);
    // Opened after the others last sent anything: once it is swept, they were idle as long.
    const abandoned = await session(url);
    expect(await opened('streamable-http')).toBe(2);

    await waitFor(async () => (await opened('streamable-http')) === 1, { timeoutMs: 10_000 });
    expect((await abandoned.send(PING)).status).toBe(404);
    expect(await opened('sse')).toBe(1);
    expect((await held.send(PING)).status).toBe(200);
    expect(await legacy.send(PING)).toBe(202);
    await legacy.answered(PING.id);

    // The stream ends: the session is idle from then on, and swept.
    await listening.body!.cancel();
    await waitFor(async () => (await opened('streamable-http')) === 0, { timeoutMs: 10_000 });
    expect((await held.send(PING)).status).toBe(404);
    // A legacy SSE session is its stream: it ends with it.
    await legacy.close();
    await waitFor(async () => (await opened('sse')) === 0);
  });

  it('ends a listen stream once it is old: 2026-07-28 has no session that a stream could keep', async () => {
    const listen = await post(
      `${daemon.url}/mcp`,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'subscriptions/listen',
        params: {
          notifications: { toolsListChanged: true },
          _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} },
        },
      },
      { 'mcp-protocol-version': MODERN, 'mcp-method': 'subscriptions/listen' },
    );
    expect(listen.status).toBe(200);
    // The body ends by itself once swept: reading it to the end returns.
    expect(await listen.text()).toContain('notifications/subscriptions/acknowledged');
    const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: unknown[] };
    expect(servers).toHaveLength(1);
  });
});
