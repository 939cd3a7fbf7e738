/**
 * Where each of the pool's events goes, event by event: which sessions hear of a list change, when
 * subscriptions and log levels are renewed, and which client a server's notification reaches (or
 * that it reaches none). A real pool and request router; the sessions and registries are plain
 * objects that record what they are told, so that every case, including notifications no fixture
 * server sends (a task's status, a URL elicitation's completion), is exercised one by one.
 */
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import type { LogLevelRegistry } from './logLevels.js';
import { routePoolEvents } from './poolEvents.js';
import { ServerRequestRouter } from './serverRequests.js';
import type { SessionRegistry } from './sessionRegistry.js';
import type { SubscriptionRegistry } from './subscriptions.js';

const ALL_LISTS = ['notifications/tools/list_changed', 'notifications/prompts/list_changed', 'notifications/resources/list_changed'];

interface FakeSession {
  id: string;
  view: { followsMembership: boolean };
  sees: string[];
  told: Notification[];
  logs: unknown[];
  notify(notification: Notification): void;
  logMessage(upstream: Upstream, params: unknown): void;
}

function session(id: string, followsMembership: boolean, sees: string[]): FakeSession {
  const told: Notification[] = [];
  const logs: unknown[] = [];
  return {
    id,
    view: { followsMembership },
    sees,
    told,
    logs,
    notify: (notification) => told.push(notification),
    logMessage: (upstream, params) => logs.push([upstream.name, params]),
  };
}

function upstream(name: string, options: { owner?: string; available?: boolean } = {}) {
  return { name, owner: options.owner, available: options.available ?? true } as unknown as Upstream & { available: boolean };
}

function setup(sessions: FakeSession[]) {
  const pool = new UpstreamPool();
  const router = new ServerRequestRouter();
  const done: string[] = [];
  const registry = {
    seeing: (u: Upstream) => sessions.filter((s) => s.sees.includes(u.name)),
    all: () => sessions,
    owner: (u: Upstream) => sessions.find((s) => s.id === u.owner),
  } as unknown as SessionRegistry;
  const subscriptions = {
    resubscribe: async (u: Upstream) => void done.push(`resubscribe ${u.name}`),
    notify: (u: Upstream, uri: string) => void done.push(`updated ${u.name} ${uri}`),
  } as unknown as SubscriptionRegistry;
  const logLevels = { restarted: async (u: Upstream) => void done.push(`levels ${u.name}`) } as unknown as LogLevelRegistry;
  const unwire = routePoolEvents({ pool, sessions: registry, subscriptions, logLevels, router, log: createLogger({ level: 'silent' }) });
  return { pool, router, done, unwire };
}

const methods = (s: FakeSession) => s.told.map((n) => n.method);

