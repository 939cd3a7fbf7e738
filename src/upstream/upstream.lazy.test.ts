/**
 * An Upstream started by the daemon itself: a lazy server on its first use, one stopped when idle
 * and started again by a request; and a server that is not lazy, which nothing starts but a start.
 */
import { describe, expect, it } from 'vitest';
import { fixtureUpstream, orchErrorOf } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import type { Upstream, UpstreamState } from './upstream.js';

const logger = createLogger({ level: 'silent' });
const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

/** Resolves once `upstream` is in `state` (at once if it is). */
function reaches(upstream: Upstream, state: UpstreamState): Promise<void> {
  return upstream.lifecycle.waitFor((now) => now === state, 20_000);
}

describe('a server started on first use, and stopped when idle', () => {
  it('stays stopped until it is needed, starts for its catalog, and stops again after its idle time', async () => {
    const upstream = fixtureUpstream('lazy', 'echo', { logger, entry: { lazy: true, idleTimeoutSec: 1 } });
    try {
      await upstream.start();
      expect(upstream.state).toBe('stopped');
      expect(upstream.available).toBe(false); // no catalog known yet
      upstream.wakeForCatalog();
      expect(upstream.state).toBe('starting');
      expect(upstream.lifecycle.history.at(-1)?.cause).toBe('first use: catalog requested');
      await reaches(upstream, 'running');
      expect(upstream.catalog.tools.length).toBeGreaterThan(0);

      // Unused for its idle time: stopped by the daemon, still listed, started again by a request.
      await reaches(upstream, 'stopped');
      // The cause says how long it went unused, in seconds: at least its idle time.
      const idleFor = Number(/^idle for (\d+)s$/.exec(upstream.lifecycle.history.at(-1)?.cause ?? '')?.[1]);
      expect(idleFor).toBeGreaterThanOrEqual(1);
      expect(idleFor).toBeLessThan(60);
      expect(upstream.available).toBe(true);
      upstream.wakeForCatalog(); // the catalog is known: nothing to start for
      expect(upstream.state).toBe('stopped');
      await upstream.start(); // a known catalog: a start is a start
      expect(upstream.state).toBe('running');
      await upstream.stop(); // a person's stop: no longer listed, not started by a request
      expect(upstream.available).toBe(false);
      await expect(upstream.request('tools/call', { name: 'echo', arguments: { text: 'x' } })).rejects.toThrow('is stopped');
    } finally {
      await upstream.close();
    }
  });

  it('starts on the first request when the daemon stopped it', async () => {
    const upstream = fixtureUpstream('lazy', 'echo', { logger, entry: { lazy: true } });
    try {
      await upstream.start();
      expect(upstream.state).toBe('stopped');
      expect(textOf(await upstream.request('tools/call', { name: 'echo', arguments: { text: 'woke' } }))).toBe('woke');
      expect(upstream.lifecycle.history.find((t) => t.to === 'starting')?.cause).toBe('first use');
      await upstream.close();
      expect(upstream.state).toBe('stopped');
      expect(upstream.lifecycle.history.at(-1)?.cause).toBe('closed');
      expect(upstream.available).toBe(false); // closed for good: not listed, not started by a request
    } finally {
      await upstream.close();
    }
  });
});

describe('the idle check', () => {
  it('stops a server only after its own idle time, and never one a person stopped', async () => {
    // Armed in this order, each when it starts running: a server a person stops at once, one idle
    // after a minute, and one idle after a second, whose idle stop is the clock here: the other two
    // checks fell due before its own.
    const held = fixtureUpstream('held', 'echo', { logger, entry: { idleTimeoutSec: 1 } });
    const patient = fixtureUpstream('patient', 'echo', { logger, entry: { idleTimeoutSec: 60 } });
    const clock = fixtureUpstream('clock', 'echo', { logger, entry: { idleTimeoutSec: 1 } });
    try {
      await held.start();
      await held.stop();
      await patient.start();
      await clock.start();
      // A request answered: the clock's idle time counts from its end.
      await clock.request('tools/call', { name: 'echo', arguments: { text: 'once' } });
      await reaches(clock, 'stopped');
      expect(clock.lifecycle.history.at(-1)?.cause).toMatch(/^idle for \d+s$/);
      expect(patient.state).toBe('running');
      // Stopped by a person, it is not the daemon's to start again.
      expect(held.available).toBe(false);
      expect(held.lifecycle.history.at(-1)?.cause).toBe('stop requested');
      await expect(held.request('tools/call', { name: 'echo', arguments: { text: 'x' } })).rejects.toThrow('is stopped');
    } finally {
      await Promise.all([held.close(), patient.close(), clock.close()]);
    }
  });
});

describe('a lazy server that failed on its first use', () => {
  it('is started by a person, though its catalog is still unknown', async () => {
    let ready = false;
    const upstream = fixtureUpstream('late', 'echo', {
      logger,
      entry: { lazy: true, restart: 'never' },
      dependencies: () => (ready ? Promise.resolve() : Promise.reject(new Error('its dependency is not up'))),
    });
    try {
      upstream.wakeForCatalog();
      await reaches(upstream, 'crashed');
      // Another client's catalog request does not start it again: it failed, and waits for a person.
      upstream.wakeForCatalog();
      expect(upstream.state).toBe('crashed');
      ready = true;
      await upstream.start();
      expect(upstream.state).toBe('running');
    } finally {
      await upstream.close();
    }
  });
});

describe('a server that is not lazy', () => {
  it('is not started by a request before it was started, and says it is stopped', async () => {
    const upstream = fixtureUpstream('eager', 'echo', { logger });
    try {
      const error = await orchErrorOf(upstream.request('tools/call', { name: 'echo', arguments: { text: 'x' } }));
      expect(error.message).toBe('server "eager" is unavailable: is stopped');
      expect(upstream.state).toBe('stopped');
      expect(upstream.available).toBe(false);
      upstream.wakeForCatalog(); // nor by a client that wants its catalog
      expect(upstream.state).toBe('stopped');
      // Never connected: nothing to say of the server itself, and reading it throws nothing.
      expect(upstream.serverInfo).toBeUndefined();
      expect(upstream.instructions).toBeUndefined();
      expect(upstream.capabilities).toEqual({});
    } finally {
      await upstream.close();
    }
  });
});
