// Both protocol eras against one running daemon at the same time: the v2 client
// (@modelcontextprotocol/client) pinned to 2026-07-28 and the v1 client (@modelcontextprotocol/sdk)
// in 2025-11-25, on the same /mcp and per-server URLs, in front of two 2025 fixtures (echo,
// sampling) and the dual-era reference server. A 2025 server's sampling and elicitation reach the
// 2026 client as input_required rounds; forged and replayed requestState are refused.
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, connectStreamable, MODERN_VERSION as MODERN, type ModernClient } from '../helpers/clients.js';
import { referenceServer } from '../helpers/conformance.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const dualEraServer = referenceServer('conformance-server-2026.mjs');

const envelope = (capabilities: object = {}) => ({
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': capabilities,
});

interface TextResult {
  content: Array<{ type: string; text?: string }>;
}
const textOf = (result: unknown): string => ((result as TextResult).content[0]?.text ?? '') as string;

/** Answers the 2026 client gives to a server's input requests, recorded as they are asked. */
interface Answers {
  sampled: string[];
  elicited: string[];
}

function connectAnswering(url: string, answers: Answers): Promise<ModernClient> {
  return connectModern(url, {
    sampling: (request) => {
      const first = request.params.messages[0]?.content;
      answers.sampled.push(first && 'text' in first ? String(first.text) : '');
      return { role: 'assistant', model: 'v2-model', content: { type: 'text', text: 'Paris, says the 2026 client' } };
    },
    elicitation: (request) => {
      answers.elicited.push(request.params.message);
      return { action: 'accept', content: { name: 'Ada' } };
    },
  });
}

/** The parts of a JSON-RPC response the raw 2026 requests read. */
interface Reply {
  result?: Record<string, unknown> & { requestState?: string; inputRequests?: Record<string, unknown> };
  error?: { code: number; message: string; data?: { reason?: string } };
}

let nextId = 1;
async function post2026(
  url: string,
  method: string,
  params: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Reply }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': MODERN,
      'Mcp-Method': method,
      ...(typeof params.name === 'string' ? { 'Mcp-Name': params.name } : {}),
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }),
  });
  return { status: response.status, json: (await response.json()) as Reply };
}

