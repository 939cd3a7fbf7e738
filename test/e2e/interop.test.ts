/**
 * Interoperability with MCP servers from npm (test/helpers/interopServers.ts): each runs twice, once
 * behind one shared daemon and once under the official SDK client over stdio, and every endpoint
 * (per server and unified, Streamable HTTP and legacy SSE) must show what the server shows directly:
 * the same tools with their schemas, prompts, resources and templates, and the same answer to each
 * request, errors included. On the unified endpoint names are mapped back first (`<server>__<name>`,
 * `mcp-orch://<server>/<uri>`, and the title the gateway adds to an untitled tool or prompt); only
 * what a server varies by itself (a time of day) is masked. Stateful servers get the same requests in
 * the same order on both sides, endpoint after endpoint, so their state stays in step.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, type ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSse, connectStreamable, connectTransport, waitFor } from '../helpers/clients.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import {
  INTEROP_SERVERS,
  installedPackageJson,
  interopScript,
  type Exchange,
  type InteropServer,
  type Places,
} from '../helpers/interopServers.js';

/** What the gateway declares to every server; the direct client declares the same, as servers offer tools by it. */
const CAPABILITIES: ClientCapabilities = { sampling: {}, elicitation: { form: {}, url: {} } };
const MAX_PAGES = 20;
const SEPARATOR = '__';

type Side = 'direct' | 'gateway';
type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';
type Page = { nextCursor?: string | undefined } & Partial<Record<ListKind, unknown[]>>;

/** Each list with the SDK client's own method for it, and the capability a server declares for it. */
const LISTS: { kind: ListKind; capability: 'tools' | 'prompts' | 'resources'; page(client: Client, cursor?: string): Promise<Page> }[] = [
  { kind: 'tools', capability: 'tools', page: (client, cursor) => client.listTools(cursor === undefined ? undefined : { cursor }) },
  { kind: 'prompts', capability: 'prompts', page: (client, cursor) => client.listPrompts(cursor === undefined ? undefined : { cursor }) },
  {
    kind: 'resources',
    capability: 'resources',
    page: (client, cursor) => client.listResources(cursor === undefined ? undefined : { cursor }),
  },
  {
    kind: 'resourceTemplates',
    capability: 'resources',
    page: (client, cursor) => client.listResourceTemplates(cursor === undefined ? undefined : { cursor }),
  },
];

/** How a client of one endpoint names a server's tools, prompts and resources, and how its answers map back. */
interface Endpoint {
  url(server: string): string;
  name(server: string, name: string): string;
  uri(server: string, uri: string): string;
  /**
   * The server's own items among what the endpoint lists, in the server's own terms; `direct` is
   * what the server lists itself, for the one thing a name cannot tell: whether a title was added.
   */
  own(server: string, kind: ListKind, items: Item[], direct: Item[]): Item[];
  /** An answer with the server's own URIs. */
  back<T>(server: string, value: T): T;
}

type Item = Record<string, unknown>;

function perServer(base: string, suffix: string): Endpoint {
  return {
    url: (server) => `${base}/servers/${server}/${suffix}`,
    name: (_server, name) => name,
    uri: (_server, uri) => uri,
    own: (_server, _kind, items) => items,
    back: (_server, value) => value,
  };
}

function unified(base: string, suffix: string): Endpoint {
  const prefix = (server: string) => `mcp-orch://${server}/`;
  const back = (server: string, value: unknown): unknown => {
    if (Array.isArray(value)) return value.map((item) => back(server, item));
    if (typeof value !== 'object' || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        const prefixed = (key === 'uri' || key === 'uriTemplate') && typeof v === 'string' && v.startsWith(prefix(server));
        return [key, prefixed ? v.slice(prefix(server).length) : back(server, v)];
      }),
    );
  };
  return {
    url: () => `${base}/${suffix}`,
    name: (server, name) => `${server}${SEPARATOR}${name}`,
    uri: (server, uri) => `${prefix(server)}${uri}`,
    own: (server, kind, items, direct) => {
      if (kind === 'resources' || kind === 'resourceTemplates') {
        const key = kind === 'resources' ? 'uri' : 'uriTemplate';
        return items.filter((item) => String(item[key]).startsWith(prefix(server))).map((item) => back(server, item) as Item);
      }
      const named = `${server}${SEPARATOR}`;
      return items
        .filter((item) => String(item.name).startsWith(named))
        .map((item) => {
          const name = String(item.name).slice(named.length);
          const original = direct.find((d) => d.name === name);
          // The gateway titles an untitled tool or prompt with its annotations' title, else its name.
          const added =
            original && original.title === undefined && item.title === ((original.annotations as Item | undefined)?.title ?? name);
          const { title, ...rest } = item;
          return added ? { ...rest, name } : { ...rest, name, ...(title === undefined ? {} : { title }) };
        });
    },
    back: (server, value) => back(server, value) as typeof value,
  };
}

