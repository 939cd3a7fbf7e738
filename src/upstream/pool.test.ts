import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { configuredUpstream, fixtureUpstream } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import type { Stats } from '../supervisor/lifecycle.js';
import type { CatalogKind } from './catalog.js';
import { UpstreamPool } from './pool.js';
import type { Upstream, UpstreamState } from './upstream.js';

const logger = createLogger({ level: 'silent' });

/** Every event of the pool, in order, as `event name detail`. */
function record(pool: UpstreamPool): string[] {
  const events: string[] = [];
  pool.on('changed', () => events.push(`changed ${pool.version}`));
  pool.on('state', (upstream: Upstream, state: UpstreamState) => events.push(`state ${upstream.name} ${state}`));
  pool.on('catalog', (upstream: Upstream, kind: CatalogKind) => events.push(`catalog ${upstream.name} ${kind}`));
  pool.on('notification', (upstream: Upstream, notification: Notification) =>
    events.push(`notification ${upstream.name} ${notification.method}`),
  );
  pool.on('threshold', (upstream: Upstream, reason: string) => events.push(`threshold ${upstream.name} ${reason}`));
  return events;
}

/** A server that stays `starting` (its dependencies never come up, until it is given up), without a process. */
function waiting(name: string): Upstream {
  const dependencies = (signal: AbortSignal) =>
    new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
  return configuredUpstream(name, { command: 'node' }, { logger, dependencies });
}

const stats: Stats = { cpuPercent: 99, memoryBytes: 1, sampledAt: 0 };

describe('UpstreamPool', () => {
  it('keeps members by name, and counts every change in its version', () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const a = configuredUpstream('a', { command: 'node' }, { logger });
    const b = configuredUpstream('b', { command: 'node' }, { logger });
    expect(pool.version).toBe(0);
    pool.add(a);
    pool.add(b);
    expect(pool.get('a')).toBe(a);
    expect(pool.get('c')).toBeUndefined();
    expect(pool.all()).toEqual([a, b]);
    expect(pool.names()).toEqual(['a', 'b']);
    expect(pool.version).toBe(2);
    // A stopped member that joins says nothing more.
    expect(events).toEqual(['changed 1', 'changed 2']);

    expect(pool.remove('a')).toBe(a);
    expect(pool.remove('a')).toBeUndefined();
    expect(pool.names()).toEqual(['b']);
    expect(pool.version).toBe(3);
    expect(events).toEqual(['changed 1', 'changed 2', 'changed 3']);
  });

  it("passes a member's state, catalog, notification and threshold events on, and stops once it leaves", async () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const a = waiting('a');
    pool.add(a);
    const starting = a.start();
    a.reconfigure({ ...a.config, tools: { allow: ['x'] } });
    a.lifecycle.emit('threshold', 'cpu 99% over 90%', stats);
    a.emit('notification', { method: 'notifications/message' });
    expect(events).toEqual([
      'changed 1',
      'changed 2',
      'state a starting',
      'changed 3',
      'catalog a tools',
      'threshold a cpu 99% over 90%',
      'notification a notifications/message',
    ]);

    events.length = 0;
    pool.remove('a');
    a.reconfigure({ ...a.config, tools: { allow: ['y'] } });
    a.lifecycle.emit('threshold', 'again', stats);
    a.emit('notification', { method: 'notifications/message' });
    await a.close();
    await starting;
    expect(events).toEqual(['changed 4']);
  });

  it('announces a member that joins already started, as its start would have', async () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const a = waiting('a');
    const starting = a.start();
    pool.add(a);
    expect(events).toEqual([
      'changed 1',
      'state a starting',
      'catalog a tools',
      'catalog a prompts',
      'catalog a resources',
      'catalog a resourceTemplates',
    ]);
    await a.close();
    await starting;
  });

  it('replaces a member of the same name, leaving the old one unwired', async () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const old = waiting('a');
    pool.add(old);
    const replacement = configuredUpstream('a', { command: 'node' }, { logger });
    pool.add(replacement);
    expect(pool.get('a')).toBe(replacement);
    expect(pool.all()).toEqual([replacement]);
    events.length = 0;
    const starting = old.start();
    expect(events).toEqual([]);
    await old.close();
    await starting;
  });

  it('passes on what a watched instance says without making it a member, until unwired', async () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const instance = waiting('own');
    const unwire = pool.watch(instance);
    expect(pool.names()).toEqual([]);
    instance.reconfigure({ ...instance.config, prompts: { allow: ['p'] } });
    expect(events).toEqual(['changed 1', 'catalog own prompts']);
    unwire();
    instance.reconfigure({ ...instance.config, prompts: { allow: ['q'] } });
    expect(events).toHaveLength(2);
    await instance.close();
  });

  it("passes a member's notifications on", async () => {
    const pool = new UpstreamPool();
    const events = record(pool);
    const echo = fixtureUpstream('echo', 'echo', { logger });
    pool.add(echo);
    try {
      await echo.start();
      await echo.request('tools/call', { name: 'add_tool', arguments: { name: 'more' } });
      await expect.poll(() => events).toContain('notification echo notifications/tools/list_changed');
      expect(events).toContain('catalog echo tools');
    } finally {
      await echo.close();
    }
  });

  it('tells views to rebuild a list on relist', () => {
    const pool = new UpstreamPool();
    const a = configuredUpstream('a', { command: 'node' }, { logger });
    pool.add(a);
    const events = record(pool);
    pool.relist(a, 'tools');
    expect(events).toEqual(['changed 2', 'catalog a tools']);
  });
});