describe('routePoolEvents', () => {
  let unwire: (() => void) | undefined;
  afterEach(() => unwire?.());

  it('announces a list change to the sessions that see the server', () => {
    const sees = session('a', false, ['one']);
    const blind = session('b', true, ['two']);
    const wired = setup([sees, blind]);
    unwire = wired.unwire;
    wired.pool.emit('catalog', upstream('one'), 'prompts');
    expect(methods(sees)).toEqual(['notifications/prompts/list_changed']);
    expect(blind.told).toEqual([]);
  });

  it('renews subscriptions and log levels when a server runs again, and nothing on other states', () => {
    const wired = setup([]);
    unwire = wired.unwire;
    const one = upstream('one');
    wired.pool.emit('state', one, 'stopping');
    wired.pool.emit('state', one, 'starting');
    expect(wired.done).toEqual([]);
    wired.pool.emit('state', one, 'running');
    expect(wired.done).toEqual(['resubscribe one', 'levels one']);
  });

  it('tells the sessions that follow membership once each time a shared server appears or disappears', () => {
    const unified = session('u', true, ['one']);
    const perServer = session('p', false, ['one']);
    const wired = setup([unified, perServer]);
    unwire = wired.unwire;
    const one = upstream('one', { available: false });
    // Not yet seen, and not available: nothing has changed.
    wired.pool.emit('state', one, 'starting');
    expect(unified.told).toEqual([]);
    one.available = true;
    wired.pool.emit('state', one, 'running');
    expect(methods(unified)).toEqual(ALL_LISTS);
    wired.pool.emit('state', one, 'unhealthy');
    expect(methods(unified)).toEqual(ALL_LISTS);
    one.available = false;
    wired.pool.emit('state', one, 'crashed');
    expect(methods(unified)).toEqual([...ALL_LISTS, ...ALL_LISTS]);
    expect(perServer.told).toEqual([]);
  });

  it("changes no list for a session's own instance coming or going", () => {
    const unified = session('u', true, ['one']);
    const wired = setup([unified]);
    unwire = wired.unwire;
    wired.pool.emit('state', upstream('one', { owner: 'u' }), 'running');
    expect(unified.told).toEqual([]);
    expect(wired.done).toEqual(['resubscribe one', 'levels one']);
  });

  it('sends log messages to the sessions that see the server, resource updates to the subscriptions', () => {
    const sees = session('a', false, ['one']);
    const blind = session('b', false, ['two']);
    const wired = setup([sees, blind]);
    unwire = wired.unwire;
    wired.pool.emit('notification', upstream('one'), { method: 'notifications/message', params: { level: 'info', data: 'x' } });
    wired.pool.emit('notification', upstream('one'), { method: 'notifications/resources/updated', params: { uri: 'fixture://readme' } });
    expect(sees.logs).toEqual([['one', { level: 'info', data: 'x' }]]);
    expect(blind.logs).toEqual([]);
    expect(wired.done).toEqual(['updated one fixture://readme']);
    expect(sees.told).toEqual([]);
  });

  it('sends a completion or a task status to the client tied to it, else to the owning session, else nowhere', () => {
    const asker = session('asker', false, ['one']);
    const owner = session('owner', false, ['one']);
    const wired = setup([asker, owner]);
    unwire = wired.unwire;
    const own = upstream('one', { owner: 'owner' });
    const shared = upstream('one');
    wired.router.tie(own, 'elicitation:e1', asker.notify);
    wired.router.tie(own, 'task:t1', asker.notify);
    const complete = (id: string) => ({ method: 'notifications/elicitation/complete', params: { elicitationId: id } });
    const status = (id: string) => ({ method: 'notifications/tasks/status', params: { taskId: id, status: 'working' } });
    wired.pool.emit('notification', own, complete('e1'));
    wired.pool.emit('notification', own, status('t1'));
    expect(asker.told).toEqual([complete('e1'), status('t1')]);
    expect(owner.told).toEqual([]);
    wired.pool.emit('notification', own, complete('e2'));
    wired.pool.emit('notification', own, status('t2'));
    expect(owner.told).toEqual([complete('e2'), status('t2')]);
    // A shared server's untied ones belong to no one.
    wired.pool.emit('notification', shared, complete('e3'));
    wired.pool.emit('notification', shared, status('t3'));
    expect(asker.told).toHaveLength(2);
    expect(owner.told).toHaveLength(2);
  });

  it("passes anything else from a session's own instance to that session, except what the gateway answers itself", () => {
    const owner = session('owner', false, ['one']);
    const unifiedOwner = session('unified', true, ['one']);
    const wired = setup([owner, unifiedOwner]);
    unwire = wired.unwire;
    const own = upstream('one', { owner: 'owner' });
    const custom = { method: 'notifications/custom', params: { n: 1 } };
    wired.pool.emit('notification', own, { method: 'notifications/tools/list_changed' });
    wired.pool.emit('notification', own, { method: 'notifications/subscriptions/acknowledged', params: {} });
    wired.pool.emit('notification', own, custom);
    expect(owner.told).toEqual([custom]);
    // Nor to a unified session owning an instance (it cannot tell which server spoke), nor from a shared server.
    wired.pool.emit('notification', upstream('one', { owner: 'unified' }), custom);
    wired.pool.emit('notification', upstream('one'), custom);
    expect(unifiedOwner.told).toEqual([]);
    expect(owner.told).toEqual([custom]);
  });

  it('hears nothing more once unwired', () => {
    const sees = session('a', false, ['one']);
    const wired = setup([sees]);
    wired.unwire();
    const own = upstream('one', { owner: 'a' });
    wired.pool.emit('catalog', own, 'tools');
    wired.pool.emit('state', own, 'running');
    wired.pool.emit('notification', own, { method: 'notifications/custom' });
    expect(sees.told).toEqual([]);
    expect(wired.done).toEqual([]);
  });
});
