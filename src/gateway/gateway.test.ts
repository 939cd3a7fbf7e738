/**
 * The gateway in process: web-standard Requests in, Responses out, against a real echo server as
 * its upstream and no HTTP server or CLI in between. Sessions, the 2026 front, both views and the
 * routing from the path are covered here; test/e2e covers the same through the daemon.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.js';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal } from '../auth/policy.js';
import type { RequestRecord } from './forward.js';
import type { Gateway } from './gateway.js';
import type { ViewSpec } from './view.js';

const MODERN = '2026-07-28';
const ENVELOPE = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };

function request(body: unknown, headers: Record<string, string> = {}, method = 'POST'): Request {
  return new Request('http://127.0.0.1/mcp', {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    ...(method === 'POST' ? { body: JSON.stringify(body) } : {}),
  });
}

const initialize = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

describe('Gateway', () => {
  const records: RequestRecord[] = [];
  const principal = localPrincipal('default');
  let running: TestGateway;
  let gateway: Gateway;

  const send = (spec: ViewSpec, body: unknown, headers: Record<string, string> = {}) =>
    gateway.streamable(request(body, headers), spec, body, { address: '10.0.0.1', principal });
  const open = async (spec: ViewSpec) => {
    const init = await send(spec, initialize);
    expect(init.status).toBe(200);
    const id = init.headers.get('mcp-session-id')!;
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
    expect((await send(spec, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
    return (body: unknown) => send(spec, body, headers);
  };

  beforeAll(async () => {
    running = await startTestGateway({ observers: [{ requestFinished: (record) => records.push(record) }] });
    gateway = running.gateway;
  });
  afterAll(() => running.close());

  it('serves a 2025 session per server and unified, with names as each view shows them', async () => {
    const perServer = await open({ kind: 'server', server: 'echo' });
    const call = await perServer({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    expect(await call.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'hi' }] } });
    const unified = await open({ kind: 'unified' });
    const list = (await (await unified({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).json()) as {
      result: { tools: { name: string }[] };
    };
    expect(list.result.tools.map((t) => t.name)).toContain('echo__echo');
    const viaUnified = await unified({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'echo__add', arguments: { a: 1, b: 2 } },
    });
    expect(((await viaUnified.json()) as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({ sum: 3 });
  });

  it('reports every request with its caller to the observers', async () => {
    records.length = 0;
    const session = await open({ kind: 'server', server: 'echo' });
    await (await session({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'fail', arguments: {} } })).text();
    await (await session({ jsonrpc: '2.0', id: 2, method: 'tools/list' })).text();
    expect(
      records.map(({ server, method, name, outcome, caller }) => ({
        server,
        method,
        name,
        outcome,
        era: caller.era,
        address: caller.address,
      })),
    ).toEqual([
      { server: 'echo', method: 'tools/call', name: 'fail', outcome: 'error', era: '2025-11-25', address: '10.0.0.1' },
      { server: undefined, method: 'tools/list', name: undefined, outcome: 'ok', era: '2025-11-25', address: '10.0.0.1' },
    ]);
    expect(records[0]!.caller.client).toEqual({ name: 't', version: '1' });
  });

  it('answers a 2026 request statelessly on the same path', async () => {
    const body = {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'echo__echo', arguments: { text: 'now' }, _meta: ENVELOPE },
    };
    const response = await send({ kind: 'unified' }, body, {
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'echo__echo',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 9,
      result: { content: [{ type: 'text', text: 'now' }], resultType: 'complete' },
    });
  });

  describe('REST calls', () => {
    const rest = (tool: string, args: unknown, who = principal) =>
      gateway.callTool({ address: '10.0.0.2', principal: who }, 'echo', tool, args, new AbortController().signal);

    it("answers the tool's result, an isError result too, and reports the call with transport rest", async () => {
      records.length = 0;
      expect(await rest('add', { a: 2, b: 3 })).toMatchObject({ structuredContent: { sum: 5 } });
      expect(await rest('fail', {})).toMatchObject({ isError: true });
      expect(
        records.map(({ server, method, name, outcome, caller }) => [server, method, name, outcome, caller.transport, caller.era]),
      ).toEqual([
        ['echo', 'tools/call', 'add', 'ok', 'rest', null],
        ['echo', 'tools/call', 'fail', 'error', 'rest', null],
      ]);
      expect(records[0]!.caller.address).toBe('10.0.0.2');
    });

    it('refuses an unknown tool (404), arguments against the schema (400 naming each field) and a body that is no object', async () => {
      records.length = 0;
      await expect(rest('nope', {})).rejects.toMatchObject({ code: 'UNKNOWN_TOOL', message: 'server "echo" has no tool "nope"' });
      await expect(rest('add', { a: 'one' })).rejects.toMatchObject({
        code: 'INVALID_PARAMS',
        message: 'arguments of "add" do not match its input schema: b: is required; a: must be number',
        data: { fields: ['b: is required', 'a: must be number'] },
      });
      await expect(rest('add', [1, 2])).rejects.toMatchObject({ code: 'INVALID_PARAMS', message: expect.stringContaining('JSON object') });
      // Refused on the forwarding path, after the rate limit and the access check: audited as errors.
      expect(records.map((r) => [r.name, r.outcome])).toEqual([
        ['nope', 'error'],
        ['add', 'error'],
      ]);
    });

    it('reports each refusal by what refused it, with the arguments as sent and the time it took', async () => {
      records.length = 0;
      const limited = {
        ...principal,
        limits: { perKey: { requestsPerMinute: 1, burst: 1 }, perProject: { requestsPerMinute: 1, burst: 1 } },
      };
      const before = performance.now();
      await expect(rest('echo', { text: 'x' }, { ...principal, role: 'viewer' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(await rest('echo', { text: 'once' }, limited)).toMatchObject({ content: [{ type: 'text', text: 'once' }] });
      await expect(rest('echo', { text: 'twice' }, limited)).rejects.toMatchObject({ code: 'RATE_LIMITED' });
      const elapsed = performance.now() - before;
      expect(records.map((r) => [r.outcome, r.server, r.arguments, r.error === undefined])).toEqual([
        ['denied', 'echo', { text: 'x' }, false],
        ['ok', 'echo', { text: 'once' }, true],
        ['rate-limited', 'echo', { text: 'twice' }, false],
      ]);
      expect(records[2]!.error).toContain('rate limit');
      for (const record of records) expect(record.durationMs).toBeLessThanOrEqual(elapsed);
    });

    it('checks the role on the forwarding path: a viewer may not call', async () => {
      await expect(rest('echo', { text: 'x' }, { ...principal, role: 'viewer' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    });
  });

  it('finds an unknown server from the path first, whatever the body says', async () => {
    for (const body of [initialize, { jsonrpc: '2.0', id: 5, method: 'tools/list' }]) {
      const response = await send({ kind: 'server', server: 'nope' }, body);
      expect(response.status).toBe(404);
      const reply = (await response.json()) as { error: { message: string } };
      expect(reply.error.message).toContain('unknown server "nope"');
      expect(reply.error.message).toContain('configured servers: echo');
    }
  });

  it('stops a call still running when its session ends: no answer, and the server hears the cancellation', async () => {
    const spec: ViewSpec = { kind: 'server', server: 'echo' };
    const observer = await open(spec);
    const stats = async () => {
      const reply = await observer({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow_stats', arguments: {} } });
      return ((await reply.json()) as { result: { structuredContent: { started: number; cancelled: number } } }).result.structuredContent;
    };
    const before = await stats();
    const init = await send(spec, initialize);
    const headers = { 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' };
    await send(spec, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers);
    const call = send(
      spec,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow', arguments: { ms: 60_000, steps: 1 } } },
      headers,
    );
    await waitFor(async () => (await stats()).started === before.started + 1);
    const ended = await gateway.streamable(request(undefined, headers, 'DELETE'), spec, undefined, { principal });
    expect(ended.status).toBe(200);
    const settled = await call;
    expect(settled.status).toBe(404);
    expect(((await settled.json()) as { error: { message: string } }).error.message).toContain('unknown session');
    await waitFor(async () => (await stats()).cancelled === before.cancelled + 1);
  });

  it('refuses a session id of another endpoint, and one that ended', async () => {
    const init = await send({ kind: 'server', server: 'echo' }, initialize);
    const id = init.headers.get('mcp-session-id')!;
    const elsewhere = await send({ kind: 'unified' }, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': id });
    expect(elsewhere.status).toBe(404);
    const ended = await gateway.streamable(
      request(undefined, { 'mcp-session-id': id }, 'DELETE'),
      { kind: 'server', server: 'echo' },
      undefined,
      { principal },
    );
    expect(ended.status).toBe(200);
    const after = await send({ kind: 'server', server: 'echo' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { 'mcp-session-id': id });
    expect(after.status).toBe(404);
  });
});
