/**
 * One Upstream over a real fixture server (a child process on stdio, the real SDK on both sides):
 * what it reports of itself, how it forwards, how it fails, and how it stops and starts by itself.
 */
import { once } from 'node:events';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveSdkHttp } from '../../test/helpers/sdkHttpServer.js';
import { configuredUpstream, fixtureUpstream, orchErrorOf } from '../../test/helpers/upstream.js';
import { OrchError } from '../errors.js';
import { createLogger } from '../log.js';
import type { CatalogKind } from './catalog.js';
import type { Upstream, UpstreamState } from './upstream.js';

const logger = createLogger({ level: 'silent' });
const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

/** Resolves once `upstream` is in `state` (at once if it is). */
function reaches(upstream: Upstream, state: UpstreamState): Promise<void> {
  return upstream.lifecycle.waitFor((now) => now === state, 20_000);
}

describe('a shared server over stdio', () => {
  let upstream: Upstream;
  const states: UpstreamState[] = [];

  beforeAll(async () => {
    upstream = fixtureUpstream('echo', 'echo', { logger });
    upstream.on('state', (state) => states.push(state));
    await upstream.start();
  });
  afterAll(() => upstream.close());

  it('runs, and reports what the server said of itself and how it is reached', async () => {
    expect(states).toEqual(['starting', 'running']);
    expect(upstream.state).toBe('running');
    expect(upstream.available).toBe(true);
    expect(upstream.error).toBeUndefined();
    expect(upstream.pid).toEqual(expect.any(Number));
    expect(upstream.transportKind).toBe('stdio');
    expect(upstream.protocolEra).toBe('2025-11-25');
    expect(await upstream.era()).toBe('2025-11-25');
    expect(upstream.modernOnly).toBe(false);
    expect(upstream.serverInfo).toMatchObject({ name: 'echo-fixture', version: '1.0.0' });
    expect(upstream.capabilities).toMatchObject({ tools: {}, prompts: {}, resources: { subscribe: true } });
    expect(upstream.instructions).toBeUndefined();
    expect(upstream.isolated).toBe(false);
    expect(upstream.instanceCount).toBe(0);
    expect(upstream.owner).toBeUndefined();
    expect(upstream.timeoutMs).toBe(30_000);
    expect(upstream.supervision.restart).toBe('on-failure');
    const { tools, prompts, resources, resourceTemplates } = upstream.catalog;
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'slow', 'add_tool']));
    expect(prompts.map((prompt) => prompt.name)).toEqual(['greet']);
    expect(resources.map((resource) => resource.uri)).toEqual(['fixture://readme', 'fixture://shared']);
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual(['fixture://items/{id}']);
    expect(await upstream.ready()).toBeDefined();
    // Shared: every owner gets the server itself.
    expect(await upstream.instanceFor('someone')).toBe(upstream);
    expect(upstream.instanceOf('someone')).toBeUndefined();
    await upstream.releaseInstance('someone');
  });

  it('forwards a request, tells its id as it is sent, and relays its progress', async () => {
    const sent: unknown[] = [];
    const result = await upstream.request('tools/call', { name: 'echo', arguments: { text: 'hi' } }, { onSent: (id) => sent.push(id) });
    expect(textOf(result)).toBe('hi');
    expect(sent).toEqual([expect.stringMatching(/^o\d+$/)]);
    const progress: number[] = [];
    const slow = await upstream.request(
      'tools/call',
      { name: 'slow', arguments: { ms: 30, steps: 3 } },
      { onprogress: (p) => progress.push(p.progress) },
    );
    expect(textOf(slow)).toBe('done after 3 steps');
    expect(progress).toEqual([1, 2, 3]);
  });

  it("passes the server's own errors on as they are", async () => {
    const error = await upstream.request('tools/call', { name: 'no-such-tool', arguments: {} }).then(
      (result) => result,
      (reason: unknown) => reason,
    );
    expect(error).not.toBeInstanceOf(OrchError);
    expect(JSON.stringify(error)).toMatch(/no-such-tool/);
  });

  it('gives up a request when its caller does', async () => {
    const abort = new AbortController();
    const call = upstream.request(
      'tools/call',
      { name: 'slow', arguments: { ms: 20_000, steps: 1 } },
      {
        signal: abort.signal,
        onSent: () => setImmediate(() => abort.abort(new Error('caller left'))),
      },
    );
    await expect(call).rejects.toThrow('caller left');
  });

  it('refreshes a list the server says changed, and passes the notification on', async () => {
    const notifications: Notification[] = [];
    upstream.on('notification', (notification) => notifications.push(notification));
    const changed = once(upstream, 'catalog') as Promise<[CatalogKind]>;
    await upstream.request('tools/call', { name: 'add_tool', arguments: { name: 'extra' } });
    expect(await changed).toEqual(['tools']);
    expect(upstream.catalog.tools.map((tool) => tool.name)).toContain('extra');
    await expect.poll(() => notifications.map((n) => n.method)).toContain('notifications/tools/list_changed');
  });

  it('tells which lists may look different after a config change, and takes the new timeout at once', async () => {
    const kinds: CatalogKind[] = [];
    const onCatalog = (kind: CatalogKind): void => void kinds.push(kind);
    upstream.on('catalog', onCatalog);
    const base = upstream.config;
    try {
      upstream.reconfigure({ ...base });
      expect(kinds).toEqual([]);
      upstream.reconfigure({ ...base, tools: { allow: ['echo'] } });
      upstream.reconfigure({ ...base, tools: { allow: ['echo'] }, overrides: { echo: { title: 'Echo' } } });
      upstream.reconfigure({ ...base, tools: { allow: ['echo'] }, overrides: { echo: { title: 'Echo' } }, prompts: { deny: ['x'] } });
      upstream.reconfigure({
        ...base,
        tools: { allow: ['echo'] },
        overrides: { echo: { title: 'Echo' } },
        prompts: { deny: ['x'] },
        promptOverrides: { greet: { title: 'Hi' } },
      });
      upstream.reconfigure({ ...upstream.config, resources: { allow: ['fixture://*'] } });
      upstream.reconfigure({ ...upstream.config, group: 'g' });
      expect(kinds).toEqual(['tools', 'tools', 'prompts', 'prompts', 'resources']);
      expect(upstream.config.group).toBe('g');

      upstream.reconfigure({ ...base, timeout: 0.2 });
      expect(upstream.timeoutMs).toBe(200);
      const error = await orchErrorOf(upstream.request('tools/call', { name: 'slow', arguments: { ms: 5_000, steps: 1 } }));
      expect(error.code).toBe('UPSTREAM_TIMEOUT');
      expect(error.message).toBe('server "echo" did not answer tools/call within 0.2s');
    } finally {
      upstream.off('catalog', onCatalog);
      upstream.reconfigure(base);
    }
  });

  it('is unavailable once a person stops it, until it is started again', async () => {
    await upstream.stop();
    expect(upstream.state).toBe('stopped');
    expect(upstream.available).toBe(false);
    expect(upstream.pid).toBeUndefined();
    expect(upstream.protocolEra).toBeUndefined();
    expect(upstream.capabilities).toEqual({});
    expect(upstream.transportKind).toBe('stdio');
    await upstream.notify({ method: 'notifications/roots/list_changed' }); // nothing to tell: no error
    const error = await orchErrorOf(upstream.request('tools/call', { name: 'echo', arguments: { text: 'x' } }));
    expect(error.code).toBe('SERVER_UNAVAILABLE');
    expect(error.message).toBe('server "echo" is unavailable: is stopped');
    // Started again: listed while it starts (its catalog is known), and its lists are read anew: the
    // tool added at runtime is gone from the new process, which sessions hear about.
    const kinds: CatalogKind[] = [];
    upstream.on('catalog', (kind) => kinds.push(kind));
    const starting = upstream.start();
    expect(upstream.state).toBe('starting');
    expect(upstream.available).toBe(true);
    await upstream.settled();
    await starting;
    expect(upstream.state).toBe('running');
    expect(kinds).toEqual(['tools']);
    expect(upstream.catalog.tools.map((tool) => tool.name)).not.toContain('extra');
    await upstream.settled();
    await upstream.notify({ method: 'notifications/roots/list_changed' });
    expect(textOf(await upstream.request('tools/call', { name: 'echo', arguments: { text: 'back' } }))).toBe('back');
  });
});