describe('2026-07-28 and 2025-11-25 clients on one daemon', () => {
  let daemon: DaemonHandle;
  const answers: Answers = { sampled: [], elicited: [] };
  const modern: Record<string, ModernClient> = {};
  const legacy: Record<string, LegacyClient> = {};
  const url = (path: string): string => `${daemon.url}${path}`;

  beforeAll(async () => {
    daemon = await startDaemon({
      config: {
        mcpServers: {
          echo: fixtureServer('echo'),
          sampling: fixtureServer('sampling'),
          everything: { command: process.execPath, args: [dualEraServer] },
        },
      },
    });
    for (const path of ['/mcp', '/servers/echo/mcp', '/servers/sampling/mcp', '/servers/everything/mcp']) {
      [modern[path], legacy[path]] = await Promise.all([
        connectAnswering(url(path), answers),
        connectStreamable(url(path), {
          clientInfo: { name: 'v1-client', version: '1.0.0' },
          sampling: () => ({ role: 'assistant', model: 'v1-model', content: { type: 'text', text: 'Lyon, says the 2025 client' } }),
          elicitation: () => ({ action: 'accept', content: { name: 'Grace' } }),
        }),
      ]);
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...Object.values(modern), ...Object.values(legacy)].map((client) => client.close().catch(() => undefined)));
    await daemon?.stop();
  });

  it('negotiates each client in its own era on the same URLs', () => {
    for (const path of Object.keys(modern)) {
      expect(modern[path]!.getProtocolEra(), path).toBe('modern');
      expect(legacy[path]!.getServerVersion(), path).toBeDefined();
    }
    expect(modern['/mcp']!.getServerVersion()?.name).toBe('mcp-orch');
  });

  it('lists and calls tools in both eras at once, unified and per server', async () => {
    const [modernTools, legacyTools, modernEcho, legacyEcho, modernDirect, legacyDirect] = await Promise.all([
      modern['/mcp']!.listTools(),
      legacy['/mcp']!.listTools(),
      modern['/mcp']!.callTool({ name: 'echo__echo', arguments: { text: 'from 2026' } }),
      legacy['/mcp']!.callTool({ name: 'echo__echo', arguments: { text: 'from 2025' } }),
      modern['/servers/everything/mcp']!.callTool({ name: 'test_simple_text', arguments: {} }),
      legacy['/servers/everything/mcp']!.callTool({ name: 'test_simple_text', arguments: {} }),
    ]);
    const names = (list: { tools: Array<{ name: string }> }) => list.tools.map((tool) => tool.name);
    for (const list of [modernTools, legacyTools]) {
      expect(names(list)).toEqual(
        expect.arrayContaining(['echo__echo', 'sampling__ask_llm', 'sampling__ask_user', 'everything__test_simple_text']),
      );
    }
    expect(textOf(modernEcho)).toBe('from 2026');
    expect(textOf(legacyEcho)).toBe('from 2025');
    expect(textOf(modernDirect)).toBe(textOf(legacyDirect));
  });

  it('gets prompts and reads resources in both eras', async () => {
    const [modernPrompt, legacyPrompt] = await Promise.all([
      modern['/servers/echo/mcp']!.getPrompt({ name: 'greet', arguments: { name: 'Ada' } }),
      legacy['/mcp']!.getPrompt({ name: 'echo__greet', arguments: { name: 'Grace' } }),
    ]);
    expect(modernPrompt.messages[0]?.content).toEqual({ type: 'text', text: 'Hello, Ada!' });
    expect(legacyPrompt.messages[0]?.content).toEqual({ type: 'text', text: 'Hello, Grace!' });

    const unifiedReadme = (await legacy['/mcp']!.listResources()).resources.find((resource) => resource.name.endsWith('readme'))!.uri;
    const [modernList, modernRead, legacyRead, modernDirect] = await Promise.all([
      modern['/mcp']!.listResources(),
      modern['/mcp']!.readResource({ uri: unifiedReadme }),
      legacy['/mcp']!.readResource({ uri: unifiedReadme }),
      modern['/servers/echo/mcp']!.readResource({ uri: 'fixture://readme' }),
    ]);
    expect(modernList.resources.map((resource) => resource.uri)).toContain(unifiedReadme);
    for (const read of [modernRead, legacyRead, modernDirect]) {
      expect((read.contents[0] as { text: string }).text).toBe('This is the echo fixture.');
    }
  });

  it('relays progress to both eras', async () => {
    const seen: Record<string, number[]> = { modern: [], legacy: [] };
    const [modernSlow, legacySlow] = await Promise.all([
      modern['/mcp']!.callTool(
        { name: 'echo__slow', arguments: { ms: 300, steps: 3 } },
        { onprogress: (p) => seen.modern!.push(p.progress) },
      ),
      legacy['/servers/echo/mcp']!.callTool({ name: 'slow', arguments: { ms: 300, steps: 3 } }, undefined, {
        onprogress: (p) => seen.legacy!.push(p.progress),
      }),
    ]);
    expect(modernSlow.isError).toBeFalsy();
    expect(legacySlow.isError).toBeFalsy();
    expect(seen.modern).toEqual([1, 2, 3]);
    expect(seen.legacy).toEqual([1, 2, 3]);
  });

  it('carries a 2025 server sampling request to the 2026 client as input_required, and its answer back', async () => {
    const perServer = await modern['/servers/sampling/mcp']!.callTool({ name: 'ask_llm', arguments: { prompt: 'Capital of France?' } });
    expect(textOf(perServer)).toBe('Paris, says the 2026 client');
    const unified = await modern['/mcp']!.callTool({ name: 'sampling__ask_llm', arguments: { prompt: 'Again?' } });
    expect(textOf(unified)).toBe('Paris, says the 2026 client');
    expect(answers.sampled).toEqual(['Capital of France?', 'Again?']);
    // The 2025 client on the same server still gets a server->client request of its own.
    const legacyAnswer = await legacy['/servers/sampling/mcp']!.callTool({ name: 'ask_llm', arguments: { prompt: 'Capital?' } });
    expect(textOf(legacyAnswer)).toBe('Lyon, says the 2025 client');
  });

  it('carries a 2025 server elicitation to the 2026 client, next to a 2026 server asking the same client', async () => {
    const [fromLegacyServer, fromModernServer, legacyOwn] = await Promise.all([
      modern['/mcp']!.callTool({ name: 'sampling__ask_user', arguments: { message: 'Your name?' } }),
      modern['/servers/everything/mcp']!.callTool({ name: 'test_input_required_result_elicitation', arguments: {} }),
      legacy['/servers/everything/mcp']!.callTool({ name: 'test_simple_text', arguments: {} }),
    ]);
    expect(JSON.parse(textOf(fromLegacyServer))).toEqual({ action: 'accept', content: { name: 'Ada' } });
    expect(textOf(fromModernServer)).toBe('Hello, Ada!');
    expect(textOf(legacyOwn)).not.toBe('');
    expect(answers.elicited).toEqual(expect.arrayContaining(['Your name?', 'What is your name?']));
  });

  it('refuses a forged, a replayed and a foreign requestState with -32602 naming why', async () => {
    const endpoint = url('/servers/sampling/mcp');
    const caps = { sampling: {} };
    const call = (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      post2026(endpoint, 'tools/call', { name: 'ask_llm', arguments: { prompt: 'raw' }, ...extra, _meta: envelope(caps) }, headers);

    const first = await call();
    expect(first.json.result?.resultType).toBe('input_required');
    const state = first.json.result!.requestState!;
    const [key] = Object.keys(first.json.result!.inputRequests!);
    const answer = { [key!]: { role: 'assistant', model: 'raw', content: { type: 'text', text: 'raw answer' } } };

    const forged = await call({ requestState: `${state.split('.')[0]}.${'A'.repeat(43)}`, inputResponses: answer });
    expect([forged.json.error?.code, forged.json.error?.data?.reason]).toEqual([-32602, 'forged']);
    const foreign = await call({ requestState: state, inputResponses: answer }, { Authorization: 'Bearer someone-else' });
    expect([foreign.json.error?.code, foreign.json.error?.data?.reason]).toEqual([-32602, 'foreign']);
    const elsewhere = await post2026(url('/mcp'), 'tools/call', {
      name: 'sampling__ask_llm',
      arguments: { prompt: 'raw' },
      requestState: state,
      inputResponses: answer,
      _meta: envelope(caps),
    });
    expect([elsewhere.json.error?.code, elsewhere.json.error?.data?.reason]).toEqual([-32602, 'foreign']);

    const done = await call({ requestState: state, inputResponses: answer });
    expect(done.json.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'raw answer' }] });
    const replayed = await call({ requestState: state, inputResponses: answer });
    expect([replayed.json.error?.code, replayed.json.error?.data?.reason]).toEqual([-32602, 'replayed']);
    expect(replayed.json.error?.message).toContain('already used');
  });

  it('names the capability a 2026 client did not declare (-32021, HTTP 400)', async () => {
    const { status, json } = await post2026(url('/servers/sampling/mcp'), 'tools/call', {
      name: 'ask_user',
      arguments: { message: 'name?' },
      _meta: envelope({ sampling: {} }),
    });
    expect(status).toBe(400);
    expect(json.error?.code).toBe(-32021);
    expect(json.error?.data).toEqual({ requiredCapabilities: { elicitation: { form: {} } } });
    expect(json.error?.message).toContain('elicitation/create');
  });
});
