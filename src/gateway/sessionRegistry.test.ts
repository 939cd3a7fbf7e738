/**
 * The session registry's own decisions, one by one: which session a server's instance or request
 * belongs to, which idle sessions the sweep closes and which it holds, and what a message counts
 * against a session's requests in flight. The sessions are plain objects with the fields the
 * registry reads, so that each case (a stdio session, a stream held open, a session idle exactly
 * to the cutoff) is set up directly; sessions.test.ts drives the same registry through the gateway.
 */
import { describe, expect, it } from 'vitest';
import type { Access } from '../auth/access.js';
import { localPrincipal } from '../auth/policy.js';
import { createLogger } from '../log.js';
import type { Upstream } from '../upstream/upstream.js';
import type { SessionTransport } from './caller.js';
import type { Peer } from './serverRequests.js';
import type { GatewaySession } from './session.js';
import { SessionRegistry, type OpenSession } from './sessionRegistry.js';

interface FakeSession {
  id: string;
  transportKind: SessionTransport;
  inFlight: number;
  closed: boolean;
  peer: Peer;
  principal: ReturnType<typeof localPrincipal>;
  view: { label: string };
  onclose?: () => void;
  close(): Promise<void>;
}

function session(id: string, transportKind: SessionTransport = 'streamable-http'): FakeSession {
  const fake: FakeSession = {
    id,
    transportKind,
    inFlight: 0,
    closed: false,
    peer: { capabilities: () => ({}), request: () => Promise.reject(new Error('no requests here')) },
    principal: localPrincipal('default'),
    view: { label: 'echo' },
    close: async () => {
      fake.closed = true;
      fake.onclose?.();
    },
  };
  return fake;
}

function registry(maxInFlight = 4) {
  const sessions = new SessionRegistry({
    log: createLogger({ level: 'silent' }),
    access: {} as Access,
    observers: [],
    maxInFlight,
  });
  const add = (fake: FakeSession, transport: Partial<OpenSession['transport']> = {}): OpenSession =>
    sessions.add(fake as unknown as GatewaySession, transport as OpenSession['transport']);
  return { sessions, add };
}

const instanceOf = (owner: string | undefined) => ({ name: 'echo', owner }) as unknown as Upstream;

describe('SessionRegistry', () => {
  it("finds a session's peer and the session owning an isolated instance, and none for what it does not hold", () => {
    const { sessions, add } = registry();
    const a = session('a');
    add(a);
    add(session('b'));
    expect(sessions.peer('a')).toBe(a.peer);
    expect(sessions.peer('gone')).toBeUndefined();
    expect(sessions.owner(instanceOf('a'))).toBe(a);
    expect(sessions.owner(instanceOf('gone'))).toBeUndefined();
    expect(sessions.owner(instanceOf(undefined))).toBeUndefined();
    void a.close();
    expect(sessions.peer('a')).toBeUndefined();
    expect(sessions.owner(instanceOf('a'))).toBeUndefined();
  });

  it('closes the HTTP sessions idle since the cutoff, and holds stdio ones and those with a request or a stream open', () => {
    const { sessions, add } = registry();
    const cutoff = Date.now() - 60_000;
    const idle = session('idle');
    const atCutoff = session('at-cutoff');
    const recent = session('recent');
    const stdio = session('stdio', 'stdio');
    const busy = session('busy');
    const streaming = session('streaming');
    add(idle).lastSeen = cutoff - 1;
    add(atCutoff).lastSeen = cutoff;
    add(recent).lastSeen = cutoff + 1;
    add(stdio).lastSeen = cutoff - 1;
    busy.inFlight = 1;
    const busyOpen = add(busy);
    busyOpen.lastSeen = cutoff - 1;
    add(streaming, { streaming: true }).lastSeen = cutoff - 1;

    sessions.closeIdle(cutoff);
    const closed = (fakes: FakeSession[]) => fakes.filter((fake) => fake.closed).map((fake) => fake.id);
    expect(closed([idle, atCutoff, recent, stdio, busy, streaming])).toEqual(['idle', 'at-cutoff']);
    expect(sessions.counts()).toEqual({ 'streamable-http': 3, sse: 0, stdio: 1, websocket: 0 });

    // A session held by its request counts as seen: its idle time starts once the request ends.
    expect(busyOpen.lastSeen).toBeGreaterThan(cutoff);
    busy.inFlight = 0;
    sessions.closeIdle(cutoff);
    expect(busy.closed).toBe(false);
  });

  it('counts only the requests of a message against those in flight, whatever else a batch carries', () => {
    const { sessions, add } = registry(1);
    const open = add(session('a'), { protocolVersion: '2025-03-26' });
    const request = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    const batch = [
      null,
      'text',
      3,
      { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
      { jsonrpc: '2.0', id: 7, result: {} },
      request,
    ];
    expect(sessions.overLimit(open, batch)).toBeUndefined();
    expect(sessions.overLimit(open, [request, { ...request, id: 2 }])).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'too many requests in flight on this session: 1 at most',
      hint: 'wait for answers before sending more, or raise orch.limits.inFlight',
    });
    expect(sessions.overLimit(open, batch, 1)?.code).toBe('RATE_LIMITED');
  });
});
