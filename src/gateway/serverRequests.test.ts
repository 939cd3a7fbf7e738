import type { Notification, Request, Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
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
});
