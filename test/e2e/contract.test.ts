/**
 * The MCP contract of every endpoint: one daemon with our fixtures and the official reference servers,
 * and one suite run for each transport (Streamable HTTP, legacy SSE) on each kind of endpoint
 * (per server, `/servers/{name}/...`; unified, `/mcp` and `/sse`). A unified endpoint names tools and
 * prompts `<server>__<name>` and resources `mcp-orch://<server>/<original uri>`; a per-server one
 * passes names through untouched. Each suite talks to the same shared upstreams, so whatever a test
 * leaves behind (runtime tools, memory entities) carries the suite's own label.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Notification, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse, connectStreamable, recordNotifications, waitFor, type ConnectOptions } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer, LONG_TOOL_NAME } from '../helpers/fixtures.js';

const LONG_SERVER = 'a-server-with-a-rather-long-name';
const SERVERS = ['one', 'two', 'llm', 'llm-own', 'everything', 'memory', 'filesystem', LONG_SERVER] as const;
type ServerName = (typeof SERVERS)[number];
const MODEL_API_TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ROOT_URI = 'file:///contract/root';

/** The stdio entry of an official reference server installed as a devDependency (its package.json bin). */
function referenceServer(pkg: string, args: string[] = [], env: Record<string, string> = {}) {
  const dir = fileURLToPath(new URL(`../../node_modules/@modelcontextprotocol/${pkg}/`, import.meta.url));
  return { command: process.execPath, args: [join(dir, 'dist/index.js'), ...args], env };
}

/** Ends the session on the daemon too: a Streamable HTTP session outlives its client unless DELETEd. */
async function closeClient(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  return content.map((item) => (item.type === 'text' ? item.text : '')).join('');
}

type TransportName = 'streamable' | 'sse';
type EndpointName = 'per-server' | 'unified';

interface Endpoint {
  label: string;
  /** Tool or prompt name as a client of this endpoint sees it. */
  name(server: ServerName, name: string): string;
  /** Resource URI (or template) as a client of this endpoint sees it. */
  uri(server: ServerName, uri: string): string;
  /** The URL that serves `server` on this endpoint (the same for every server on unified). */
  url(server: ServerName): string;
}

function endpointOf(daemon: DaemonHandle, transport: TransportName, kind: EndpointName): Endpoint {
  const suffix = transport === 'streamable' ? 'mcp' : 'sse';
  const base = daemon.url.replace(/\/$/, '');
  return kind === 'unified'
    ? {
        label: `${transport}-unified`,
        name: (server, name) => `${server}__${name}`,
        uri: (server, uri) => `mcp-orch://${server}/${uri}`,
        url: () => `${base}/${suffix}`,
      }
    : {
        label: `${transport}-per-server`,
        name: (_server, name) => name,
        uri: (_server, uri) => uri,
        url: (server) => `${base}/servers/${encodeURIComponent(server)}/${suffix}`,
      };
}

