/**
 * Calls in flight when the ground moves: a restart, a reload that changes the servers, and SIGTERM,
 * each while several clients wait on a slow call and one on an elicitation its user never answers.
 * Every call ends at once with an error naming its server (the calls would otherwise outlast the
 * test), the daemon exits 0 and leaves no process behind. Then idle sessions: an abandoned one is
 * closed (404, gone from the metrics) while one whose call is still running is kept.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { metricValue, scrapeMetrics } from '../helpers/metrics.js';
import { processRunning } from '../helpers/process.js';

const textOf = (result: unknown): string =>
  (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');

const config = (generation: string) => ({
  mcpServers: {
    echo: fixtureServer('echo', { FIXTURE_ID: `echo-${generation}` }),
    llm: fixtureServer('sampling', { FIXTURE_ID: `llm-${generation}` }),
  },
});

interface Row {
  name: string;
  state: string;
  pid: number | null;
}

async function pids(daemon: DaemonHandle): Promise<Record<string, number>> {
  const running = await waitFor(async () => {
    const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: Row[] };
    return servers.every((s) => s.state === 'running' && s.pid !== null) ? servers : undefined;
  });
  return Object.fromEntries(running.map((s) => [s.name, s.pid!]));
}

/** Longer than a test may run: only the daemon's own handling can end these calls in time. */
const FOREVER = 120_000;

/**
 * Two clients (unified and per server) each in a slow call on echo, and a third waiting on an
 * elicitation from llm that its user never answers. Resolves once all three are in flight at the
 * servers, with `outcomes`: each call's error message (or its result, which fails the test).
 */
async function callsInFlight(daemon: DaemonHandle, clients: Client[]) {
  let asked = false;
  const [unified, perServer, asking] = await Promise.all([
    connectStreamable(`${daemon.url}/mcp`),
    connectStreamable(`${daemon.url}/servers/echo/mcp`),
    connectStreamable(`${daemon.url}/servers/llm/mcp`, {
      elicitation: () => {
        asked = true;
        return new Promise(() => undefined);
      },
    }),
  ]);
  clients.push(unified, perServer, asking);
  const stats = async () => ((await perServer.callTool({ name: 'slow_stats' })).structuredContent as { started: number }).started;
  const started = await stats();
  const settle = (call: Promise<unknown>, server: string) =>
    call.then(
      (result) => ({ server, text: `no error: ${JSON.stringify(result)}` }),
      (error: unknown) => ({ server, text: (error as Error).message }),
    );
  const options = { timeout: FOREVER };
  const outcomes = Promise.all([
    settle(unified.callTool({ name: 'echo__slow', arguments: { ms: FOREVER, steps: 1 } }, undefined, options), 'echo'),
    settle(perServer.callTool({ name: 'slow', arguments: { ms: FOREVER, steps: 1 } }, undefined, options), 'echo'),
    settle(asking.callTool({ name: 'ask_user', arguments: { message: 'Who are you?' } }, undefined, options), 'llm'),
  ]);
  await waitFor(async () => (await stats()) === started + 2 && asked);
  return { outcomes, unified };
}

/** Each call failed, and its error names the server it was in. */
function expectEachNamesItsServer(outcomes: Array<{ server: string; text: string }>): void {
  for (const { server, text } of outcomes) {
    expect(text).not.toMatch(/^no error/);
    expect(text).toContain(`"${server}"`);
    expect(text).not.toMatch(/timed? ?out/i);
  }
}

/** The daemon and clients of the running test, ended after it whatever happened. */
let daemon: DaemonHandle | undefined;
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await daemon?.stop();
  daemon = undefined;
});

