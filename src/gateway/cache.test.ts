/**
 * The response cache on its own, with real (unstarted) upstreams in a real pool: what is kept, under
 * which key, what is never kept, and the bound on its size. test/e2e/cache.test.ts covers the same
 * through the daemon with a running server, and the invalidation by the server's own events.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { configuredUpstream } from '../../test/helpers/upstream.js';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal } from '../auth/policy.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { canonicalJson, ResponseCache } from './cache.js';
import type { Caller } from './caller.js';
import type { Peer } from './serverRequests.js';

const logger = createLogger({ level: 'silent' });

const upstreamOf = (name: string, entry: object): Upstream => configuredUpstream(name, { command: process.execPath, ...entry }, { logger });

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
    expect(slotFor('x', { inputResponses: {} })).toBeUndefined();
    expect(slotFor('x', { requestState: 's' })).toBeUndefined();
  });

  it('keeps each part of the key apart: a project and a server whose names run together share nothing', () => {
    open();
    const ysearch = upstreamOf('ysearch', { cache: { tools: ['find'] } });
    const search = upstreamOf('search', { cache: { tools: ['find'] } });
    cache.slot(callerIn('x'), ysearch, 'tools/call', { name: 'find' })!.keep(text('for project x'));
    expect(cache.slot(callerIn('xy'), search, 'tools/call', { name: 'find' })!.hit).toBeUndefined();
  });

  it('keeps only the tools its list names, and no other request that carries a name', () => {
    open();
    const search = upstreamOf('search', { cache: { tools: ['find', 'lookup'] } });
    const a = callerIn('a');
    expect(cache.slot(a, search, 'tools/call', { name: 'find' })).toBeDefined();
    expect(cache.slot(a, search, 'tools/call', { name: 'lookup' })).toBeDefined();
    expect(cache.slot(a, search, 'tools/call', { name: 'look' })).toBeUndefined();
    expect(cache.slot(a, search, 'tools/call', { arguments: {} })).toBeUndefined();
    expect(cache.slot(a, search, 'prompts/get', { name: 'find' })).toBeUndefined();
    expect(cache.slot(a, search, 'completion/complete', { name: 'find' })).toBeUndefined();
  });

  it('keeps an answer that says it is complete, as 2026-07-28 answers do', () => {
    open();
    const search = upstreamOf('search', { cache: { tools: ['find'] } });
    const slotFor = () => cache.slot(callerIn('a', '2026-07-28'), search, 'tools/call', { name: 'find' })!;
    slotFor().keep({ ...text('done'), resultType: 'complete' });
    expect(slotFor().hit).toEqual({ ...text('done'), resultType: 'complete' });
  });

  it('passes the client’s capabilities and notifications through its guard, and keeps nothing once spoiled', () => {
    open();
    const search = upstreamOf('search', { cache: { tools: ['find'] } });
    const slotFor = (q: string) => cache.slot(callerIn('a'), search, 'tools/call', { name: 'find', arguments: { q } })!;
    const notified: unknown[] = [];
    const client: Peer = {
      capabilities: () => ({ elicitation: {} }),
      request: async () => ({}),
      notify: (notification) => notified.push(notification),
    };
    const slot = slotFor('q');
    const guarded = slot.guard(client);
    expect(guarded.capabilities()).toEqual({ elicitation: {} });
    guarded.notify!({ method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } });
    expect(notified).toEqual([{ method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } }]);
    expect(slot.guard({ capabilities: () => undefined, request: async () => ({}) }).notify).toBeUndefined();
    // Neither a guard nor a notification spoils an answer; the server's input requests (spoil) do.
    slot.keep(text('shared'));
    expect(slotFor('q').hit).toEqual(text('shared'));
    const asked = slotFor('asked');
    asked.spoil();
    asked.keep(text('made with this client’s input'));
    expect(slotFor('asked').hit).toBeUndefined();
  });

  it('drops a server’s answers when told, or one resource’s, and does not keep an answer fetched before that', () => {
    open();
    const files = upstreamOf('files', { cache: { resources: true, tools: ['find'] } });
    pool.add(files);
    const a = callerIn('a');
    const read = (uri: string) => cache.slot(a, files, 'resources/read', { uri })!;
    read('file:///one').keep({ contents: [{ uri: 'file:///one', text: '1' }] });
    read('file:///two').keep({ contents: [{ uri: 'file:///two', text: '2' }] });

    // A tool call that names the resource among its params is not a read of it.
    const find = () => cache.slot(a, files, 'tools/call', { name: 'find', uri: 'file:///one' })!;
    find().keep(text('found'));

    cache.invalidate('files', 'file:///one');
    expect(read('file:///one').hit).toBeUndefined();
    expect(read('file:///two').hit).toBeDefined();
    expect(find().hit).toBeDefined();

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

  it('drops one resource’s answer while another answer of the server has outlived its ttl', async () => {
    open();
    const docs = upstreamOf('docs', { cache: { ttlSec: 0.05, resources: true } });
    const read = (uri: string) => cache.slot(callerIn('a'), docs, 'resources/read', { uri })!;
    read('docs://old').keep({ contents: [] });
    read('docs://new').keep({ contents: [] });
    // Looking up docs://new lets it go once expired; docs://old, kept earlier, has expired too but is still held.
    await waitFor(() => read('docs://new').hit === undefined, { timeoutMs: 2000 });
    read('docs://a').keep({ contents: [] });
    expect(() => cache.invalidate('docs', 'docs://a')).not.toThrow();
    expect(read('docs://a').hit).toBeUndefined();
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and leaves arrays in order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: null, u: undefined })).toBe('{"a":null,"b":[2,{"c":2,"d":1}]}');
    expect(canonicalJson('x')).toBe('"x"');
  });

  it('writes null where JSON has no value, as JSON.stringify does in an array', () => {
    expect(canonicalJson(undefined)).toBe('null');
    expect(canonicalJson([undefined, () => 1])).toBe(JSON.stringify([undefined, () => 1]));
  });
});