describe('MCP contract', () => {
  let daemon: DaemonHandle;
  let scratch: string;
  let filesDir: string;
  let rootsDir: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'mcp-orch-contract-'));
    filesDir = join(scratch, 'files');
    await mkdir(filesDir);
    rootsDir = join(scratch, 'roots');
    await mkdir(rootsDir);
    await writeFile(join(filesDir, 'hello.txt'), 'hello from the filesystem server\n');
    daemon = await startDaemon({
      config: {
        mcpServers: {
          one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
          two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
          // Shared: its roots are the configured ones, whatever a client declares.
          llm: { ...fixtureServer('sampling'), roots: [rootsDir] },
          // One instance per session: its roots are the session's own.
          'llm-own': { ...fixtureServer('sampling'), isolation: 'session' },
          everything: referenceServer('server-everything', ['stdio']),
          memory: referenceServer('server-memory', [], { MEMORY_FILE_PATH: join(scratch, 'memory.jsonl') }),
          filesystem: referenceServer('server-filesystem', [filesDir]),
          [LONG_SERVER]: fixtureServer('many-tools', { TOOL_COUNT: '3' }),
        },
      },
    });
    await waitFor(
      async () => {
        const health = (await (await fetch(new URL('/health', daemon.url))).json()) as { servers: { name: string; state: string }[] };
        const running = health.servers.filter((s) => s.state === 'running').map((s) => s.name);
        return SERVERS.every((name) => running.includes(name));
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
  });

  afterAll(async () => {
    await daemon?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  describe.each([
    ['streamable', 'per-server'],
    ['streamable', 'unified'],
    ['sse', 'per-server'],
    ['sse', 'unified'],
  ] as const)('over %s on the %s endpoint', (transport: TransportName, kind: EndpointName) => {
    let ep: Endpoint;
    const clients = new Map<string, Client>();
    const notifications = new Map<Client, Notification[]>();
    const opened: Client[] = [];
    const samplingPrompts: string[] = [];

    const connect = async (url: string, options: ConnectOptions): Promise<Client> => {
      const client = await (transport === 'streamable' ? connectStreamable(url, options) : connectSse(url, options));
      opened.push(client);
      notifications.set(client, recordNotifications(client));
      return client;
    };

    /** The suite's client for `server`: one per server on per-server endpoints, one in all on unified. */
    const clientFor = async (server: ServerName): Promise<Client> => {
      const url = ep.url(server);
      let client = clients.get(url);
      if (!client) {
        client = await connect(url, {
          clientInfo: { name: `contract-${ep.label}`, version: '0.0.0' },
          sampling: (request) => {
            const content = request.params.messages[0]?.content;
            const prompt = content && !Array.isArray(content) && content.type === 'text' ? content.text : '';
            samplingPrompts.push(prompt);
            return { role: 'assistant', model: 'contract-model', content: { type: 'text', text: `sampled: ${prompt}` } };
          },
          elicitation: () => ({ action: 'accept', content: { name: 'Ada' } }),
          roots: [{ uri: ROOT_URI, name: 'contract root' }],
        });
        clients.set(url, client);
      }
      return client;
    };

    const call = async (server: ServerName, tool: string, args: Record<string, unknown> = {}) =>
      (await clientFor(server)).callTool({ name: ep.name(server, tool), arguments: args }) as Promise<CallToolResult>;

    const seen = async (server: ServerName): Promise<Notification[]> => notifications.get(await clientFor(server))!;

    beforeAll(() => {
      ep = endpointOf(daemon, transport, kind);
    });

    afterAll(async () => {
      await Promise.all(opened.map(closeClient));
    });

    it('lists tools: untouched per server, namespaced from every running server on unified', async () => {
      const { tools } = await (await clientFor('one')).listTools();
      const names = tools.map((tool) => tool.name);
      for (const tool of ['echo', 'add', 'fail', 'slow', 'slow_stats', 'whoami', 'log', 'touch', 'add_tool']) {
        expect(names).toContain(ep.name('one', tool));
      }
      if (kind === 'per-server') {
        expect(names.every((name) => !name.includes('__'))).toBe(true);
      } else {
        // The gateway's own tools (batch plans) come after the servers'.
        expect(names.slice(-2)).toEqual(['mcp-orch__plan', 'mcp-orch__run_plan']);
        const servers = new Set(names.slice(0, -2).map((name) => name.slice(0, name.indexOf('__'))));
        expect([...servers].sort()).toEqual([...SERVERS].sort());
        expect(names).toEqual(expect.arrayContaining(['two__echo', 'llm__ask_llm', 'everything__echo', 'memory__read_graph']));
        expect(names.filter((name) => !MODEL_API_TOOL_NAME.test(name))).toEqual([]);
      }
    });

    it('calls tools: text, structured content and tool errors', async () => {
      expect(textOf(await call('one', 'echo', { text: `hi ${ep.label}` }))).toBe(`hi ${ep.label}`);
      const sum = await call('one', 'add', { a: 2, b: 3 });
      expect(sum.structuredContent).toEqual({ sum: 5 });
      expect(textOf(sum)).toBe('5');
      const failed = await call('one', 'fail');
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toBe('fixture failure');
    });

    it('carries large results intact, multi-byte characters split across pipe reads included', async () => {
      const unit = 'line "quoted" \\ é\n'; // the blob tool's repeating unit, 20 bytes
      for (const bytes of [700_001, 1_000_003, 1_048_577]) {
        const text = textOf(await call('one', 'blob', { bytes }));
        expect(text === unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))).slice(0, bytes), `${bytes} bytes`).toBe(true);
      }
    });

    it('lists and gets prompts, and completes prompt and template arguments', async () => {
      const client = await clientFor('one');
      const { prompts } = await client.listPrompts();
      expect(prompts.map((prompt) => prompt.name)).toContain(ep.name('one', 'greet'));

      const prompt = await client.getPrompt({ name: ep.name('one', 'greet'), arguments: { name: 'alice' } });
      expect(prompt.messages[0]?.content).toEqual({ type: 'text', text: 'Hello, alice!' });

      const names = await client.complete({
        ref: { type: 'ref/prompt', name: ep.name('one', 'greet') },
        argument: { name: 'name', value: 'a' },
      });
      expect(names.completion.values).toEqual(['alice']);

      const ids = await client.complete({
        ref: { type: 'ref/resource', uri: ep.uri('one', 'fixture://items/{id}') },
        argument: { name: 'id', value: '1' },
      });
      expect(ids.completion.values).toEqual(['1', '10']);
    });

    it('lists and reads resources and resource templates', async () => {
      const client = await clientFor('one');
      const { resources } = await client.listResources();
      expect(resources.map((resource) => resource.uri)).toEqual(
        expect.arrayContaining([ep.uri('one', 'fixture://readme'), ep.uri('one', 'fixture://shared')]),
      );
      const readme = await client.readResource({ uri: ep.uri('one', 'fixture://readme') });
      expect(readme.contents).toEqual([
        { uri: ep.uri('one', 'fixture://readme'), mimeType: 'text/plain', text: 'This is the echo fixture.' },
      ]);

      const { resourceTemplates } = await client.listResourceTemplates();
      expect(resourceTemplates.map((template) => template.uriTemplate)).toContain(ep.uri('one', 'fixture://items/{id}'));
      const item = await client.readResource({ uri: ep.uri('one', 'fixture://items/1') });
      expect(item.contents).toEqual([{ uri: ep.uri('one', 'fixture://items/1'), mimeType: 'text/plain', text: 'item 1' }]);
    });

    it('routes the same tool name and resource URI of two servers each to its own server', async () => {
      expect(textOf(await call('one', 'whoami'))).toBe('one');
      expect(textOf(await call('two', 'whoami'))).toBe('two');
      const fromOne = await (await clientFor('one')).readResource({ uri: ep.uri('one', 'fixture://shared') });
      const fromTwo = await (await clientFor('two')).readResource({ uri: ep.uri('two', 'fixture://shared') });
      expect(fromOne.contents[0]).toMatchObject({ uri: ep.uri('one', 'fixture://shared'), text: 'from one' });
      expect(fromTwo.contents[0]).toMatchObject({ uri: ep.uri('two', 'fixture://shared'), text: 'from two' });
    });

    it('delivers resource updates under the URI the client subscribed to, until it unsubscribes', async () => {
      const client = await clientFor('one');
      const events = await seen('one');
      const uri = ep.uri('one', 'fixture://readme');
      const updated = () => events.filter((n) => n.method === 'notifications/resources/updated');
      const before = updated().length;

      await client.subscribeResource({ uri });
      try {
        expect(textOf(await call('one', 'touch', { uri: 'fixture://readme' }))).toBe('notified');
        await waitFor(() => updated().length > before);
        expect(updated().at(-1)?.params).toEqual({ uri });
      } finally {
        await client.unsubscribeResource({ uri });
      }
      // The upstream itself no longer holds the subscription, so it has nothing to send.
      expect(textOf(await call('one', 'touch', { uri: 'fixture://readme' }))).toBe('not subscribed');
      expect(updated().length).toBe(before + 1);
    });

    it('forwards log messages at or above the level the client set', async () => {
      const client = await clientFor('one');
      const events = await seen('one');
      const messages = () => events.filter((n) => n.method === 'notifications/message');
      await client.setLoggingLevel('warning');
      const quiet = `quiet ${ep.label}`;
      const loud = `loud ${ep.label}`;
      await call('one', 'log', { level: 'info', message: quiet });
      await call('one', 'log', { level: 'error', message: loud });
      const message = await waitFor(() => messages().find((n) => n.params?.data === loud));
      expect(message.params).toMatchObject({
        level: 'error',
        logger: kind === 'unified' ? 'one/echo-fixture' : 'echo-fixture',
      });
      expect(messages().some((n) => n.params?.data === quiet)).toBe(false);
    });

    it('keeps each client’s log level its own when two share an upstream', async () => {
      const client = await clientFor('one');
      const events = await seen('one');
      const other = await connect(ep.url('one'), { clientInfo: { name: 'terse-client', version: '0.0.0' } });
      try {
        await client.setLoggingLevel('info');
        // A second client on the same upstream wants errors only; that must not silence the first.
        await other.setLoggingLevel('error');
        const note = `info for the verbose client ${ep.label}`;
        await call('one', 'log', { level: 'info', message: note });
        await waitFor(() => events.some((n) => n.method === 'notifications/message' && n.params?.data === note), {
          timeoutMs: 3000,
        });
      } finally {
        await closeClient(other);
      }
    });

    it('sends progress once per step under the client’s own token', async () => {
      const updates: Progress[] = [];
      const result = await (
        await clientFor('one')
      ).callTool({ name: ep.name('one', 'slow'), arguments: { ms: 200, steps: 4 } }, undefined, {
        onprogress: (progress) => updates.push(progress),
      });
      expect(textOf(result)).toBe('done after 4 steps');
      // The SDK hands a progress to onprogress only when its token is the one this request sent.
      expect(updates.map((update) => update.progress)).toEqual([1, 2, 3, 4]);
      expect(updates.every((update) => update.total === 4)).toBe(true);
    });

    it('cancels the upstream request when the client aborts', async () => {
      const stats = async () => (await call('one', 'slow_stats')).structuredContent as { started: number; cancelled: number };
      const before = await stats();
      const abort = new AbortController();
      const pending = (await clientFor('one')).callTool({ name: ep.name('one', 'slow'), arguments: { ms: 60_000, steps: 1 } }, undefined, {
        signal: abort.signal,
      });
      pending.catch(() => undefined);
      await waitFor(async () => (await stats()).started > before.started);
      abort.abort('contract test cancels');
      await expect(pending).rejects.toThrow();
      await waitFor(async () => (await stats()).cancelled === before.cancelled + 1);
    });

    it('announces tools added at runtime and lists them afterwards', async () => {
      const client = await clientFor('one');
      const events = await seen('one');
      const tool = `runtime_${ep.label.replace(/-/g, '_')}`;
      const changed = () => events.filter((n) => n.method === 'notifications/tools/list_changed').length;
      const before = changed();
      try {
        expect(textOf(await call('one', 'add_tool', { name: tool }))).toBe(`added ${tool}`);
        await waitFor(() => changed() > before);
        const { tools } = await client.listTools();
        expect(tools.map((t) => t.name)).toContain(ep.name('one', tool));
        expect(textOf(await call('one', tool))).toBe(tool);
      } finally {
        await call('one', 'remove_tool', { name: tool }).catch(() => undefined);
      }
    });

    it('sends sampling and elicitation requests back to the calling client; roots from the config, or the session', async () => {
      expect(textOf(await call('llm', 'ask_llm', { prompt: `question ${ep.label}` }))).toBe(`sampled: question ${ep.label}`);
      expect(samplingPrompts).toContain(`question ${ep.label}`);
      expect(JSON.parse(textOf(await call('llm', 'ask_user', { message: 'Who are you?' })))).toEqual({
        action: 'accept',
        content: { name: 'Ada' },
      });
      expect(JSON.parse(textOf(await call('llm', 'list_roots')))).toEqual([pathToFileURL(rootsDir).href]);
      expect(JSON.parse(textOf(await call('llm-own', 'list_roots')))).toEqual([ROOT_URI]);
      expect(textOf(await call('llm-own', 'ask_llm', { prompt: `own ${ep.label}` }))).toBe(`sampled: own ${ep.label}`);
    });

    it('serves the reference servers: everything, memory and filesystem', async () => {
      expect(textOf(await call('everything', 'echo', { message: ep.label }))).toBe(`Echo: ${ep.label}`);

      const entity = `contract-${ep.label}`;
      const created = await call('memory', 'create_entities', {
        entities: [{ name: entity, entityType: 'test', observations: ['made by the contract suite'] }],
      });
      expect(created.isError).toBeFalsy();
      expect(textOf(await call('memory', 'read_graph'))).toContain(entity);

      const listing = await call('filesystem', 'list_directory', { path: filesDir });
      expect(listing.isError).toBeFalsy();
      expect(textOf(listing)).toContain('[FILE] hello.txt');
    });

    it('keeps long tool names within 64 characters and routes them back', async () => {
      const { tools } = await (await clientFor(LONG_SERVER)).listTools();
      const long = tools.find((tool) => tool.description === `Returns "${LONG_TOOL_NAME}"`);
      expect(long).toBeDefined();
      if (kind === 'per-server') expect(long!.name).toBe(LONG_TOOL_NAME);
      else expect(long!.name.startsWith(`${LONG_SERVER}__`)).toBe(true);
      expect(long!.name).toMatch(MODEL_API_TOOL_NAME);
      const result = (await (await clientFor(LONG_SERVER)).callTool({ name: long!.name })) as CallToolResult;
      expect(textOf(result)).toBe(LONG_TOOL_NAME);
    });

    it('gives each of two clients on one endpoint its own sampling answer', async () => {
      // Both clients stay connected to the same endpoint (and so the same shared stdio upstream) and
      // take turns. A stdio upstream does not say which request a sampling call belongs to; while one
      // client has requests in flight the tie is certain. (Concurrent calls: test/e2e/isolation.test.ts.)
      const answer =
        (text: string): ConnectOptions['sampling'] =>
        () => ({
          role: 'assistant',
          model: 'contract-model',
          content: { type: 'text', text },
        });
      const [a, b] = await Promise.all([
        connect(ep.url('llm'), { clientInfo: { name: 'client-a', version: '0.0.0' }, sampling: answer('A') }),
        connect(ep.url('llm'), { clientInfo: { name: 'client-b', version: '0.0.0' }, sampling: answer('B') }),
      ]);
      const ask = async (client: Client) =>
        textOf(await client.callTool({ name: ep.name('llm', 'ask_llm'), arguments: { prompt: 'who answers?' } }));
      expect(await ask(a)).toBe('A');
      expect(await ask(b)).toBe('B');
      expect(await ask(a)).toBe('A');
    });
  });
});
