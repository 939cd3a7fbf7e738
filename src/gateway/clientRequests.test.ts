/**
 * Server->client requests (sampling, elicitation, roots) through the daemon in process: each goes
 * back to the client whose call caused it, or is refused with why; a shared server gets its
 * configured roots, a server with isolation "session" asks each session for its own.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonClients, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}

const answering = (who: string, asked: string[]) => (request: CreateMessageRequest) => {
  const content = request.params.messages[0]?.content;
  asked.push(content && !Array.isArray(content) && content.type === 'text' ? content.text : '');
  return { role: 'assistant' as const, model: who, content: { type: 'text' as const, text: `from ${who}` } };
};

describe('server->client requests in process', () => {
  let running: InProcessDaemon;
  let rootsDir: string;
  const { connect, closeAll } = daemonClients(() => running.url);
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  beforeAll(async () => {
    rootsDir = await mkdtemp(join(tmpdir(), 'mcp-orch-roots-'));
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          llm: { ...fixtureServer('sampling'), roots: [rootsDir] },
          own: { ...fixtureServer('sampling'), isolation: 'session' },
        },
      },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await closeAll();
    await running.stop();
    await rm(rootsDir, { recursive: true, force: true });
  });

  it.each([false, true])('sends sampling and elicitation back to the calling client (legacy SSE: %s)', async (sse) => {
    const asked: string[] = [];
    const client = await connect('/servers/llm/' + (sse ? 'sse' : 'mcp'), {
      sampling: answering('A', asked),
      elicitation: () => ({ action: 'accept', content: { name: 'Ada' } }),
    });
    expect(textOf(await call(client, 'ask_llm', { prompt: 'question' }))).toBe('from A');
    expect(asked).toEqual(['question']);
    expect(JSON.parse(textOf(await call(client, 'ask_user', { message: 'Who?' })))).toEqual({ action: 'accept', content: { name: 'Ada' } });
  });

  it('gives each of two clients taking turns its own sampling answer, on unified too', async () => {
    const [a, b] = await Promise.all([
      connect('/mcp', { sampling: answering('A', []) }),
      connect('/mcp', { sampling: answering('B', []) }),
    ]);
    expect(textOf(await call(a, 'llm__ask_llm', { prompt: 'who?' }))).toBe('from A');
    expect(textOf(await call(b, 'llm__ask_llm', { prompt: 'who?' }))).toBe('from B');
  });

  it('refuses sampling for a client that did not declare the capability', async () => {
    const client = await connect('/servers/llm/mcp');
    const answer = await call(client, 'ask_llm', { prompt: 'no' });
    expect(answer.isError).toBe(true);
    expect(textOf(answer)).toContain(
      'mcp-orch: server "llm" sent sampling/createMessage, but the client did not declare the "sampling" capability',
    );
  });

  it('refuses a request it cannot tie to one client while two have calls in flight, and never guesses', async () => {
    const askedA: string[] = [];
    const askedB: string[] = [];
    const a = await connect('/servers/llm/mcp', { sampling: answering('A', askedA) });
    const b = await connect('/servers/llm/mcp', { sampling: answering('B', askedB) });
    const held = call(b, 'hold');
    await waitFor(async () => textOf(await call(a, 'held')) === '1');
    const answer = await call(a, 'ask_llm', { prompt: 'private to A' });
    expect(answer.isError).toBe(true);
    expect(textOf(answer)).toContain('sent sampling/createMessage while 2 clients had requests in flight to it');
    expect(textOf(answer)).toContain('give "llm" "isolation": "session" in the config');
    expect([askedA, askedB]).toEqual([[], []]);
    await call(a, 'release');
    expect(textOf(await held)).toBe('released');
    expect(textOf(await call(a, 'ask_llm', { prompt: 'A alone' }))).toBe('from A');
    expect(askedA).toEqual(['A alone']);
  });

  it("offers a shared server its configured roots, never a client's", async () => {
    const client = await connect('/servers/llm/mcp', { roots: [{ uri: 'file:///', name: 'everything' }] });
    expect(JSON.parse(textOf(await call(client, 'list_roots')))).toEqual([pathToFileURL(rootsDir).href]);
    expect(JSON.parse(textOf(await call(client, 'capabilities')))).toHaveProperty('roots');
  });

  it('gives each session of an isolated server its own instance, asking that session alone', async () => {
    const askedA: string[] = [];
    const askedB: string[] = [];
    const a = await connect('/servers/own/mcp', { sampling: answering('A', askedA), roots: [{ uri: 'file:///a', name: 'a' }] });
    const b = await connect('/mcp', { sampling: answering('B', askedB), roots: [{ uri: 'file:///b', name: 'b' }] });
    const heldA = call(a, 'hold');
    const [fromA, fromB] = await Promise.all([call(a, 'ask_llm', { prompt: 'to A' }), call(b, 'own__ask_llm', { prompt: 'to B' })]);
    expect([textOf(fromA), textOf(fromB)]).toEqual(['from A', 'from B']);
    expect([askedA, askedB]).toEqual([['to A'], ['to B']]);
    expect(JSON.parse(textOf(await call(a, 'list_roots')))).toEqual(['file:///a']);
    expect(JSON.parse(textOf(await call(b, 'own__list_roots')))).toEqual(['file:///b']);
    expect(textOf(await call(b, 'own__held'))).toBe('0');
    await call(a, 'release');
    expect(textOf(await heldA)).toBe('released');
    expect(textOf(await call(a, 'pid'))).not.toBe(textOf(await call(b, 'own__pid')));
  });
});
