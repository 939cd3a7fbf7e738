/**
 * One 2025-11-25 client session through the daemon in process: what it asks of its client for a
 * 2026-only server, which of its notifications reach its own server instances, and which servers'
 * log messages reach it.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, type CallToolResult, type CreateMessageRequest } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, connectStreamable, daemonClients, recordNotifications, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}

const echoing = (request: CreateMessageRequest) => {
  const content = request.params.messages[0]?.content;
  const said = content && !Array.isArray(content) && content.type === 'text' ? content.text : '';
  return { role: 'assistant' as const, model: 'test', content: { type: 'text' as const, text: `you said ${said}` } };
};

describe('a 2025-11-25 session in process', () => {
  let running: InProcessDaemon;
  const { connect, closeAll } = daemonClients(() => running.url);
  const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          llm: fixtureServer('sampling'),
          own: { ...fixtureServer('sampling'), isolation: 'session' },
          mine: { ...fixtureServer('echo'), isolation: 'session' },
          modern: fixtureServer('modern-only'),
        },
      },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await closeAll();
    await running.stop();
  });

  it("gives a 2026-only server's instructions, asks the client for its input, then sends the request again with the answer and the server's state", async () => {
    const asked: string[] = [];
    const client = await connect('/servers/modern/mcp', {
      elicitation: (request) => {
        asked.push(request.params.message);
        return { action: 'accept', content: { name: 'Ada' } };
      },
    });
    expect(client.getInstructions()).toBe('A server of the 2026-07-28 era only.');
    expect(textOf(await call(client, 'ask'))).toMatch(/^Hello, Ada! \(state ask-state-\w+\)$/);
    expect(asked).toEqual(['What is your name?']);
  });

  it("tells only the session's own server instances that its roots changed, and nothing else it sends", async () => {
    let roots = [{ uri: 'file:///a', name: 'a' }];
    let asked = 0;
    const client = await connect('/mcp', {
      roots: () => {
        asked++;
        return roots;
      },
    });
    expect(JSON.parse(textOf(await call(client, 'own__heard')))).toEqual([]);
    await client.notification({ method: 'notifications/something_else' });
    roots = [{ uri: 'file:///b', name: 'b' }];
    await client.sendRootsListChanged();
    // The instance asks for the new roots outside any call of the client's (none is in flight), and gets them.
    await waitFor(() => asked === 1);
    await waitFor(async () => JSON.parse(textOf(await call(client, 'own__heard'))).length === 2);
    expect(JSON.parse(textOf(await call(client, 'own__heard')))).toEqual(['notifications/roots/list_changed', 'roots: file:///b']);
    expect(JSON.parse(textOf(await call(client, 'llm__heard')))).toEqual([]);
  });

  it("sends each session its own instance's log messages without a level set, and no other session's", async () => {
    const a = await connect('/servers/mine/mcp');
    const b = await connect('/servers/mine/mcp');
    const [seenA, seenB] = [recordNotifications(a), recordNotifications(b)];
    await call(a, 'log', { level: 'info', message: 'from A' });
    await call(b, 'log', { level: 'info', message: 'from B' });
    await waitFor(() => seenA.length > 0 && seenB.length > 0);
    const logged = (seen: typeof seenA) => seen.filter((n) => n.method === 'notifications/message').map((n) => n.params?.data);
    // Each has its own marker now; a stray message of the other session would have come first.
    await call(a, 'log', { level: 'info', message: 'A again' });
    await waitFor(() => logged(seenA).length === 2);
    expect(logged(seenA)).toEqual(['from A', 'A again']);
    expect(logged(seenB)).toEqual(['from B']);
  });

  it('stops the instance of a server with isolation "session" when its session ends', async () => {
    const own = running.daemon.pool.get('own')!;
    const before = own.instanceCount;
    const client = await connectStreamable(`${running.url}/servers/own/mcp`);
    await call(client, 'pid');
    expect(own.instanceCount).toBe(before + 1);
    await closeClients([client]);
    await waitFor(() => own.instanceCount === before);
  });

  it("lets a server ask the client during a request the SDK answers (completion), on that request's behalf", async () => {
    const client = await connect('/servers/llm/mcp', { sampling: echoing });
    const completed = await client.complete({ ref: { type: 'ref/prompt', name: 'any' }, argument: { name: 'x', value: 'hello' } });
    expect(completed.completion.values).toEqual(['you said hello']);
  });

  /**
   * A client whose sampling answers wait until the gateway cancels them; `asked` resolves at the
   * first that waits, `cancelled` at its end. It answers the session's first request (id 0) at once:
   * the SDK client ignores a cancellation whose requestId is 0.
   */
  async function holdingSampler(path: string): Promise<{ client: Client; asked: Promise<void>; cancelled: Promise<void> }> {
    const client = await connect(path, { capabilities: { sampling: {} } });
    let onAsked!: () => void;
    let onCancelled!: () => void;
    const asked = new Promise<void>((resolve) => (onAsked = resolve));
    const cancelled = new Promise<void>((resolve) => (onCancelled = resolve));
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => {
      if (extra.requestId === 0) return echoing(request);
      onAsked();
      return new Promise((_resolve, reject) => {
        extra.signal.addEventListener('abort', () => {
          onCancelled();
          reject(new Error('cancelled by the gateway'));
        });
      });
    });
    expect(textOf(await call(client, 'ask_llm', { prompt: 'first' }))).toBe('you said first');
    return { client, asked, cancelled };
  }

  it("cancels what a server asks the client for when the client cancels its call, a tool's or one the SDK answers", async () => {
    const direct = await holdingSampler('/servers/llm/mcp');
    const stopCall = new AbortController();
    const calling = direct.client.callTool({ name: 'ask_llm', arguments: { prompt: 'never mind' } }, undefined, {
      signal: stopCall.signal,
    });
    await direct.asked;
    stopCall.abort('enough');
    await expect(calling).rejects.toThrow(/enough/);
    await direct.cancelled;

    const viaSdk = await holdingSampler('/servers/llm/mcp');
    const stopCompletion = new AbortController();
    const completing = viaSdk.client.complete(
      { ref: { type: 'ref/prompt', name: 'any' }, argument: { name: 'x', value: 'never mind' } },
      { signal: stopCompletion.signal },
    );
    await viaSdk.asked;
    stopCompletion.abort('enough');
    await expect(completing).rejects.toThrow(/enough/);
    await viaSdk.cancelled;
    // The session still answers after both cancellations.
    expect(textOf(await call(viaSdk.client, 'pid'))).toMatch(/^\d+$/);
  });
});
