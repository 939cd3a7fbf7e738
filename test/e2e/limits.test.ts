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

const ACCEPT = 'application/json, text/event-stream';
const MODERN = '2026-07-28';

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

describe('idle sessions and listen streams are swept', () => {
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo') }, orch: { sessionIdleSec: 1 } } });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it('closes a legacy SSE session that sends nothing, and ends an old listen stream', async () => {
    const sse = await fetch(`${daemon.url}/servers/echo/sse`, { headers: { accept: 'text/event-stream' } });
    expect(sse.status).toBe(200);
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
    // Both bodies end by themselves once swept: reading them to the end returns.
    const [sseText, listenText] = await Promise.all([sse.text(), listen.text()]);
    expect(sseText).toContain('event: endpoint');
    expect(listenText).toContain('notifications/subscriptions/acknowledged');
    const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: unknown[] };
    expect(servers).toHaveLength(1);
    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(/mcp_orch_sessions_open\{transport="sse"\} 0/);
  });
});
