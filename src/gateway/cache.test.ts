/**
 * The response cache on its own, with real (unstarted) upstreams in a real pool: what is kept, under
 * which key, what is never kept, and the bound on its size. test/e2e/cache.test.ts covers the same
 * through the daemon with a running server, and the invalidation by the server's own events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal } from '../auth/policy.js';
import { configSchema, type ServerConfig } from '../config/schema.js';
import { supervisionFor } from '../config/supervision.js';
import { createLogger } from '../log.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { UpstreamPool } from '../upstream/pool.js';
import { Upstream } from '../upstream/upstream.js';
import { canonicalJson, ResponseCache } from './cache.js';
import type { Caller } from './caller.js';

const logger = createLogger({ level: 'silent' });

function upstreamOf(name: string, entry: object): Upstream {
  const config = configSchema.parse({ mcpServers: { [name]: { command: process.execPath, ...entry } } });
  const server = config.mcpServers[name] as ServerConfig;
  return new Upstream(name, server, {
    logger,
    spawnChild,
    clientInfo: { name: 'test', version: '0' },
    stopGraceMs: 1000,
    supervision: supervisionFor(server, config.orch),
    onServerRequest: async () => ({}),
  });
}

const callerIn = (project: string, era: Caller['era'] = '2025-11-25'): Caller => ({
  id: `session-${project}`,
  era,
  transport: 'streamable-http',
  endpoint: 'unified',
  principal: localPrincipal(project),
});

const text = (value: string) => ({ content: [{ type: 'text', text: value }] });

describe('ResponseCache', () => {
  const pool = new UpstreamPool();
  let cache: ResponseCache;
  const open = (maxBytes = 1024 * 1024) => (cache = new ResponseCache(pool, maxBytes));
  afterEach(() => {
    cache.close();
    for (const name of pool.names()) pool.remove(name);
  });

  it('keeps the answers of the tools its server names, per project, method and canonical arguments', () => {
    open();
    const search = upstreamOf('search', { cache: { ttlSec: 60, tools: ['find'] } });
    pool.add(search);
    const a = callerIn('a');
    const params = { name: 'find', arguments: { q: 'x', limit: 2 } };

    const first = cache.slot(a, search, 'tools/call', params)!;
    expect(first.hit).toBeUndefined();
    first.keep(text('found'));
    // The same arguments in another order, and another _meta, are the same request.
    const again = cache.slot(a, search, 'tools/call', { name: 'find', arguments: { limit: 2, q: 'x' }, _meta: { trace: 1 } })!;
    expect(again.hit).toEqual(text('found'));

    expect(cache.slot(callerIn('b'), search, 'tools/call', params)!.hit).toBeUndefined();
    expect(cache.slot(callerIn('a', '2026-07-28'), search, 'tools/call', params)!.hit).toBeUndefined();
    expect(cache.slot(a, search, 'tools/call', { name: 'find', arguments: { q: 'y', limit: 2 } })!.hit).toBeUndefined();
    // Tools not named, resources and lists are not cacheable on this server at all.
    expect(cache.slot(a, search, 'tools/call', { name: 'other', arguments: {} })).toBeUndefined();
    expect(cache.slot(a, search, 'resources/read', { uri: 'file:///x' })).toBeUndefined();
    expect(cache.slot(a, search, 'tools/list', {})).toBeUndefined();
  });

  it('keeps resource reads and lists that reach the server when the server says so', () => {
    open();
    const docs = upstreamOf('docs', { cache: { resources: true, lists: true } });
    pool.add(docs);
    const a = callerIn('a', '2026-07-28');
    cache.slot(a, docs, 'tools/list', { cursor: 'c2' })!.keep({ tools: [] });
    expect(cache.slot(a, docs, 'tools/list', { cursor: 'c2' })!.hit).toEqual({ tools: [] });
    expect(cache.slot(a, docs, 'tools/list', {})!.hit).toBeUndefined();
    cache.slot(a, docs, 'resources/read', { uri: 'docs://a' })!.keep({ contents: [] });
    expect(cache.slot(a, docs, 'resources/read', { uri: 'docs://a' })!.hit).toEqual({ contents: [] });
    expect(cache.slot(a, docs, 'tools/call', { name: 'x' })).toBeUndefined();
  });

  it('keeps nothing for servers without a cache setting, or whose every client has an instance of its own', () => {
    open();
    const plain = upstreamOf('plain', {});
    const isolated = upstreamOf('isolated', { isolation: 'session', cache: { tools: ['find'] } });
    expect(cache.slot(callerIn('a'), plain, 'tools/call', { name: 'find' })).toBeUndefined();
    expect(cache.slot(callerIn('a'), isolated, 'tools/call', { name: 'find' })).toBeUndefined();
  });

  it('never keeps tool errors, tasks, requests for input, or answers the server asked the client for', async () => {
    open();
    const search = upstreamOf('search', { cache: { tools: ['find'] } });
    pool.add(search);
    const a = callerIn('a');
    const slotFor = (q: string, extra: object = {}) => cache.slot(a, search, 'tools/call', { name: 'find', arguments: { q }, ...extra });

    slotFor('error')!.keep({ ...text('no'), isError: true });
    slotFor('task')!.keep({ task: { taskId: 't1', status: 'working' } });
    slotFor('input')!.keep({ resultType: 'input_required', inputRequests: {} });
    const asked = slotFor('asked')!;
    const peer = asked.guard({ capabilities: () => ({ sampling: {} }), request: async () => ({ role: 'assistant' }) });
    await peer.request({ method: 'sampling/createMessage', params: {} }, new AbortController().signal);
    asked.keep(text('made for this client'));
    for (const q of ['error', 'task', 'input', 'asked']) expect(slotFor(q)!.hit, q).toBeUndefined();
    // A call that asks for a task, or answers input requests, is not even looked up.
    expect(slotFor('x', { task: { ttl: 1000 } })).toBeUndefined();
    expect(slotFor('x', { inputResponses: {}, requestState: 's' })).toBeUndefined();
  });

  it('drops a server’s answers when told, or one resource’s, and does not keep an answer fetched before that', () => {
    open();
    const files = upstreamOf('files', { cache: { resources: true, tools: ['find'] } });
    pool.add(files);
    const a = callerIn('a');
    const read = (uri: string) => cache.slot(a, files, 'resources/read', { uri })!;
    read('file:///one').keep({ contents: [{ uri: 'file:///one', text: '1' }] });
    read('file:///two').keep({ contents: [{ uri: 'file:///two', text: '2' }] });

    cache.invalidate('files', 'file:///one');
    expect(read('file:///one').hit).toBeUndefined();
    expect(read('file:///two').hit).toBeDefined();

    const inFlight = read('file:///three');
    cache.invalidate('files');
    inFlight.keep({ contents: [{ uri: 'file:///three', text: 'stale' }] });
    expect(read('file:///two').hit).toBeUndefined();
    expect(read('file:///three').hit).toBeUndefined();
  });

  it('starts afresh when another upstream takes the server’s name (a config change, a new deployment)', () => {
    open();
    const before = upstreamOf('search', { cache: { tools: ['find'] } });
    pool.add(before);
    cache.slot(callerIn('a'), before, 'tools/call', { name: 'find' })!.keep(text('old'));
    const after = upstreamOf('search', { cache: { tools: ['find'] } });
    pool.add(after);
    expect(cache.slot(callerIn('a'), after, 'tools/call', { name: 'find' })!.hit).toBeUndefined();
  });

  it('holds at most maxBytes, letting the least recently used answers go, and no answer above a quarter of it', () => {
    open(4000);
    const search = upstreamOf('search', { cache: { tools: ['find'] } });
    pool.add(search);
    const a = callerIn('a');
    const slotFor = (q: string) => cache.slot(a, search, 'tools/call', { name: 'find', arguments: { q } })!;
    for (let i = 0; i < 20; i++) slotFor(`q${i}`).keep(text('x'.repeat(200)));
    expect(cache.size.bytes).toBeLessThanOrEqual(4000);
    expect(cache.size.entries).toBeLessThan(20);
    expect(slotFor('q19').hit).toBeDefined();
    expect(slotFor('q0').hit).toBeUndefined();

    slotFor('huge').keep(text('x'.repeat(2000)));
    expect(slotFor('huge').hit).toBeUndefined();
  });

  it('lets an answer go when its ttl ends', async () => {
    open();
    const search = upstreamOf('search', { cache: { ttlSec: 0.05, tools: ['find'] } });
    pool.add(search);
    const slotFor = () => cache.slot(callerIn('a'), search, 'tools/call', { name: 'find' })!;
    slotFor().keep(text('soon gone'));
    expect(slotFor().hit).toBeDefined();
    await waitFor(() => slotFor().hit === undefined, { timeoutMs: 2000 });
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves arrays in order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: null, u: undefined })).toBe('{"a":null,"b":[2,{"c":2,"d":1}]}');
    expect(canonicalJson('x')).toBe('"x"');
  });
});
