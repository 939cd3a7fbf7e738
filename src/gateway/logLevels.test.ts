/**
 * The level each shared server is told (logging/setLevel): the most verbose any session that sees it
 * asked for, sent once per change, again after a restart, never to a server that cannot take it.
 * The servers here are plain objects that record what they are asked: a real server's level is not
 * visible from outside (the SDK server sends every level until it is told one).
 */
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import type { Upstream } from '../upstream/upstream.js';
import { LogLevelRegistry, type LevelHolder } from './logLevels.js';

function server(name: string, options: { isolated?: boolean; state?: string; logging?: boolean; fails?: boolean } = {}) {
  const told: unknown[] = [];
  const upstream = {
    name,
    isolated: options.isolated ?? false,
    state: options.state ?? 'running',
    capabilities: options.logging === false ? {} : { logging: {} },
    request: async (method: string, params: { level: LoggingLevel }) => {
      told.push(`${method} ${params.level}`);
      if (options.fails) throw new Error('refused');
      return {};
    },
  };
  return { upstream: upstream as unknown as Upstream, told };
}

const seeing = (...names: string[]): LevelHolder => ({ sees: (upstream) => names.includes(upstream.name) });

describe('LogLevelRegistry', () => {
  it('tells each server the most verbose level among the sessions that see it, once per change', async () => {
    const registry = new LogLevelRegistry();
    const a = server('a');
    const b = server('b');
    const terse = seeing('a', 'b');
    const chatty = seeing('a');
    await registry.set(terse, 'error', [a.upstream, b.upstream]);
    await registry.set(chatty, 'info', [a.upstream, b.upstream]);
    // Asked again for what it already runs at: nothing is sent.
    await registry.set(terse, 'warning', [a.upstream, b.upstream]);
    expect(a.told).toEqual(['logging/setLevel error', 'logging/setLevel info']);
    expect(b.told).toEqual(['logging/setLevel error', 'logging/setLevel warning']);
    expect(registry.levelFor(a.upstream)).toBe('info');
    expect(registry.levelFor(b.upstream)).toBe('warning');
    expect(registry.levelFor(server('c').upstream)).toBeUndefined();
    // The most verbose wins whatever the order the sessions came in.
    const debug = seeing('b');
    await registry.set(debug, 'debug', [b.upstream]);
    await registry.set(seeing('b'), 'critical', [b.upstream]);
    expect(registry.levelFor(b.upstream)).toBe('debug');
  });

  it('goes back to the level the remaining sessions want when one leaves, and forgets one it never had', async () => {
    const registry = new LogLevelRegistry();
    const a = server('a');
    const terse = seeing('a');
    const chatty = seeing('a');
    await registry.set(terse, 'error', [a.upstream]);
    await registry.set(chatty, 'debug', [a.upstream]);
    await registry.drop(chatty, [a.upstream]);
    expect(a.told).toEqual(['logging/setLevel error', 'logging/setLevel debug', 'logging/setLevel error']);
    // With no session left, or one that never set a level, the server is told nothing more.
    await registry.drop(terse, [a.upstream]);
    await registry.drop(seeing('a'), [a.upstream]);
    expect(a.told).toHaveLength(3);
  });

  it('tells a restarted server its level again', async () => {
    const registry = new LogLevelRegistry();
    const a = server('a');
    await registry.set(seeing('a'), 'notice', [a.upstream]);
    await registry.restarted(a.upstream);
    expect(a.told).toEqual(['logging/setLevel notice', 'logging/setLevel notice']);
    // A server no session asked anything of is told nothing.
    const quiet = server('q');
    await registry.restarted(quiet.upstream);
    expect(quiet.told).toEqual([]);
  });

  it('tells nothing to a server with isolation, one not running, or one without logging', async () => {
    const registry = new LogLevelRegistry();
    const servers = [server('i', { isolated: true }), server('s', { state: 'starting' }), server('l', { logging: false })];
    await registry.set(
      seeing('i', 's', 'l'),
      'info',
      servers.map((s) => s.upstream),
    );
    expect(servers.map((s) => s.told)).toEqual([[], [], []]);
  });

  it('tries again after a server refused the level', async () => {
    const registry = new LogLevelRegistry();
    const a = server('a', { fails: true });
    await registry.set(seeing('a'), 'info', [a.upstream]);
    await registry.set(seeing('a'), 'info', [a.upstream]);
    expect(a.told).toEqual(['logging/setLevel info', 'logging/setLevel info']);
  });
});
