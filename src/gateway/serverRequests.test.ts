import type { Notification, Request, Result } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { OrchError } from '../errors.js';
import { localPrincipal } from '../auth/policy.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Caller } from './caller.js';
import { ServerRequestRouter, type Peer } from './serverRequests.js';

const shared = { name: 'llm', owner: undefined } as Upstream;
const sampling: Request = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } };
const signal = new AbortController().signal;

function caller(id: string): Caller {
  return { id, era: '2025-11-25', transport: 'streamable-http', endpoint: 'llm', principal: localPrincipal('default') };
}

/** A peer that answers with its own name and records what it was asked and told. */
function peer(name: string, capabilities: object = { sampling: {}, elicitation: {}, roots: {} }) {
  const asked: string[] = [];
  const told: Notification[] = [];
  const value: Peer = {
    capabilities: () => capabilities,
    request: async (request): Promise<Result> => {
      asked.push(request.method);
      return { from: name };
    },
    notify: (notification) => told.push(notification),
  };
  return { peer: value, asked, told };
}

describe('ServerRequestRouter', () => {
  it('sends a server request to the one client with requests in flight, and refuses to pick among several', async () => {
    const router = new ServerRequestRouter();
    const a = peer('A');
    const b = peer('B');
    const first = router.track(shared, caller('a'), a.peer);
    const second = router.track(shared, caller('a'), a.peer);
    expect(await router.route(shared, sampling, signal)).toEqual({ from: 'A' });
    const other = router.track(shared, caller('b'), b.peer);
    const refused = await router.route(shared, sampling, signal).catch((e: unknown) => e);
    expect(String(refused)).toContain('2 clients had requests in flight');
    expect((refused as { hint: string }).hint).toContain('"isolation": "session"');
    expect(b.asked).toEqual([]);
    first.release();
    second.release();
    expect(await router.route(shared, sampling, signal)).toEqual({ from: 'B' });
    other.release();
    expect(String(await router.route(shared, sampling, signal).catch((e: unknown) => e))).toContain('outside of any client request');
  });

  it('follows the tie the wire gives, whoever else is in flight', async () => {
    const router = new ServerRequestRouter();
    const a = router.track(shared, caller('a'), peer('A').peer);
    const b = router.track(shared, caller('b'), peer('B').peer);
    a.upstreamId = 'o1';
    b.upstreamId = 'o2';
    expect(await router.route(shared, sampling, signal, 'o2')).toEqual({ from: 'B' });
    expect(await router.route(shared, sampling, signal, 'o1')).toEqual({ from: 'A' });
    expect(String(await router.route(shared, sampling, signal, 'o9').catch((e: unknown) => e))).toContain('outside of any client request');
  });

  it("asks an isolated instance's own session, in or outside a request", async () => {
    const owned = { name: 'llm', owner: 'session-1' } as Upstream;
    const own = peer('own');
    const router = new ServerRequestRouter((id) => (id === 'session-1' ? own.peer : undefined));
    expect(await router.route(owned, { method: 'roots/list', params: {} }, signal)).toEqual({ from: 'own' });
  });

  it('never asks a client for the roots of a shared server, nor for what it did not declare', async () => {
    const router = new ServerRequestRouter();
    router.track(shared, caller('a'), peer('A', { sampling: {} }).peer);
    expect(String(await router.route(shared, { method: 'roots/list', params: {} }, signal).catch((e: unknown) => e))).toContain(
      'has none configured',
    );
    const elicit = {
      method: 'elicitation/create',
      params: { mode: 'form', message: 'x', requestedSchema: { type: 'object', properties: {} } },
    };
    expect(String(await router.route(shared, elicit, signal).catch((e: unknown) => e))).toContain(
      'did not declare the "elicitation" capability',
    );
  });

  it('delivers a URL elicitation’s completion to the client that was asked', async () => {
    const router = new ServerRequestRouter();
    const a = peer('A');
    router.track(shared, caller('a'), a.peer);
    await router.route(
      shared,
      { method: 'elicitation/create', params: { mode: 'url', elicitationId: 'e1', url: 'https://x', message: 'go' } },
      signal,
    );
    const complete = { method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } };
    expect(router.deliver(shared, 'elicitation:e1', complete)).toBe(true);
    expect(router.deliver(shared, 'elicitation:e2', complete)).toBe(false);
    expect(a.told).toEqual([complete]);
  });

  it('says what to configure when it refuses, with the code clients get for it', async () => {
    const router = new ServerRequestRouter();
    const roots = await router.route(shared, { method: 'roots/list', params: {} }, signal).catch((e: unknown) => e);
    expect(roots).toBeInstanceOf(OrchError);
    expect(roots).toMatchObject({
      code: 'CLIENT_REQUEST_REFUSED',
      message: 'mcp-orch: server "llm" asked for roots, and it has none configured',
      hint: 'give "llm" "roots": [...] in the config, or "isolation": "session" to ask each client for its own',
    });
    expect(await router.route(shared, sampling, signal).catch((e: unknown) => e)).toMatchObject({
      code: 'CLIENT_REQUEST_REFUSED',
      message: 'mcp-orch: server "llm" sent sampling/createMessage outside of any client request',
      hint: 'a shared server may ask a client only while that client\'s request is in flight; give "llm" "isolation": "session" for more',
    });
    router.track(shared, caller('a'), peer('A').peer);
    router.track(shared, caller('b'), peer('B').peer);
    expect(await router.route(shared, sampling, signal).catch((e: unknown) => e)).toMatchObject({
      code: 'CLIENT_REQUEST_REFUSED',
      message:
        'mcp-orch: server "llm" sent sampling/createMessage while 2 clients had requests in flight to it, and it does not say which one it is for',
    });
  });

  it('refuses a client that declared no capabilities at all, and passes on what needs none', async () => {
    const router = new ServerRequestRouter();
    const bare: Peer = { capabilities: () => undefined, request: async (request) => ({ from: request.method }) };
    router.track(shared, caller('a'), bare);
    expect(await router.route(shared, sampling, signal).catch((e: unknown) => e)).toMatchObject({
      code: 'CLIENT_REQUEST_REFUSED',
      message: 'mcp-orch: server "llm" sent sampling/createMessage, but the client did not declare the "sampling" capability',
    });
    expect(await router.route(shared, { method: 'ping' }, signal)).toEqual({ from: 'ping' });
  });

  it("asks an isolated instance's own session even while several of its callers are in flight", async () => {
    const owned = { name: 'llm', owner: 'session-1' } as Upstream;
    const own = peer('own');
    const router = new ServerRequestRouter((id) => (id === 'session-1' ? own.peer : undefined));
    router.track(owned, caller('a'), peer('A').peer);
    router.track(owned, caller('b'), peer('B').peer);
    expect(await router.route(owned, sampling, signal)).toEqual({ from: 'own' });
  });

  it('keeps a later request tracked when an earlier one is released twice', async () => {
    const router = new ServerRequestRouter();
    const first = router.track(shared, caller('a'), peer('A').peer);
    first.release();
    router.track(shared, caller('b'), peer('B').peer);
    first.release();
    expect(await router.route(shared, sampling, signal)).toEqual({ from: 'B' });
  });

  it('ties only a URL elicitation with an id, from a client that can be told', async () => {
    const url = { mode: 'url', elicitationId: 'e1', url: 'https://x', message: 'go' };
    const cases: [Request, Peer][] = [
      [{ method: 'sampling/createMessage', params: { ...url, messages: [], maxTokens: 1 } }, peer('A').peer],
      [
        { method: 'elicitation/create', params: { ...url, mode: 'form', requestedSchema: { type: 'object', properties: {} } } },
        peer('A').peer,
      ],
      [{ method: 'elicitation/create', params: { ...url, elicitationId: 1 } }, peer('A').peer],
      [
        { method: 'elicitation/create', params: url },
        { ...peer('A').peer, notify: undefined },
      ],
    ];
    for (const [request, asked] of cases) {
      const router = new ServerRequestRouter();
      router.track(shared, caller('a'), asked);
      await router.route(shared, request, signal);
      const complete = { method: 'notifications/elicitation/complete', params: { elicitationId: 'e1' } };
      expect(router.deliver(shared, 'elicitation:e1', complete)).toBe(false);
      expect(router.deliver(shared, 'elicitation:1', complete)).toBe(false);
    }
  });
});