describe('a server that fails', () => {
  it('names the server that went away during a request, and the reason with its last stderr for the operator', async () => {
    const upstream = fixtureUpstream('crashy', 'crash-after', { logger, entry: { env: { CRASH_AFTER: '0' }, restart: 'never' } });
    try {
      await upstream.start();
      const error = await orchErrorOf(upstream.request('tools/call', { name: 'echo', arguments: { text: 'x' } }));
      expect(error.code).toBe('SERVER_UNAVAILABLE');
      // The request fails as the pipe closes, and waits a moment for the exit, which says more.
      const cause = '(process exited with code 1|connection closed)';
      expect(error.message).toMatch(new RegExp(`^server "crashy" went away during tools/call: ${cause}$`));
      await reaches(upstream, 'crashed');
      expect(upstream.available).toBe(false);
      // The server is given up for its exit, not its closed pipe; its last stderr lines go with the
      // reason when they were read before the exit was (a race).
      expect(upstream.error).toMatch(/^process exited with code 1(; last stderr: .*crash-after: crashing on call 1.*)?$/);
      await expect
        .poll(() => upstream.logs.lines().map((entry) => entry.line))
        .toContain('crash-after: crashing on call 1 (CRASH_AFTER=0)');
      const later = await orchErrorOf(upstream.ready());
      expect(later.message).toBe('server "crashy" is unavailable: process exited with code 1');
    } finally {
      await upstream.close();
    }
  });

  it('pings a running server for its health, samples its process, and gives it up when pings go unanswered', async () => {
    const upstream = fixtureUpstream('stuck', 'no-ping', {
      logger,
      entry: { env: { PING_OK: '1' }, restart: 'never', health: { intervalSec: 0.2, timeoutSec: 2, failureThreshold: 1 } },
    });
    try {
      await upstream.start();
      // The answered ping is followed by a sample of the server's own process.
      await expect.poll(() => upstream.lifecycle.stats?.memoryBytes ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
      await reaches(upstream, 'crashed');
      expect(upstream.lifecycle.history.map((entry) => entry.to)).toContain('unhealthy');
      expect(upstream.lifecycle.history.find((entry) => entry.to === 'unhealthy')?.cause).toMatch(/^health check failed 1 time\(s\): /);
    } finally {
      await upstream.close();
    }
  });

  it('takes a command that cannot run for a config error, and says which', async () => {
    const upstream = fixtureUpstream('missing', 'echo', { logger, entry: { command: '/nonexistent/mcp-orch-test-command' } });
    try {
      await upstream.start();
      expect(upstream.state).toBe('crashed');
      expect(upstream.error).toMatch(/^failed to start: mcpServers\.missing\.command: /);
      expect(upstream.unavailable().message).toMatch(/^server "missing" is unavailable: mcpServers\.missing\.command: /);
    } finally {
      await upstream.close();
    }
  });

  it('gives up a server that does not answer initialize within its timeout', async () => {
    const upstream = fixtureUpstream('silent', 'echo', {
      logger,
      entry: { args: ['-e', 'setInterval(() => undefined, 1000)'], timeout: 1, restart: 'never' },
    });
    try {
      await upstream.start();
      expect(upstream.state).toBe('crashed');
      expect(upstream.error).toBe('failed to start: did not finish initialize within 1s');
      expect(upstream.unavailable().message).toBe('server "silent" is unavailable: did not finish initialize within 1s');
    } finally {
      await upstream.close();
    }
  });

  it('waits for its dependencies before it starts, and is given up while it waits when stopped', async () => {
    let release = (): void => undefined;
    const signals: AbortSignal[] = [];
    const upstream = fixtureUpstream('dependent', 'echo', {
      logger,
      dependencies: (signal) => {
        signals.push(signal);
        return new Promise<void>((resolve) => (release = resolve));
      },
    });
    try {
      const starting = upstream.start();
      expect(upstream.state).toBe('starting');
      await expect.poll(() => signals.length).toBe(1);
      expect(upstream.pid).toBeUndefined();
      await upstream.stop();
      expect(signals[0]!.aborted).toBe(true);
      release();
      await starting;
      expect(upstream.state).toBe('stopped');
      expect(upstream.unavailable().message).toBe('server "dependent" is unavailable: stopped while starting');

      const again = upstream.start();
      await expect.poll(() => signals.length).toBe(2);
      release();
      await again;
      expect(upstream.state).toBe('running');
    } finally {
      await upstream.close();
    }
  });
});

describe('a server with an instance per session', () => {
  it("gives each owner its own process, up to maxInstances, offering that session's roots", async () => {
    const watched: Upstream[] = [];
    const unwatched: Upstream[] = [];
    const upstream = fixtureUpstream('own', 'sampling', {
      logger,
      // Configured roots are a shared server's: an instance asks its own session for roots.
      entry: { isolation: 'session', maxInstances: 1, roots: ['file:///srv/shared'] },
      onServerRequest: (from, request) =>
        request.method === 'roots/list'
          ? Promise.resolve({ roots: [{ uri: `file:///home/${from.owner ?? 'shared'}` }] })
          : Promise.reject(new Error(`${request.method} is not answered in this test`)),
      watch: (instance) => {
        watched.push(instance);
        return () => unwatched.push(instance);
      },
    });
    try {
      await upstream.start();
      expect(upstream.isolated).toBe(true);
      const instance = await upstream.instanceFor('owner-a-0123456789');
      expect(instance).not.toBe(upstream);
      expect(instance.owner).toBe('owner-a-0123456789');
      expect(instance.lifecycle.name).toBe('own[owner-a-]');
      expect(instance.state).toBe('running');
      expect(instance.isolated).toBe(false);
      expect(instance.pid).not.toBe(upstream.pid);
      expect(watched).toEqual([instance]);
      expect(await upstream.instanceFor('owner-a-0123456789')).toBe(instance);
      expect(upstream.instanceOf('owner-a-0123456789')).toBe(instance);
      expect(upstream.instanceCount).toBe(1);
      const capabilities = JSON.parse(textOf(await instance.request('tools/call', { name: 'capabilities', arguments: {} }))) as object;
      expect(capabilities).toEqual({ sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } });
      const roots = JSON.parse(textOf(await instance.request('tools/call', { name: 'list_roots', arguments: {} }))) as string[];
      expect(roots).toEqual(['file:///home/owner-a-0123456789']);

      const refused = await orchErrorOf(upstream.instanceFor('owner-b'));
      expect(refused.code).toBe('LIMIT_REACHED');
      expect(refused.message).toBe('server "own" runs 1 instances already (isolation: "session")');
      expect(refused.hint).toBe('raise "maxInstances" for own, or close idle sessions');
      expect(refused.retryAfterSec).toBe(5);
      expect(refused.data).toEqual({ server: 'own', maxInstances: 1 });

      await upstream.releaseInstance('nobody'); // no instance: nothing to stop
      expect(upstream.instanceCount).toBe(1);
      await upstream.releaseInstance('owner-a-0123456789');
      expect(instance.state).toBe('stopped');
      expect(unwatched).toEqual([instance]);
      expect(upstream.instanceOf('owner-a-0123456789')).toBeUndefined();
      expect(upstream.instanceCount).toBe(0);
      const next = await upstream.instanceFor('owner-b');
      expect(next.state).toBe('running');
      await upstream.close();
      expect(next.state).toBe('stopped');
      expect(upstream.instanceCount).toBe(0);
    } finally {
      await upstream.close();
    }
  });

  it('gives an owner its instance when nothing watches instances', async () => {
    const upstream = fixtureUpstream('unwatched', 'echo', { logger, entry: { isolation: 'session' } });
    try {
      await upstream.start();
      const instance = await upstream.instanceFor('owner');
      expect(instance).not.toBe(upstream);
      expect(textOf(await instance.request('tools/call', { name: 'echo', arguments: { text: 'own' } }))).toBe('own');
    } finally {
      await upstream.close();
    }
  });

  it('answers roots/list itself for a shared server with configured roots', async () => {
    const upstream = fixtureUpstream('rooted', 'sampling', { logger, entry: { roots: ['file:///srv/a', 'file:///srv/b'] } });
    try {
      await upstream.start();
      const roots = JSON.parse(textOf(await upstream.request('tools/call', { name: 'list_roots', arguments: {} }))) as string[];
      expect(roots).toEqual(['file:///srv/a', 'file:///srv/b']);
      const capabilities = JSON.parse(textOf(await upstream.request('tools/call', { name: 'capabilities', arguments: {} }))) as object;
      expect(capabilities).toEqual({ sampling: {}, elicitation: { form: {}, url: {} }, roots: {} });
    } finally {
      await upstream.close();
    }
  });
});