describe('calls in flight', () => {
  it('end with an error naming the server when it restarts, and the sessions carry on', async () => {
    daemon = await startDaemon({ config: config('1') });
    const before = await pids(daemon);
    const { outcomes, unified } = await callsInFlight(daemon, clients);
    const restarts = await Promise.all(['echo', 'llm'].map((name) => daemon!.api(`/api/servers/${name}/restart`, { method: 'POST' })));
    expect(restarts.map((r) => r.status)).toEqual([200, 200]);
    expectEachNamesItsServer(await outcomes);
    const after = await pids(daemon);
    for (const name of ['echo', 'llm']) {
      expect(after[name]).not.toBe(before[name]);
      expect(processRunning(before[name]!)).toBe(false);
    }
    expect(textOf(await unified.callTool({ name: 'echo__echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it('end with an error naming the server when a reload changes it, and the sessions carry on', async () => {
    daemon = await startDaemon({ config: config('1') });
    const before = await pids(daemon);
    const { outcomes, unified } = await callsInFlight(daemon, clients);
    await daemon.writeConfig(config('2'));
    expectEachNamesItsServer(await outcomes);
    await waitFor(async () => textOf(await unified.callTool({ name: 'echo__whoami' })) === 'echo-2', { timeoutMs: 10_000 });
    for (const pid of Object.values(before)) expect(processRunning(pid)).toBe(false);
  });

  it('end with an error naming the server on SIGTERM; the daemon exits 0 and leaves no process', async () => {
    daemon = await startDaemon({ config: config('1') });
    const before = await pids(daemon);
    const { outcomes } = await callsInFlight(daemon, clients);
    const exited = new Promise<[number | null, string | null]>((resolve) =>
      daemon!.process.once('exit', (code, signal) => resolve([code, signal])),
    );
    daemon.process.kill('SIGTERM');
    expectEachNamesItsServer(await outcomes);
    expect(await exited).toEqual([0, null]);
    await waitFor(() => Object.values(before).every((pid) => !processRunning(pid)), { timeoutMs: 5000 });
  });
});

describe('a call cancelled while its sampling request is pending', () => {
  it('ends at once for its client, and the next caller’s sampling is tied to that caller', async () => {
    daemon = await startDaemon({ config: config('1') });
    const client = await connectStreamable(`${daemon.url}/servers/llm/mcp`, { capabilities: { sampling: {} } });
    const next = await connectStreamable(`${daemon.url}/servers/llm/mcp`, {
      sampling: () => ({ role: 'assistant', model: 'next', content: { type: 'text', text: 'from the next caller' } }),
    });
    clients.push(client, next);
    let asked = false;
    client.setRequestHandler(CreateMessageRequestSchema, () => {
      asked = true;
      return new Promise(() => undefined); // the user never answers
    });
    const abort = new AbortController();
    const call = client.callTool({ name: 'ask_llm', arguments: { prompt: 'never answered' } }, undefined, {
      signal: abort.signal,
      timeout: FOREVER,
    });
    await waitFor(() => asked);
    abort.abort('the client gave up');
    await expect(call).rejects.toThrow();
    // The cancelled call no longer counts as in flight: the server's next sampling has one caller to go to.
    // (The SDK server does not withdraw the request it sent for the cancelled call, directly or here.)
    expect(textOf(await next.callTool({ name: 'ask_llm', arguments: { prompt: 'who answers?' } }))).toBe('from the next caller');
    expect(textOf(await client.callTool({ name: 'pid' }))).toMatch(/^\d+$/);
  });
});

describe('idle sessions', () => {
  it('closes an abandoned session (404, gone from the metrics) and keeps one whose call is still running', async () => {
    const idle = await startDaemon({ config: { ...config('1'), orch: { sessionIdleSec: 1 } } });
    daemon = idle;
    const url = (path: string) => `${idle.url}${path}`;
    const busy = await connectStreamable(url('/servers/llm/mcp'));
    const keeper = await connectStreamable(url('/servers/llm/mcp'));
    clients.push(busy, keeper);
    const held = busy.callTool({ name: 'hold' }, undefined, { timeout: FOREVER });
    await waitFor(async () => textOf(await keeper.callTool({ name: 'held' })) === '1');
    await keeper.close(); // its session stays until it is idle, like the abandoned one

    // Opened after the busy session's last request: once it is swept, the busy one was idle as long.
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await fetch(url('/servers/echo/mcp'), {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'gone', version: '0' } },
      }),
    });
    expect(init.status).toBe(200);
    const abandoned = init.headers.get('mcp-session-id')!;
    await init.body?.cancel();
    const open = async () => metricValue(await scrapeMetrics(idle.url), 'mcp_orch_sessions_open', { transport: 'streamable-http' });
    expect(await open()).toBe(3);

    // Polled from the outside (the metrics), since any request on the abandoned session would renew it.
    await waitFor(async () => (await open()) === 1, { timeoutMs: 10_000 });
    const late = await fetch(url('/servers/echo/mcp'), {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': abandoned, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(late.status).toBe(404);

    // The busy session is still there, its call still running: another client ends it.
    const releaser = await connectStreamable(url('/servers/llm/mcp'));
    clients.push(releaser);
    expect(textOf(await releaser.callTool({ name: 'release' }))).toBe('1');
    expect(textOf(await held)).toBe('released');
    expect(Number(textOf(await busy.callTool({ name: 'pid' })))).toBeGreaterThan(0);
  });
});
