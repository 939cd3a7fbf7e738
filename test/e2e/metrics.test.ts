// /metrics as Prometheus scrapes it: parsed from the text exposition format and checked by value
// after known traffic (calls, a tool error, a restart, an open session), not just for presence.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { metricValue as value, parseExposition, type Exposition } from '../helpers/metrics.js';

describe('/metrics', () => {
  let daemon: DaemonHandle;
  let client: Client;

  const scrape = async (): Promise<Exposition> => {
    const response = await fetch(`${daemon.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await response.text());
  };

  beforeAll(async () => {
    // Health checks (which also sample CPU/memory) are off: /metrics samples by itself at scrape time.
    daemon = await startDaemon({
      config: {
        mcpServers: { one: fixtureServer('echo'), two: fixtureServer('echo') },
        orch: { defaults: { health: { intervalSec: 0 } } },
      },
    });
    await waitFor(
      async () => {
        const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: { state: string }[] };
        return servers.length === 2 && servers.every((s) => s.state === 'running');
      },
      { timeoutMs: 15_000 },
    );
    client = await connectStreamable(`${daemon.url}/servers/one/mcp`);
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo', arguments: { text: `call ${i}` } });
    const failed = await client.callTool({ name: 'fail', arguments: {} });
    expect(failed.isError).toBe(true);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  it('counts calls by server, method and tool, with errors apart', async () => {
    const m = await scrape();
    expect(m.types.get('mcp_orch_requests_total')).toBe('counter');
    expect(m.types.get('mcp_orch_request_errors_total')).toBe('counter');
    expect(value(m, 'mcp_orch_requests_total', { server: 'one', method: 'tools/call', tool: 'echo' })).toBe(3);
    expect(value(m, 'mcp_orch_requests_total', { server: 'one', method: 'tools/call', tool: 'fail' })).toBe(1);
    expect(value(m, 'mcp_orch_request_errors_total', { server: 'one', method: 'tools/call', tool: 'fail' })).toBe(1);
    expect(value(m, 'mcp_orch_request_errors_total', { server: 'one', method: 'tools/call', tool: 'echo' })).toBeUndefined();
    expect(value(m, 'mcp_orch_requests_total', { server: 'two', method: 'tools/call', tool: 'echo' })).toBeUndefined();
  });

  it('times calls in a histogram by server and method', async () => {
    const m = await scrape();
    expect(m.types.get('mcp_orch_request_duration_seconds')).toBe('histogram');
    const labels = { server: 'one', method: 'tools/call' };
    expect(value(m, 'mcp_orch_request_duration_seconds_count', labels)).toBe(4);
    const sum = value(m, 'mcp_orch_request_duration_seconds_sum', labels)!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(10);
    expect(value(m, 'mcp_orch_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(4);
    // Buckets are cumulative: never decreasing towards +Inf.
    const buckets = m.samples
      .filter((s) => s.name === 'mcp_orch_request_duration_seconds_bucket' && s.labels.server === 'one' && s.labels.method === 'tools/call')
      .map((s) => s.value);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  });

  it('shows each server in exactly one state, and its restarts', async () => {
    const m = await scrape();
    expect(m.types.get('mcp_orch_server_state')).toBe('gauge');
    for (const server of ['one', 'two']) {
      const states = m.samples.filter((s) => s.name === 'mcp_orch_server_state' && s.labels.server === server);
      expect(states.length).toBe(8);
      expect(states.filter((s) => s.value === 1).map((s) => s.labels.state)).toEqual(['running']);
      expect(value(m, 'mcp_orch_server_restarts_total', { server })).toBe(0);
    }

    const restarted = await daemon.api('/api/servers/two/restart', { method: 'POST' });
    expect(restarted.status).toBe(200);
    const after = await scrape();
    expect(value(after, 'mcp_orch_server_restarts_total', { server: 'two' })).toBe(1);
    expect(value(after, 'mcp_orch_server_restarts_total', { server: 'one' })).toBe(0);
    expect(value(after, 'mcp_orch_server_state', { server: 'two', state: 'running' })).toBe(1);

    const stopped = await daemon.api('/api/servers/two/stop', { method: 'POST' });
    expect(stopped.status).toBe(200);
    const down = await scrape();
    expect(value(down, 'mcp_orch_server_state', { server: 'two', state: 'stopped' })).toBe(1);
    expect(value(down, 'mcp_orch_server_state', { server: 'two', state: 'running' })).toBe(0);
  });

  it('counts open sessions by transport', async () => {
    const m = await scrape();
    expect(value(m, 'mcp_orch_sessions_open', { transport: 'streamable-http' })).toBe(1);
    expect(value(m, 'mcp_orch_sessions_open', { transport: 'sse' })).toBe(0);
    const second = await connectStreamable(`${daemon.url}/mcp`);
    try {
      expect(value(await scrape(), 'mcp_orch_sessions_open', { transport: 'streamable-http' })).toBe(2);
      // Closing a Streamable HTTP client only drops its connection; DELETE ends the session.
      await (second.transport as StreamableHTTPClientTransport).terminateSession();
    } finally {
      await second.close();
    }
    await waitFor(async () => value(await scrape(), 'mcp_orch_sessions_open', { transport: 'streamable-http' }) === 1);
  });

  it('reports CPU and memory of each running server, and the daemon process metrics', async () => {
    const m = await scrape();
    expect(m.types.get('mcp_orch_server_cpu_percent')).toBe('gauge');
    expect(m.types.get('mcp_orch_server_memory_bytes')).toBe('gauge');
    // An MCP server in Node needs more than 10 MB and (here) less than 1 GB.
    expect(value(m, 'mcp_orch_server_memory_bytes', { server: 'one' })).toBeGreaterThan(10 * 1024 * 1024);
    expect(value(m, 'mcp_orch_server_memory_bytes', { server: 'one' })).toBeLessThan(1024 * 1024 * 1024);
    const cpu = value(m, 'mcp_orch_server_cpu_percent', { server: 'one' })!;
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThan(400);
    // A stopped server has no process to sample: no series rather than a stale one.
    expect(value(m, 'mcp_orch_server_memory_bytes', { server: 'two' })).toBeUndefined();
    expect(value(m, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    expect(value(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(m.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });
});

describe('/metrics labels under invented names', () => {
  let daemon: DaemonHandle;
  let client: Client;

  beforeAll(async () => {
    daemon = await startDaemon({
      config: { mcpServers: { one: fixtureServer('echo') }, orch: { defaults: { health: { intervalSec: 0 } } } },
    });
    client = await connectStreamable(`${daemon.url}/servers/one/mcp`);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  const scrapeText = async (): Promise<string> => (await fetch(`${daemon.url}/metrics`)).text();

  it('stay bounded: 200 invented methods and 200 invented tools become "other"', async () => {
    await client.callTool({ name: 'echo', arguments: { text: 'known' } });
    const before = await scrapeText();
    const invented = Array.from({ length: 200 }, (_, i) => `invented_${i}_${'x'.repeat(40)}`);
    for (let i = 0; i < invented.length; i += 20) {
      const names = invented.slice(i, i + 20);
      const settled = await Promise.allSettled([
        ...names.map((name) => client.request({ method: `${name}/call` }, ResultSchema)),
        ...names.map((name) => client.callTool({ name, arguments: {} })),
      ]);
      // The server refuses them all (unknown method, unknown tool); each was forwarded and counted.
      expect(settled.every((s) => s.status === 'rejected' || (s.value as { isError?: boolean }).isError === true)).toBe(true);
    }
    const after = await scrapeText();
    expect(after).not.toContain('invented_');
    // The few new series (method "other", tool "other") and their histogram, not 400 of them.
    expect(after.length - before.length).toBeLessThan(4096);

    const m = parseExposition(after);
    expect(value(m, 'mcp_orch_requests_total', { server: 'one', method: 'other', tool: '' })).toBe(200);
    expect(value(m, 'mcp_orch_requests_total', { server: 'one', method: 'tools/call', tool: 'other' })).toBe(200);
    expect(value(m, 'mcp_orch_requests_total', { server: 'one', method: 'tools/call', tool: 'echo' })).toBe(1);
    expect(m.samples.filter((s) => s.name === 'mcp_orch_requests_total').length).toBe(3);
  });
});