describe('a remote server that restarts and forgets its sessions', () => {
  it('sends a request it answered 404 once more, in a new session, and the server runs it once', async () => {
    const calls: string[] = [];
    const remote = await serveSdkHttp((transport) => {
      const server = new McpServer({ name: 'forgetful', version: '1.0.0' });
      server.registerTool('note', { description: 'Records a call' }, () => {
        calls.push(transport.sessionId!);
        return { content: [{ type: 'text', text: `call ${calls.length}` }] };
      });
      return server;
    });
    const upstream = configuredUpstream(
      'forgetful',
      { type: 'streamable-http', url: remote.url, timeout: 5, backoff: { initialMs: 10, maxMs: 10 } },
      { logger },
    );
    try {
      await upstream.start();
      expect(textOf(await upstream.request('tools/call', { name: 'note', arguments: {} }))).toBe('call 1');
      remote.forget();
      expect(textOf(await upstream.request('tools/call', { name: 'note', arguments: {} }))).toBe('call 2');
      expect(calls).toHaveLength(2);
      expect(calls[1]).not.toBe(calls[0]);
      expect(upstream.lifecycle.history.map((t) => t.to)).toEqual(['starting', 'running', 'restarting', 'starting', 'running']);
      expect(upstream.lifecycle.history[2]!.cause).toMatch(/^the server no longer knows the session \(HTTP 404; it may have restarted\)/);
    } finally {
      await upstream.close();
      await remote.close();
    }
  });
});

describe('a remote server under health checks', () => {
  it('is pinged, and has no process of ours to sample: the checks go on without an error', async () => {
    let pings = 0;
    const remote = await serveSdkHttp((transport) => {
      const watch = (): void => {
        const heard = transport.onmessage;
        transport.onmessage = (message, extra) => {
          if ('method' in message && message.method === 'ping') pings++;
          heard?.(message, extra);
        };
      };
      // The server sets its handler when it connects; the watch wraps it once it is there.
      queueMicrotask(watch);
      return new McpServer({ name: 'pinged', version: '1.0.0' });
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const upstream = configuredUpstream(
      'pinged',
      { type: 'streamable-http', url: remote.url, timeout: 5, health: { intervalSec: 0.2, timeoutSec: 2, failureThreshold: 1 } },
      { logger },
    );
    try {
      await upstream.start();
      // The second ping comes after the first round has ended, sample included.
      await expect.poll(() => pings, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      expect(unhandled).toEqual([]);
      expect(upstream.state).toBe('running');
      expect(upstream.pid).toBeUndefined();
      expect(upstream.lifecycle.stats).toBeUndefined();
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await upstream.close();
      await remote.close();
    }
  });
});