describe('ServerRequestRouter notification ties', () => {
  const HOUR = 60 * 60 * 1000;
  const note = (id: string) => ({ method: 'notifications/tasks/status', params: { taskId: id } });
  afterEach(() => vi.useRealTimers());

  it('keeps a tie for an hour, then forgets it', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const router = new ServerRequestRouter();
    const told: Notification[] = [];
    router.tie(shared, 'task:t1', (n) => told.push(n));
    router.tie(shared, 'task:t2', (n) => told.push(n));
    vi.setSystemTime(1_000_000 + HOUR);
    expect(router.deliver(shared, 'task:t1', note('t1'))).toBe(true);
    expect(router.deliver(shared, 'task:t2', note('t2'))).toBe(true);
    // A tie made at the moment the first ones run out clears them away.
    router.tie(shared, 'task:t3', (n) => told.push(n));
    expect(router.deliver(shared, 'task:t1', note('t1'))).toBe(false);
    vi.setSystemTime(1_000_001 + 2 * HOUR);
    expect(router.deliver(shared, 'task:t3', note('t3'))).toBe(false);
    expect(told).toEqual([note('t1'), note('t2')]);
  });

  it('holds at most 10,000 ties, dropping the oldest', () => {
    const router = new ServerRequestRouter();
    const told: string[] = [];
    for (let i = 0; i <= 10_000; i++) router.tie(shared, `task:${i}`, () => told.push(String(i)));
    expect(router.deliver(shared, 'task:0', note('0'))).toBe(false);
    expect(router.deliver(shared, 'task:1', note('1'))).toBe(true);
    expect(router.deliver(shared, 'task:10000', note('10000'))).toBe(true);
    expect(told).toEqual(['1', '10000']);
  });
});
