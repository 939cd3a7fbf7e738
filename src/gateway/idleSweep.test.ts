/**
 * The sweep of idle HTTP sessions (orch.sessionIdleSec): a session without a request for that long
 * is closed by a sweep soon after, never before, and never while its SSE stream is open; 0 turns
 * the sweep off. The sweep's timer and the
 * clock are fake, so that hours pass at once; the sessions, the echo server and its process are real.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { localPrincipal } from '../auth/policy.js';

const spec = { kind: 'server', server: 'echo' } as const;
const connection = { address: '10.0.0.7', principal: localPrincipal('default') };

/** A gateway whose sweep runs on the fake clock; `closed` counts the sessions it has closed. */
async function sweeping(sessionIdleMs: number) {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
  let closed = 0;
  const running = await startTestGateway({
    sessionIdleMs,
    observers: [{ requestFinished: () => undefined, sessionClosed: () => void closed++ }],
  });
  return { running, closed: () => closed };
}

async function openSession(running: TestGateway): Promise<void> {
  const body = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'idle', version: '0' } },
  };
  const request = new Request('http://127.0.0.1/servers/echo/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify(body),
  });
  const response = await running.gateway.streamable(request, spec, body, connection);
  expect(response.status).toBe(200);
  expect(running.gateway.sessionCounts()['streamable-http']).toBe(1);
}

/** Lets the fake clock run `ms` on, then lets a session the sweep closed finish closing (a few turns, no I/O). */
async function pass(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
}

describe('the sweep of idle HTTP sessions', () => {
  let running: TestGateway | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await running?.close();
    running = undefined;
  });

  it('closes a session idle for sessionIdleSec at the next sweep, within half that again, and not before', async () => {
    const gateway = await sweeping(10_000);
    running = gateway.running;
    await openSession(running);
    await pass(9_999);
    expect(gateway.closed()).toBe(0);
    expect(running.gateway.sessionCounts()['streamable-http']).toBe(1);
    await pass(5_001);
    expect(gateway.closed()).toBe(1);
    expect(running.gateway.sessionCounts()['streamable-http']).toBe(0);
  });

  it('keeps a legacy SSE session while its stream is open, however long its client sends nothing', async () => {
    const gateway = await sweeping(10_000);
    running = gateway.running;
    const stream = await running.gateway.sseConnect(spec, '/servers/echo/messages', connection);
    expect(running.gateway.sessionCounts().sse).toBe(1);
    await pass(60_000);
    expect(gateway.closed()).toBe(0);
    expect(running.gateway.sessionCounts().sse).toBe(1);
    await stream.body!.cancel();
  });

  it('never closes an idle session when sessionIdleSec is 0', async () => {
    const gateway = await sweeping(0);
    running = gateway.running;
    await openSession(running);
    await pass(3_600_000);
    expect(gateway.closed()).toBe(0);
    expect(running.gateway.sessionCounts()['streamable-http']).toBe(1);
  });
});
