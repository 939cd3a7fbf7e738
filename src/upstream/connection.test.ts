/**
 * How a connection is opened by transport and era, with real servers: a 2026-07-28-only fixture
 * over stdio and over stateless HTTP, and 2025 servers reached over Streamable HTTP and legacy SSE
 * (the per-server endpoints of a daemon running in this process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fixturePath, fixtureServer, fixturesDir } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { configuredUpstream, fixtureUpstream } from '../../test/helpers/upstream.js';
import { jsonRpcErrorOf, OrchError } from '../errors.js';
import { createLogger } from '../log.js';
import type { CatalogKind } from './catalog.js';
import type { Upstream } from './upstream.js';

const logger = createLogger({ level: 'silent' });
const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

/** modern-only.mjs serving stateless HTTP; its URL is the first line it prints. */
async function startModernHttp(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [fixturePath('modern-only'), '--http', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [url] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, url };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Upstreams whose server acknowledged a listen stream. */
const acknowledged: Upstream[] = [];
function watchListen(upstream: Upstream): Upstream {
  upstream.on('notification', (notification) => {
    if (notification.method === 'notifications/subscriptions/acknowledged') acknowledged.push(upstream);
  });
  return upstream;
}

/** What every connection to modern-only.mjs must show, whatever carries it. */
async function expectModernOnly(upstream: Upstream): Promise<void> {
  expect(upstream.state).toBe('running');
  expect(upstream.protocolEra).toBe('2026-07-28');
  expect(upstream.modernOnly).toBe(true);
  expect(upstream.serverInfo).toEqual({ name: 'modern-only', version: '1.0.0' });
  expect(upstream.instructions).toBe('A server of the 2026-07-28 era only.');
  expect(upstream.capabilities).toEqual({ tools: { listChanged: true }, prompts: {}, resources: {} });
  expect(upstream.catalog.tools.map((tool) => tool.name)).toEqual(['echo', 'ask', 'slow', 'grow']);
  expect(upstream.catalog.prompts.map((prompt) => prompt.name)).toEqual(['greet']);
  expect(upstream.catalog.resources.map((resource) => resource.uri)).toEqual(['modern://info']);
  // Every request goes with the envelope, which the server refuses to do without.
  expect(textOf(await upstream.request('tools/call', { name: 'echo', arguments: { text: 'enveloped' } }))).toBe('enveloped');
  // The health check is server/discover (the era has no ping).
  await (await upstream.ready()).ping(5_000);
  // The envelope declares the gateway's capabilities, or the ones the request is sent with.
  const asked = await upstream.request('tools/call', { name: 'ask', arguments: {} });
  expect(asked).toMatchObject({ resultType: 'input_required' });
  await expect(upstream.request('tools/call', { name: 'ask', arguments: {} }, { clientCapabilities: {} })).rejects.toThrow(
    'ask needs the elicitation capability',
  );
  // No client notifications outside a request in this era: nothing is sent, nothing fails.
  await upstream.notify({ method: 'notifications/roots/list_changed' });
  // List changes arrive on the listen stream the gateway opens by itself for such a server.
  await expect.poll(() => acknowledged.includes(upstream)).toBe(true);
  await upstream.ensureListening(); // open already: the same stream
  const changed = once(upstream, 'catalog') as Promise<[CatalogKind]>;
  await upstream.request('tools/call', { name: 'grow', arguments: {} });
  expect(await changed).toEqual(['tools']);
  expect(upstream.catalog.tools.map((tool) => tool.name)).toContain('extra_4');
}

describe('a server of the 2026-07-28 era only', () => {
  it('is spoken to without initialize over stdio', async () => {
    const upstream = watchListen(fixtureUpstream('modern', 'modern-only', { logger }));
    try {
      await upstream.start();
      expect(upstream.transportKind).toBe('stdio');
      await expectModernOnly(upstream);
    } finally {
      await upstream.close();
    }
  });

  it('is spoken to statelessly over HTTP', async () => {
    const server = await startModernHttp();
    const upstream = watchListen(configuredUpstream('remote-modern', { url: server.url }, { logger }));
    try {
      await upstream.start();
      expect(upstream.transportKind).toBe('streamable-http');
      await expectModernOnly(upstream);
    } finally {
      await upstream.close();
      await stopChild(server.child);
    }
  });
});

describe('a server of both eras over stdio', () => {
  it('opens a listen stream when asked, and is listening once the server acknowledges it', async () => {
    const upstream = watchListen(fixtureUpstream('dual', 'modern-only', { logger, entry: { env: { MODERN_DUAL: '1' } } }));
    try {
      await upstream.start();
      expect(upstream.modernOnly).toBe(false);
      // The wait's fallback timer is set on a clock that stops at once: only the acknowledgement can end it.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let listening: Promise<void>;
      try {
        listening = upstream.ensureListening();
      } finally {
        vi.useRealTimers();
      }
      let settled = false;
      void listening.then(() => (settled = true));
      await expect.poll(() => settled, { timeout: 10_000 }).toBe(true);
      expect(acknowledged).toContain(upstream);
    } finally {
      await upstream.close();
    }
  });
});

describe('a server over stdio', () => {
  it('runs its command in the configured cwd, with the configured env', async () => {
    const upstream = configuredUpstream(
      'relative',
      { command: process.execPath, args: ['echo.mjs'], cwd: fixturesDir, env: { FIXTURE_ID: 'from-env' } },
      { logger },
    );
    try {
      await upstream.start();
      expect(upstream.state).toBe('running');
      expect(textOf(await upstream.request('tools/call', { name: 'whoami', arguments: {} }))).toBe('from-env');
    } finally {
      await upstream.close();
    }
  });

  it("passes the gateway's refusal of a server request back to the server as a JSON-RPC error with its hint", async () => {
    const upstream = fixtureUpstream('asking', 'sampling', {
      logger,
      onServerRequest: () => Promise.reject(new OrchError('CLIENT_REQUEST_REFUSED', 'the client said no', { hint: 'ask again later' })),
    });
    try {
      await upstream.start();
      const result = await upstream.request('tools/call', { name: 'ask_llm', arguments: { prompt: 'hello' } });
      expect(result).toMatchObject({ isError: true });
      expect(textOf(result)).toBe(
        `MCP error ${jsonRpcErrorOf(new OrchError('CLIENT_REQUEST_REFUSED', 'x')).code}: the client said no (ask again later)`,
      );
    } finally {
      await upstream.close();
    }
  });
});

describe('remote servers of the initialize era', () => {
  let origin: InProcessDaemon;
  const related: (RequestId | undefined)[] = [];
  const upstreams: Upstream[] = [];

  beforeAll(async () => {
    origin = await startInProcessDaemon({
      config: { mcpServers: { echo: fixtureServer('echo', { FIXTURE_ID: 'origin' }), sampling: fixtureServer('sampling') } },
    });
    await origin.daemon.settled();
  });
  afterAll(async () => {
    await Promise.all(upstreams.map((upstream) => upstream.close()));
    await origin?.stop();
  });

  async function remote(name: string, entry: object): Promise<Upstream> {
    const upstream = configuredUpstream(name, entry, {
      logger,
      onServerRequest: (_upstream, request, _signal, relatedId) => {
        related.push(relatedId);
        expect(request.method).toBe('sampling/createMessage');
        return Promise.resolve({ role: 'assistant', content: { type: 'text', text: 'sampled' }, model: 'test' });
      },
    });
    upstreams.push(upstream);
    await upstream.start();
    return upstream;
  }

  it.each([
    // The daemon's Streamable HTTP endpoint speaks both eras: it answers server/discover, then takes initialize.
    ['streamable-http', { type: 'streamable-http', path: 'mcp' }, 'streamable-http', '2026-07-28'],
    ['legacy SSE', { type: 'sse', path: 'sse' }, 'sse', '2025-11-25'],
    ['auto-detection of Streamable HTTP', { path: 'mcp' }, 'streamable-http', '2026-07-28'],
    ['auto-detection falling back to SSE', { path: 'sse' }, 'sse', '2025-11-25'],
  ] as const)('reaches a server by %s', async (_label, { path, ...entry }, kind, era) => {
    const upstream = await remote(`r-${path}-${'type' in entry ? entry.type : 'auto'}`, {
      ...entry,
      url: `${origin.url}/servers/echo/${path}`,
    });
    expect(upstream.state).toBe('running');
    expect(upstream.transportKind).toBe(kind);
    expect(upstream.protocolEra).toBe(era);
    expect(upstream.modernOnly).toBe(false);
    expect(upstream.pid).toBeUndefined();
    expect(upstream.serverInfo?.name).toBeDefined();
    expect(textOf(await upstream.request('tools/call', { name: 'whoami', arguments: {} }))).toBe('origin');
    const progress: number[] = [];
    await upstream.request(
      'tools/call',
      { name: 'slow', arguments: { ms: 30, steps: 2 } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(progress).toEqual([1, 2]);
  });

  it('ties a server request over Streamable HTTP to the request it came with', async () => {
    const upstream = await remote('r-sampling', { type: 'streamable-http', url: `${origin.url}/servers/sampling/mcp` });
    let sent: RequestId | undefined;
    related.length = 0;
    const result = await upstream.request(
      'tools/call',
      { name: 'ask_llm', arguments: { prompt: 'hello' } },
      { onSent: (id) => (sent = id) },
    );
    expect(textOf(result)).toBe('sampled');
    expect(sent).toMatch(/^o\d+$/);
    expect(related).toEqual([sent]);
  });

  it('does not fall back to SSE for a server configured as Streamable HTTP', async () => {
    const upstream = await remote('r-strict', { type: 'streamable-http', url: `${origin.url}/servers/echo/sse`, restart: 'never' });
    expect(upstream.state).toBe('crashed');
    expect(upstream.transportKind).toBe('streamable-http');
  });

  it('reports a server it cannot reach as crashed with the reason', async () => {
    const upstream = await remote('down', { url: 'http://127.0.0.1:9/mcp', timeout: 5, restart: 'never' });
    expect(upstream.state).toBe('crashed');
    expect(upstream.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(upstream.transportKind).toBe('streamable-http');
  });
});
