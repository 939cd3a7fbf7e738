/**
 * The 2026-07-28 front through the daemon in process: raw stateless POSTs (so that every header,
 * status and field can be checked) and the v2 SDK client, in front of two 2025 fixtures (echo,
 * sampling) and a server of the 2026 era only. Discovery, lists with cache hints, calls, the
 * envelope and header errors, progress on an event stream, input_required rounds for a 2025
 * server's sampling (and its refusal outside tools/call, prompts/get and resources/read) and of a
 * 2026 server's own, listen streams fed by the servers' list changes, the per-client bound of
 * requests in flight, and the audit record of a 2026 call.
 */
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, MODERN_VERSION as MODERN, type ModernClient } from '../../../test/helpers/clients.js';
import { fixtureServer } from '../../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../../test/helpers/inProcessDaemon.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { openStore } from '../../store/open.js';

const modernOnly = fileURLToPath(new URL('../../../test/fixtures/modern-only.mjs', import.meta.url));

const envelope = (capabilities: object = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': capabilities,
});

interface Reply {
  id?: unknown;
  result?: Record<string, unknown> & { requestState?: string; inputRequests?: Record<string, { method: string; params: unknown }> };
  error?: { code: number; message: string; data?: Record<string, unknown> };
}

interface Frame extends Reply {
  jsonrpc?: unknown;
  method?: string;
  params?: { progressToken?: unknown; progress?: number; total?: number };
}

/** The JSON-RPC messages of an event-stream answer, in order. */
const framesOf = async (response: Response): Promise<Frame[]> =>
  (await response.text())
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as Frame);

const textOf = (result: unknown): string => ((result as { content: { text?: string }[] }).content[0]?.text ?? '') as string;

