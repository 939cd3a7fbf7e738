/**
 * Every 2025-11-25 endpoint of the daemon in process (test/helpers/inProcessDaemon.ts), with the SDK
 * client over Streamable HTTP and legacy SSE, per server and unified: lists, calls, prompts,
 * completions, resources, subscriptions, log levels, progress, cancellation and list changes, each
 * with the names the endpoint shows. Two instances of the echo fixture tell routing mistakes apart.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Notification, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse, connectStreamable, recordNotifications, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

type Transport = 'streamable' | 'sse';
type Kind = 'per-server' | 'unified';

function textOf(result: unknown): string {
  return (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}

async function closeClient(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

describe('2025-11-25 endpoints in process', () => {
  let running: InProcessDaemon;
  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: { mcpServers: { one: fixtureServer('echo', { FIXTURE_ID: 'one' }), two: fixtureServer('echo', { FIXTURE_ID: 'two' }) } },
    });
    await running.daemon.settled();
  });
  afterAll(() => running.stop());

  describe.each([
    ['streamable', 'per-server'],
    ['streamable', 'unified'],
    ['sse', 'per-server'],
    ['sse', 'unified'],
  ] as const)('over %s, %s', (transport: Transport, kind: Kind) => {
    const unified = kind === 'unified';
    const name = (server: string, tool: string) => (unified ? `${server}__${tool}` : tool);
    const uri = (server: string, original: string) => (unified ? `mcp-orch://${server}/${original}` : original);
    const url = (server: string) => {
      const suffix = transport === 'streamable' ? 'mcp' : 'sse';
      return unified ? `${running.url}/${suffix}` : `${running.url}/servers/${server}/${suffix}`;
    };
    const clients = new Map<string, Client>();
    const seen = new Map<Client, Notification[]>();
    const connect = async (server: string): Promise<Client> => {
      const client = await (transport === 'streamable' ? connectStreamable(url(server)) : connectSse(url(server)));
      seen.set(client, recordNotifications(client));
      return client;
    };
    const clientFor = async (server: string): Promise<Client> => {
      const key = url(server);
      let client = clients.get(key);
      if (!client) {
        client = await connect(server);
        clients.set(key, client);
      }
      return client;
    };
    const call = async (server: string, tool: string, args: Record<string, unknown> = {}) =>
      (await clientFor(server)).callTool({ name: name(server, tool), arguments: args }) as Promise<CallToolResult>;

    afterAll(async () => {
      await Promise.all([...clients.values()].map(closeClient));
    });

    it('lists tools and prompts by the names the endpoint shows, titled on unified', async () => {
      const client = await clientFor('one');
      const { tools } = await client.listTools();
      const echo = tools.find((tool) => tool.name === name('one', 'echo'));
      expect(echo).toMatchObject({ description: 'Returns its text' });
      if (unified) {
        expect(echo!.title).toBe('echo');
        expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['one__add', 'two__add']));
        // The gateway's own tools come after the servers'.
        expect(tools.slice(-2).map((tool) => tool.name)).toEqual(['mcp-orch__plan', 'mcp-orch__run_plan']);
      } else {
        expect(echo!.title).toBeUndefined();
        expect(tools.every((tool) => !tool.name.includes('__'))).toBe(true);
      }
      const { prompts } = await client.listPrompts();
      expect(prompts.map((prompt) => [prompt.name, prompt.title])).toEqual(
        unified
          ? [
              ['one__greet', 'greet'],
              ['two__greet', 'greet'],
            ]
          : [['greet', undefined]],
      );
    });

    it('calls tools: text, structured content, tool errors, each on its own server', async () => {
      expect(textOf(await call('one', 'echo', { text: `hi ${transport}` }))).toBe(`hi ${transport}`);
      expect((await call('one', 'add', { a: 2, b: 3 })).structuredContent).toEqual({ sum: 5 });
      const failed = await call('one', 'fail');
      expect([failed.isError, textOf(failed)]).toEqual([true, 'fixture failure']);
      expect(textOf(await call('one', 'whoami'))).toBe('one');
      expect(textOf(await call('two', 'whoami'))).toBe('two');
    });

    it('gets prompts and completes prompt and template arguments', async () => {
      const client = await clientFor('two');
      const prompt = await client.getPrompt({ name: name('two', 'greet'), arguments: { name: 'bob' } });
      expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, bob!' } }]);
      const names = await client.complete({
        ref: { type: 'ref/prompt', name: name('two', 'greet') },
        argument: { name: 'name', value: 'c' },
      });
      expect(names.completion.values).toEqual(['carol']);
      const ids = await client.complete({
        ref: { type: 'ref/resource', uri: uri('two', 'fixture://items/{id}') },
        argument: { name: 'id', value: '1' },
      });
      expect(ids.completion.values).toEqual(['1', '10']);
    });

    it('lists and reads resources and templates, URIs as the endpoint shows them', async () => {
      const client = await clientFor('one');
      const { resources } = await client.listResources();
      expect(resources.map((resource) => resource.uri)).toEqual(
        unified
          ? [
              'mcp-orch://one/fixture://readme',
              'mcp-orch://one/fixture://shared',
              'mcp-orch://two/fixture://readme',
              'mcp-orch://two/fixture://shared',
            ]
          : ['fixture://readme', 'fixture://shared'],
      );
      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(
        unified ? ['mcp-orch://one/fixture://items/{id}', 'mcp-orch://two/fixture://items/{id}'] : ['fixture://items/{id}'],
      );
      const shared = await (await clientFor('two')).readResource({ uri: uri('two', 'fixture://shared') });
      expect(shared.contents).toEqual([{ uri: uri('two', 'fixture://shared'), mimeType: 'text/plain', text: 'from two' }]);
      const item = await client.readResource({ uri: uri('one', 'fixture://items/3') });
      expect(item.contents).toEqual([{ uri: uri('one', 'fixture://items/3'), mimeType: 'text/plain', text: 'item 3' }]);
    });

    it('refuses names it does not know: the server itself per server, the gateway on unified with how names look', async () => {
      const client = await clientFor('one');
      if (!unified) {
        const answer = await call('one', 'nope');
        expect([answer.isError, textOf(answer)]).toEqual([true, 'MCP error -32602: Tool nope not found']);
        return;
      }
      const unknownTool = client.callTool({ name: 'one__nope' });
      await expect(unknownTool).rejects.toMatchObject({ code: -32602, data: { orchCode: 'UNKNOWN_TOOL', tool: 'one__nope' } });
      await expect(unknownTool).rejects.toThrow(
        'unknown tool "one__nope" (tool names on the unified endpoint are "<server>__<name>"; list them with tools/list)',
      );
      await expect(client.getPrompt({ name: 'one__nope' })).rejects.toMatchObject({
        data: { orchCode: 'UNKNOWN_PROMPT', prompt: 'one__nope' },
      });
      await expect(client.getPrompt({ name: 'one__nope' })).rejects.toThrow(
        'unknown prompt "one__nope" (prompt names on the unified endpoint are "<server>__<name>"; list them with prompts/list)',
      );
      await expect(client.readResource({ uri: 'fixture://readme' })).rejects.toMatchObject({
        code: -32002,
        data: { orchCode: 'UNKNOWN_RESOURCE', uri: 'fixture://readme' },
      });
      await expect(client.readResource({ uri: 'fixture://readme' })).rejects.toThrow(
        'resource URIs on the unified endpoint start with mcp-orch://<server>/; list them with resources/list',
      );
      await expect(client.readResource({ uri: 'mcp-orch://three/fixture://readme' })).rejects.toMatchObject({
        data: { orchCode: 'UNKNOWN_SERVER', server: 'three', known: ['one', 'two'] },
      });
      // A name of one server does not reach another.
      await expect(client.callTool({ name: 'one_echo', arguments: { text: 'x' } })).rejects.toMatchObject({
        data: { orchCode: 'UNKNOWN_TOOL' },
      });
    });

    it('delivers resource updates under the URI subscribed to, until unsubscribed', async () => {
      const client = await clientFor('one');
      const events = seen.get(client)!;
      const updated = () => events.filter((n) => n.method === 'notifications/resources/updated');
      const before = updated().length;
      const readme = uri('one', 'fixture://readme');
      await client.subscribeResource({ uri: readme });
      expect(textOf(await call('one', 'touch', { uri: 'fixture://readme' }))).toBe('notified');
      await waitFor(() => updated().length > before);
      expect(updated().at(-1)?.params).toEqual({ uri: readme });
      await client.unsubscribeResource({ uri: readme });
      expect(textOf(await call('one', 'touch', { uri: 'fixture://readme' }))).toBe('not subscribed');
      expect(updated().length).toBe(before + 1);
    });

    it('forwards log messages at or above the level each client set, named by server on unified', async () => {
      const client = await clientFor('one');
      const verbose = await connect('one');
      // A session that set no level hears nothing of a shared server's logs: they say what it did for everyone.
      const silent = await connect('one');
      try {
        const logs = (of: Client) =>
          seen
            .get(of)!
            .filter((n) => n.method === 'notifications/message' && String(n.params?.data).endsWith(transport))
            .map((n) => n.params);
        await client.setLoggingLevel('warning');
        // The shared server runs at the most verbose level asked for; each session gets its own share.
        await verbose.setLoggingLevel('info');
        await call('one', 'log', { level: 'info', message: `quiet ${transport}` });
        await call('one', 'log', { level: 'warning', message: `edge ${transport}` });
        await call('one', 'log', { level: 'error', message: `loud ${transport}` });
        await waitFor(() => logs(client).length === 2 && logs(verbose).length === 3);
        const logger = unified ? 'one/echo-fixture' : 'echo-fixture';
        expect(logs(client)).toEqual([
          { level: 'warning', logger, data: `edge ${transport}` },
          { level: 'error', logger, data: `loud ${transport}` },
        ]);
        expect(logs(verbose)[0]).toEqual({ level: 'info', logger, data: `quiet ${transport}` });
        expect(logs(silent)).toEqual([]);
        await expect(client.setLoggingLevel('loud' as 'info')).rejects.toMatchObject({
          code: -32602,
          message: expect.stringContaining('unknown log level "loud"; expected one of debug, info, notice, warning, error'),
        });
      } finally {
        await Promise.all([closeClient(verbose), closeClient(silent)]);
      }
    });

    it('sends progress once per step under the client’s own token', async () => {
      const updates: Progress[] = [];
      const result = await (
        await clientFor('one')
      ).callTool({ name: name('one', 'slow'), arguments: { ms: 40, steps: 2 } }, undefined, {
        onprogress: (progress) => updates.push(progress),
      });
      expect(textOf(result)).toBe('done after 2 steps');
      expect(updates.map(({ progress, total, message }) => ({ progress, total, message }))).toEqual([
        { progress: 1, total: 2, message: 'step 1 of 2' },
        { progress: 2, total: 2, message: 'step 2 of 2' },
      ]);
    });

    it('answers the gateway’s own tools on unified only, with progress under the client’s token', async () => {
      const plan = {
        steps: [
          { type: 'tool', id: 'sum', server: 'one', tool: 'add', arguments: { a: 2, b: 3 } },
          { type: 'tool', id: 'say', server: 'two', tool: 'echo', arguments: { text: 'sum ${steps.sum.result.sum}' } },
        ],
      };
      const client = await clientFor('one');
      if (!unified) {
        const answer = await call('one', 'mcp-orch__run_plan', { plan });
        expect(answer.isError).toBe(true);
        return;
      }
      const updates: Progress[] = [];
      const result = await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan } }, undefined, {
        onprogress: (progress) => updates.push(progress),
      });
      expect(result.structuredContent).toMatchObject({
        status: 'succeeded',
        steps: [
          { id: 'sum', result: { sum: 5 } },
          { id: 'say', result: 'sum 5' },
        ],
      });
      expect(updates.map(({ progress, total }) => [progress, total])).toEqual([
        [1, 2],
        [2, 2],
      ]);
      // Without a progress token the same call sends none.
      await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan } });
    });

    it('cancels the server’s request when the client aborts', async () => {
      const stats = async () => (await call('one', 'slow_stats')).structuredContent as { started: number; cancelled: number };
      const before = await stats();
      const abort = new AbortController();
      const pending = (await clientFor('one')).callTool({ name: name('one', 'slow'), arguments: { ms: 60_000, steps: 1 } }, undefined, {
        signal: abort.signal,
      });
      pending.catch(() => undefined);
      await waitFor(async () => (await stats()).started > before.started);
      abort.abort('the test cancels');
      await expect(pending).rejects.toThrow();
      await waitFor(async () => (await stats()).cancelled === before.cancelled + 1);
    });

    it('announces a tool added at runtime to the sessions that see its server, and lists it', async () => {
      const client = await clientFor('one');
      const other = await connect('two');
      const events = seen.get(client)!;
      const changed = () => events.filter((n) => n.method === 'notifications/tools/list_changed').length;
      const before = changed();
      const tool = `runtime_${transport}_${kind.replace('-', '_')}`;
      try {
        expect(textOf(await call('one', 'add_tool', { name: tool }))).toBe(`added ${tool}`);
        await waitFor(() => changed() > before);
        expect((await client.listTools()).tools.map((t) => t.name)).toContain(name('one', tool));
        expect(textOf(await call('one', tool))).toBe(tool);
        // A per-server session of the other server hears nothing of it.
        const otherChanged = () => seen.get(other)!.filter((n) => n.method === 'notifications/tools/list_changed').length;
        if (unified) await waitFor(() => otherChanged() === 1);
        else expect(otherChanged()).toBe(0);
      } finally {
        await call('one', 'remove_tool', { name: tool });
        await closeClient(other);
      }
    });
  });
});