const ENDPOINTS = [
  ['Streamable HTTP', 'per-server'],
  ['Streamable HTTP', 'unified'],
  ['SSE', 'per-server'],
  ['SSE', 'unified'],
] as const;

/** A list in full, following its cursor. */
async function listAll(client: Client, list: (typeof LISTS)[number]): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < MAX_PAGES; n++) {
    const page = await list.page(client, cursor);
    items.push(...((page[list.kind] ?? []) as Item[]));
    cursor = page.nextCursor;
    if (cursor === undefined) return items;
  }
  throw new Error(`${list.kind}: more than ${MAX_PAGES} pages`);
}

/** An answer or an error, as a client sees it: either is compared. */
type Outcome = { result: unknown } | { error: { code: number; message: string; data?: unknown } };

async function perform(client: Client, exchange: Exchange, server: string, endpoint: Endpoint): Promise<Outcome> {
  try {
    switch (exchange.method) {
      case 'tools/call':
        return { result: await client.callTool({ name: endpoint.name(server, exchange.name), arguments: exchange.arguments ?? {} }) };
      case 'prompts/get':
        return { result: await client.getPrompt({ name: endpoint.name(server, exchange.name), arguments: exchange.arguments ?? {} }) };
      case 'resources/read':
        return { result: await client.readResource({ uri: endpoint.uri(server, exchange.uri) }) };
      case 'completion/complete': {
        const { ref, argument, context } = exchange;
        const mapped =
          ref.type === 'ref/prompt' ? { ...ref, name: endpoint.name(server, ref.name) } : { ...ref, uri: endpoint.uri(server, ref.uri) };
        return { result: await client.complete({ ref: mapped, argument, ...(context ? { context } : {}) }) };
      }
    }
  } catch (error) {
    if (!(error instanceof McpError)) throw error;
    return { error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) } };
  }
}

/** What the comparison sees: the server's own terms, and its self-varied parts masked. */
function comparable<T>(server: InteropServer, value: T): unknown {
  const json = JSON.stringify(value);
  return JSON.parse(server.mask ? server.mask(json) : json);
}

let scratch: string;
let daemon: DaemonHandle;
const direct = new Map<string, Client>();

/** Each process of a server gets a scratch directory of its own; the files are one read-only tree. */
function places(server: InteropServer, side: Side): Places {
  return { scratch: join(scratch, server.name, side), files: join(scratch, 'files') };
}