describe('the 2026-07-28 front in process', () => {
  let running: InProcessDaemon;
  let nextId = 1;
  const clients: ModernClient[] = [];

  const raw = (path: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${running.url}${path}`, {
      method: 'POST',
      ...(signal ? { signal } : {}),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(typeof params.name === 'string' ? { 'mcp-name': params.name } : {}),
        ...(typeof params.uri === 'string' ? { 'mcp-name': params.uri } : {}),
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
    });
  const post = async (path: string, method: string, params: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const response = await raw(path, method, params, headers);
    return { status: response.status, headers: response.headers, json: (await response.json()) as Reply };
  };

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          echo: fixtureServer('echo'),
          sampling: fixtureServer('sampling'),
          modern: { command: process.execPath, args: [modernOnly] },
        },
        // Tight, so that one test can reach the per-client bound of 2026 requests in flight.
        orch: { limits: { inFlight: 2 } },
      },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await running.stop();
  });

  it('answers server/discover for the unified endpoint itself, without the session-only capabilities', async () => {
    const { status, json } = await post('/mcp', 'server/discover', { _meta: envelope() });
    expect(status).toBe(200);
    const result = json.result!;
    expect(result.supportedVersions).toEqual([MODERN]);
    expect(result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    expect((result._meta as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']!.name).toBe('mcp-orch');
    const capabilities = result.capabilities as Record<string, Record<string, unknown> | undefined>;
    expect(capabilities.logging).toBeUndefined();
    expect(capabilities.resources).toEqual({ listChanged: true });
    expect(capabilities.tools).toEqual({ listChanged: true });
    expect(result.instructions).toContain('## modern\nA server of the 2026-07-28 era only.');
  });

  it('answers server/discover of a 2025 server from its initialize, and passes a 2026 server through', async () => {
    const echo = (await post('/servers/echo/mcp', 'server/discover', { _meta: envelope() })).json.result!;
    expect((echo._meta as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']!.name).toBe('echo-fixture');
    expect((echo.capabilities as { resources: unknown }).resources).toEqual({ listChanged: true });
    const modern = (await post('/servers/modern/mcp', 'server/discover', { _meta: envelope() })).json.result!;
    expect((modern._meta as Record<string, { name: string }>)['io.modelcontextprotocol/serverInfo']!.name).toBe('modern-only');
    expect(modern.instructions).toBe('A server of the 2026-07-28 era only.');
  });

  it('lists namespaced tools with cache hints, and calls tools of both eras', async () => {
    const list = (await post('/mcp', 'tools/list', { _meta: envelope() })).json.result!;
    expect(list).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
    expect((list.tools as { name: string }[]).map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo__echo', 'sampling__ask_llm', 'modern__echo', 'modern__ask']),
    );
    const viaEcho = await post('/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'to 2025' }, _meta: envelope() });
    expect(viaEcho.json).toEqual({
      jsonrpc: '2.0',
      id: viaEcho.json.id,
      result: { content: [{ type: 'text', text: 'to 2025' }], resultType: 'complete' },
    });
    const viaModern = await post('/mcp', 'tools/call', { name: 'modern__echo', arguments: { text: 'to 2026' }, _meta: envelope() });
    expect(viaModern.json.result).toMatchObject({ content: [{ type: 'text', text: 'to 2026' }], resultType: 'complete' });
    const direct = await post('/servers/modern/mcp', 'tools/call', { name: 'echo', arguments: { text: 'direct' }, _meta: envelope() });
    expect(direct.json.result).toMatchObject({ content: [{ type: 'text', text: 'direct' }] });
    const read = await post('/mcp', 'resources/read', { uri: 'mcp-orch://echo/fixture://readme', _meta: envelope() });
    expect(read.json.result).toMatchObject({
      contents: [{ uri: 'mcp-orch://echo/fixture://readme', text: 'This is the echo fixture.' }],
      resultType: 'complete',
      ttlMs: 0,
    });
  });

  it('refuses bad requests with the spec’s codes and statuses, the id echoed', async () => {
    const mismatch = await post('/mcp', 'tools/list', { _meta: envelope() }, { 'mcp-method': 'prompts/list' });
    expect([mismatch.status, mismatch.json.error?.code]).toEqual([400, -32020]);
    expect(mismatch.json.id).toEqual(expect.any(Number));
    const noMeta = await post('/mcp', 'tools/list', {});
    expect([noMeta.status, noMeta.json.error?.code]).toEqual([400, -32602]);
    const v999 = await post(
      '/servers/echo/mcp',
      'tools/list',
      { _meta: { ...envelope(), 'io.modelcontextprotocol/protocolVersion': 'v999' } },
      { 'mcp-protocol-version': 'v999' },
    );
    expect([v999.status, v999.json.error?.code, v999.json.error?.data]).toEqual([400, -32022, { supported: [MODERN], requested: 'v999' }]);
    for (const method of ['ping', 'logging/setLevel', 'resources/subscribe']) {
      const removed = await post('/mcp', method, { _meta: envelope() });
      expect([removed.status, removed.json.error?.code, removed.json.error?.message]).toEqual([
        404,
        -32601,
        `Method not found: ${method} is not part of the ${MODERN} protocol`,
      ]);
    }
    const unknownTool = await post('/mcp', 'tools/call', { name: 'echo__nope', arguments: {}, _meta: envelope() });
    expect([unknownTool.status, unknownTool.json.error?.code]).toEqual([200, -32602]);
    const unknownResource = await post('/mcp', 'resources/read', { uri: 'fixture://readme', _meta: envelope() });
    expect(unknownResource.json.error?.code).toBe(-32602);
    const unknownMethod = await post('/mcp', 'nothing/here', { _meta: envelope() });
    expect([unknownMethod.status, unknownMethod.json.error?.code, unknownMethod.json.error?.message]).toEqual([
      404,
      -32601,
      'method not found: nothing/here',
    ]);
    const badBody = await fetch(`${running.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-protocol-version': MODERN },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'tools/list', params: { _meta: envelope() } }),
    });
    expect(badBody.status).toBe(400);
    expect(((await badBody.json()) as Reply).error?.message).toContain('expected a JSON-RPC 2.0 request with a string or number id');
  });

  it('streams progress before the result when asked for it, and answers JSON otherwise, Accept header or none', async () => {
    const response = await raw('/mcp', 'tools/call', {
      name: 'echo__slow',
      arguments: { ms: 40, steps: 2 },
      _meta: { ...envelope(), progressToken: 'tok' },
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const frames = await framesOf(response);
    expect(frames.filter((frame) => frame.method === 'notifications/progress').map((frame) => frame.params)).toEqual([
      expect.objectContaining({ progressToken: 'tok', progress: 1, total: 2 }),
      expect.objectContaining({ progressToken: 'tok', progress: 2, total: 2 }),
    ]);
    expect(frames.at(-1)!.result).toMatchObject({ content: [{ text: 'done after 2 steps' }], resultType: 'complete' });
    const plain = await raw(
      '/mcp',
      'tools/call',
      { name: 'echo__slow', arguments: { ms: 0, steps: 1 }, _meta: { ...envelope(), progressToken: 'tok' } },
      { accept: 'application/json' },
    );
    expect(plain.headers.get('content-type')).toContain('application/json');
    expect(((await plain.json()) as Reply).result).toMatchObject({ content: [{ text: 'done after 1 steps' }] });
    // No Accept header at all (fetch always sends one): JSON too.
    const bare = await new Promise<{ type: string | undefined; body: string }>((resolve, reject) => {
      const sent = httpRequest(
        `${running.url}/mcp`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'mcp-protocol-version': MODERN,
            'mcp-method': 'tools/call',
            'mcp-name': 'echo__slow',
          },
        },
        (answer) => {
          let body = '';
          answer.setEncoding('utf8');
          answer.on('data', (chunk: string) => (body += chunk));
          answer.on('end', () => resolve({ type: answer.headers['content-type'], body }));
        },
      );
      sent.on('error', reject);
      sent.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: nextId++,
          method: 'tools/call',
          params: { name: 'echo__slow', arguments: { ms: 0, steps: 1 }, _meta: { ...envelope(), progressToken: 'tok' } },
        }),
      );
    });
    expect(bare.type).toContain('application/json');
    expect((JSON.parse(bare.body) as Reply).result).toMatchObject({ content: [{ text: 'done after 1 steps' }] });
  });

  it('carries a 2025 server’s sampling to the v2 client as input_required, per server and unified', async () => {
    const sampled: string[] = [];
    const client = await connectModern(`${running.url}/mcp`, {
      sampling: (request) => {
        const first = request.params.messages[0]?.content;
        sampled.push(first && 'text' in first ? String(first.text) : '');
        return { role: 'assistant', model: 'v2', content: { type: 'text', text: 'from the 2026 client' } };
      },
    });
    clients.push(client);
    expect(textOf(await client.callTool({ name: 'sampling__ask_llm', arguments: { prompt: 'capital?' } }))).toBe('from the 2026 client');
    expect(sampled).toEqual(['capital?']);
  });

  it('refuses a forged, foreign or replayed requestState, and names a capability not declared', async () => {
    const call = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}, path = '/servers/sampling/mcp') =>
      post(path, 'tools/call', { name: 'ask_llm', arguments: { prompt: 'raw' }, ...extra, _meta: envelope({ sampling: {} }) }, headers);
    const first = await call();
    expect(first.json.result?.resultType).toBe('input_required');
    const state = first.json.result!.requestState!;
    const [key, request] = Object.entries(first.json.result!.inputRequests!)[0]!;
    expect(request.method).toBe('sampling/createMessage');
    const answer = { [key]: { role: 'assistant', model: 'raw', content: { type: 'text', text: 'raw answer' } } };
    const forged = await call({ requestState: `${state.split('.')[0]}.${'A'.repeat(43)}`, inputResponses: answer });
    expect([forged.json.error?.code, forged.json.error?.data?.reason]).toEqual([-32602, 'forged']);
    const foreign = await call({ requestState: state, inputResponses: answer }, { authorization: 'Bearer someone-else' });
    expect([foreign.json.error?.code, foreign.json.error?.data?.reason]).toEqual([-32602, 'foreign']);
    const done = await call({ requestState: state, inputResponses: answer });
    expect(done.json.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'raw answer' }] });
    const replayed = await call({ requestState: state, inputResponses: answer });
    expect([replayed.json.error?.code, replayed.json.error?.data?.reason]).toEqual([-32602, 'replayed']);

    const undeclared = await post('/servers/sampling/mcp', 'tools/call', {
      name: 'ask_user',
      arguments: { message: 'name?' },
      _meta: envelope({ sampling: {} }),
    });
    expect([undeclared.status, undeclared.json.error?.code]).toEqual([400, -32021]);
    expect(undeclared.json.error?.data).toEqual({ requiredCapabilities: { elicitation: { form: {} } } });
  });

  it('opens a listen stream that acknowledges what it agreed to and carries list changes', async () => {
    const response = await raw(
      '/mcp',
      'subscriptions/listen',
      { notifications: { toolsListChanged: true, promptsListChanged: false, resourcesListChanged: true, other: true }, _meta: envelope() },
      {},
    );
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const frames = () =>
      text
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map(
          (line) =>
            JSON.parse(line.slice(6)) as {
              id?: unknown;
              method: string;
              params: { notifications?: unknown; _meta: Record<string, unknown> };
            },
        );
    const readUntil = async (done: () => boolean) => {
      while (!done()) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error(`stream ended: ${text}`);
        text += decoder.decode(chunk.value, { stream: true });
      }
    };
    try {
      await readUntil(() => frames().length >= 1);
      const [ack] = frames();
      expect(ack!.method).toBe('notifications/subscriptions/acknowledged');
      expect(ack!.params.notifications).toEqual({ toolsListChanged: true, resourcesListChanged: true });
      const subscription = ack!.params._meta['io.modelcontextprotocol/subscriptionId'];
      expect(typeof subscription).toBe('number');
      const added = await post('/mcp', 'tools/call', { name: 'echo__add_tool', arguments: { name: 'listened' }, _meta: envelope() });
      expect(textOf(added.json.result)).toBe('added listened');
      await readUntil(() => frames().some((frame) => frame.method === 'notifications/tools/list_changed'));
      const changed = frames().find((frame) => frame.method === 'notifications/tools/list_changed')!;
      expect(changed.params._meta['io.modelcontextprotocol/subscriptionId']).toBe(subscription);
      expect(frames().some((frame) => frame.method === 'notifications/prompts/list_changed')).toBe(false);
    } finally {
      await post('/mcp', 'tools/call', { name: 'echo__remove_tool', arguments: { name: 'listened' }, _meta: envelope() });
      await reader.cancel();
    }
    await waitFor(() => running.daemon.gateway.quotas.held.streams === 0);
  });

  it('streams a 2026 server’s progress, per server and unified, every frame JSON-RPC 2.0, and ends a failed call with its error', async () => {
    const slow = (path: string, name: string) =>
      raw(path, 'tools/call', { name, arguments: { ms: 20, steps: 2 }, _meta: { ...envelope(), progressToken: 7 } });
    for (const [path, name] of [
      ['/servers/modern/mcp', 'slow'],
      ['/mcp', 'modern__slow'],
    ] as const) {
      const response = await slow(path, name);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const frames = await framesOf(response);
      expect(frames.map((frame) => frame.method ?? 'result')).toEqual(['notifications/progress', 'notifications/progress', 'result']);
      expect(frames.map((frame) => frame.params)).toEqual([
        { progressToken: 7, progress: 1, total: 2 },
        { progressToken: 7, progress: 2, total: 2 },
        undefined,
      ]);
      expect(frames.every((frame) => frame.jsonrpc === '2.0')).toBe(true);
      expect(frames.at(-1)).toMatchObject({ id: expect.any(Number), result: { content: [{ text: 'done after 2 steps' }] } });
    }
    // A 2026 client gets the 2026 code of an unknown resource (-32602, not the session era's -32002).
    const failed = await raw('/mcp', 'resources/read', { uri: 'fixture://nowhere', _meta: { ...envelope(), progressToken: 'lost' } });
    expect(failed.headers.get('content-type')).toContain('text/event-stream');
    const frames = await framesOf(failed);
    expect(frames).toHaveLength(1);
    expect(frames[0]).toMatchObject({ jsonrpc: '2.0', id: expect.any(Number), error: { code: -32602 } });
    expect(frames[0]!.error!.message).toContain('fixture://nowhere');
  });

  it('passes a 2026 server’s own answers through: its cache hints and errors on its endpoint, its input_required rounds unified', async () => {
    // The server says its list keeps for a minute; the gateway's own lists say 0.
    const own = (await post('/servers/modern/mcp', 'tools/list', { _meta: envelope() })).json.result!;
    expect([own.ttlMs, own.cacheScope]).toEqual([60_000, 'private']);
    expect((await post('/mcp', 'tools/list', { _meta: envelope() })).json.result!.ttlMs).toBe(0);
    // Its own error too, with the status its code calls for.
    const undeclared = await post('/servers/modern/mcp', 'tools/call', { name: 'ask', arguments: {}, _meta: envelope() });
    expect([undeclared.status, undeclared.json.error]).toEqual([
      400,
      { code: -32021, message: 'ask needs the elicitation capability', data: { requiredCapabilities: { elicitation: {} } } },
    ]);

    const ask = (extra: Record<string, unknown> = {}) =>
      post('/mcp', 'tools/call', { name: 'modern__ask', arguments: {}, ...extra, _meta: envelope({ elicitation: {} }) });
    const first = (await ask()).json.result!;
    expect(first.resultType).toBe('input_required');
    expect(first.requestState).toMatch(/^ask-state-/);
    expect(Object.keys(first.inputRequests!)).toEqual(['name']);
    const done = await ask({ requestState: first.requestState, inputResponses: { name: { action: 'accept', content: { name: 'Ada' } } } });
    expect(textOf(done.json.result)).toBe(`Hello, Ada! (state ${first.requestState})`);
  });

  it('refuses a 2025 server’s sampling outside tools/call, prompts/get and resources/read, naming the server', async () => {
    const completion = await post('/servers/sampling/mcp', 'completion/complete', {
      ref: { type: 'ref/resource', uri: 'fixture://anything' },
      argument: { name: 'q', value: 'complete me' },
      _meta: envelope({ sampling: {} }),
    });
    expect([completion.status, completion.json.error?.code]).toEqual([404, -32601]);
    expect(completion.json.error?.message).toBe(
      'mcp-orch: server "sampling" sent sampling/createMessage, which cannot reach a 2026-07-28 client here: ' +
        'input_required results are allowed only on tools/call, prompts/get and resources/read; call it from a 2025-11-25 session',
    );
  });

  it('refuses a requestState presented on another request than the one it was issued for', async () => {
    const first = await post('/servers/sampling/mcp', 'tools/call', {
      name: 'ask_llm',
      arguments: { prompt: 'for ask_llm' },
      _meta: envelope({ sampling: {} }),
    });
    const state = first.json.result!.requestState!;
    const elsewhere = await post('/servers/sampling/mcp', 'tools/call', {
      name: 'list_roots',
      arguments: {},
      requestState: state,
      _meta: envelope({ sampling: {}, roots: {} }),
    });
    expect([elsewhere.status, elsewhere.json.error?.code, elsewhere.json.error?.data]).toEqual([200, -32602, { reason: 'mismatched' }]);
    expect(elsewhere.json.error?.message).toContain('belongs to another request than tools/call sampling list_roots');
    // Refused before it was spent: the call it belongs to still finishes with it.
    const [key] = Object.keys(first.json.result!.inputRequests!);
    const done = await post('/servers/sampling/mcp', 'tools/call', {
      name: 'ask_llm',
      arguments: { prompt: 'for ask_llm' },
      requestState: state,
      inputResponses: { [key!]: { role: 'assistant', model: 'm', content: { type: 'text', text: 'answered' } } },
      _meta: envelope({ sampling: {} }),
    });
    expect(textOf(done.json.result)).toBe('answered');
  });

  it('records a 2026 call in the audit log with its era and transport', async () => {
    await post('/mcp', 'tools/call', { name: 'echo__echo', arguments: { text: 'audited' }, _meta: envelope() });
    const store = openStore(running.dataDir);
    try {
      const row = await waitFor(() =>
        store.audit.query({ type: 'tools/call', server: 'echo' }).find((each) => each.era === MODERN && each.name === 'echo'),
      );
      expect([row.transport, row.outcome]).toEqual(['streamable-http', 'ok']);
    } finally {
      store.close();
    }
  });

  it('holds a place per 2026 request in flight, refuses one past orch.limits.inFlight, and gives each back', async () => {
    const aborts = [new AbortController(), new AbortController()];
    const holds = aborts.map((abort) =>
      raw('/servers/sampling/mcp', 'tools/call', { name: 'hold', arguments: {}, _meta: envelope() }, {}, abort.signal).catch(
        () => undefined,
      ),
    );
    await waitFor(() => running.daemon.gateway.quotas.held.requests === 2);
    const refused = await post('/mcp', 'tools/list', { _meta: envelope() });
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '1']);
    expect(refused.json.error).toEqual({
      code: -32000,
      message: 'too many requests in flight from 127.0.0.1: 2 at most per client (close some first, or raise orch.limits.inFlight)',
      data: { orchCode: 'RATE_LIMITED', limit: 'inFlight', max: 2 },
    });
    for (const abort of aborts) abort.abort();
    await Promise.all(holds);
    await waitFor(() => running.daemon.gateway.quotas.held.requests === 0);
    const released = await post('/servers/sampling/mcp', 'tools/call', { name: 'release', arguments: {}, _meta: envelope() });
    expect(textOf(released.json.result)).toBe('2');
  });
});