function command(server: InteropServer, side: Side): { args: string[]; env: Record<string, string> } {
  return { args: [interopScript(server), ...(server.args?.(places(server, side)) ?? [])], env: server.env?.(places(server, side)) ?? {} };
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mcp-orch-interop-'));
  await mkdir(join(scratch, 'files', 'notes'), { recursive: true });
  await writeFile(join(scratch, 'files', 'notes', 'hello.txt'), 'hello from a file\n');
  await writeFile(join(scratch, 'files', 'data.json'), '{ "answer": 42 }\n');
  for (const server of INTEROP_SERVERS) {
    for (const side of ['direct', 'gateway'] as const) await mkdir(places(server, side).scratch, { recursive: true });
  }
  const mcpServers = Object.fromEntries(
    INTEROP_SERVERS.map((server) => [server.name, { command: process.execPath, ...command(server, 'gateway') }]),
  );
  const [started] = await Promise.all([
    startDaemon({ config: { mcpServers } }),
    ...INTEROP_SERVERS.map(async (server) => {
      const { args, env } = command(server, 'direct');
      const transport = new StdioClientTransport({
        command: process.execPath,
        args,
        env: { ...getDefaultEnvironment(), ...env },
        stderr: 'ignore',
      });
      direct.set(server.name, await connectTransport(transport, { capabilities: CAPABILITIES }));
    }),
  ]);
  daemon = started;
  await waitFor(
    async () => {
      const { servers } = (await (await fetch(`${daemon.url}/health`)).json()) as { servers: { state: string }[] };
      return servers.length === INTEROP_SERVERS.length && servers.every((s) => s.state === 'running');
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
});

afterAll(async () => {
  await Promise.all([...direct.values()].map((client) => client.close().catch(() => undefined)));
  await daemon?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

it('runs each server at the exact version package.json pins', async () => {
  const { devDependencies } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  for (const server of INTEROP_SERVERS) {
    expect(devDependencies[server.package], server.package).toBe(server.version);
    const installed = JSON.parse(await readFile(installedPackageJson(server), 'utf8')) as { version: string };
    expect(installed.version, server.package).toBe(server.version);
  }
});

describe.each(ENDPOINTS)('over %s on the %s endpoint', (transport, kind) => {
  let endpoint: Endpoint;
  const clients = new Map<string, Client>();

  beforeAll(() => {
    const suffix = transport === 'SSE' ? 'sse' : 'mcp';
    endpoint = kind === 'unified' ? unified(daemon.url, suffix) : perServer(daemon.url, suffix);
  });

  afterAll(async () => {
    await Promise.all(
      [...new Set(clients.values())].map(async (client) => {
        if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
        await client.close().catch(() => undefined);
      }),
    );
  });

  /** One client per server on a per-server endpoint, one for all on the unified one. */
  const gateway = async (server: string): Promise<Client> => {
    const key = kind === 'unified' ? '' : server;
    let client = clients.get(key);
    if (!client) {
      const url = endpoint.url(server);
      client = await (transport === 'SSE'
        ? connectSse(url, { capabilities: CAPABILITIES })
        : connectStreamable(url, { capabilities: CAPABILITIES }));
      clients.set(key, client);
    }
    return client;
  };

  describe.each(INTEROP_SERVERS)('$name', (server) => {
    it('lists the same tools with their schemas, prompts, resources and templates', async () => {
      const own = direct.get(server.name)!;
      const through = await gateway(server.name);
      const capabilities = own.getServerCapabilities() ?? {};
      if (kind === 'per-server') {
        expect(through.getServerCapabilities()).toEqual(capabilities);
        expect(through.getServerVersion()).toEqual(own.getServerVersion());
        expect(through.getInstructions()).toEqual(own.getInstructions());
      }
      for (const list of LISTS) {
        if (!capabilities[list.capability]) continue;
        const expected = await listAll(own, list);
        const seen = endpoint.own(server.name, list.kind, await listAll(through, list), expected);
        expect(comparable(server, seen), list.kind).toEqual(comparable(server, expected));
      }
    });

    it('answers every request as the server does directly', async () => {
      const own = direct.get(server.name)!;
      const through = await gateway(server.name);
      for (const exchange of server.exchanges) {
        const expected = await perform(own, exchange, server.name, perServer('', ''));
        const seen = endpoint.back(server.name, await perform(through, exchange, server.name, endpoint));
        if (kind === 'unified' && exchange.method === 'tools/call' && exchange.unlisted) {
          const name = endpoint.name(server.name, exchange.name);
          expect(seen).toMatchObject({ error: { code: ErrorCode.InvalidParams, data: { orchCode: 'UNKNOWN_TOOL', tool: name } } });
          continue;
        }
        expect(comparable(server, seen), JSON.stringify(exchange)).toEqual(comparable(server, expected));
      }
    });
  });
});

describe('servers that print to stdout', () => {
  it('keep running with no restart, their lines in their log as stdout and a warning in /api and status', async () => {
    // mcp-hello-world prints during a call of `add`; the others at start.
    const hello = await connectStreamable(`${daemon.url}/servers/hello/mcp`);
    try {
      expect(await hello.callTool({ name: 'add', arguments: { a: 2, b: 40 } })).toEqual({
        content: [{ type: 'text', text: 'The sum is: 42' }],
      });
    } finally {
      await (hello.transport as StreamableHTTPClientTransport).terminateSession();
      await hello.close();
    }
    const { servers } = (await (await daemon.api('/api/servers')).json()) as {
      servers: { name: string; state: string; restarts: number; warning: string | null }[];
    };
    const byName = new Map(servers.map((s) => [s.name, s]));
    for (const name of ['time', 'code-runner', 'hello']) {
      expect(byName.get(name), name).toMatchObject({ state: 'running', restarts: 0, warning: expect.stringContaining('to stdout that') });
    }
    expect(byName.get('time')?.warning).toContain('"Starting Time MCP server..."');
    for (const name of ['everything', 'memory', 'filesystem', 'sequential-thinking', 'github']) {
      expect(byName.get(name), name).toMatchObject({ state: 'running', restarts: 0, warning: null });
    }
    const { lines } = (await (await daemon.api('/api/servers/hello/logs?lines=100')).json()) as { lines: { line: string }[] };
    expect(lines.map((entry) => entry.line)).toContain('[stdout] [Mock SDK Server] Executing add tool with a=2, b=40');
    const status = await runCli(['status', '--data-dir', daemon.dataDir]);
    expect(status.stdout).toMatch(/^time +running .*wrote 1 line to stdout that is not JSON-RPC/m);
    expect(status.stdout).toMatch(/^memory +running .*\d+ *$/m);
  });
});
