import { describe, expect, it } from 'vitest';
import { allGroups, dependencyProblems, groupsOf, startOrder, stopLayers } from './fleet.js';
import { parseConfigText } from './load.js';
import { isOrchError } from '../errors.js';

const servers = (deps: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(deps).map(([name, dependsOn]) => [name, { dependsOn }])) as Record<string, { dependsOn: string[] }>;

describe('groups', () => {
  it('take one name or a list', () => {
    expect(groupsOf({ group: 'a' })).toEqual(['a']);
    expect(groupsOf({ group: ['a', 'b'] })).toEqual(['a', 'b']);
    expect(groupsOf({})).toEqual([]);
    // A server the config does not (or no longer) name is in no group.
    expect(groupsOf(undefined)).toEqual([]);
    expect(allGroups({ x: { group: 'b' }, y: { group: ['a', 'b'] }, z: {} })).toEqual(['a', 'b']);
  });
});

describe('dependsOn', () => {
  it('names unknown servers, self-dependencies and every cycle', () => {
    expect(dependencyProblems(servers({ web: ['db'], db: [] }))).toEqual([]);
    expect(dependencyProblems(servers({ web: ['cache'], db: [] }))).toEqual([
      'mcpServers.web.dependsOn: unknown server "cache"; configured servers: web, db',
    ]);
    expect(dependencyProblems(servers({ a: ['a'] }))).toEqual(['mcpServers.a.dependsOn: a server cannot depend on itself']);
    expect(dependencyProblems(servers({ web: ['db'], db: ['queue'], queue: ['web'], x: ['y'], y: ['x'] }))).toEqual([
      'mcpServers.db.dependsOn: a cycle: db -> queue -> web -> db; remove one of these dependencies',
      'mcpServers.x.dependsOn: a cycle: x -> y -> x; remove one of these dependencies',
    ]);
  });

  it('spells a cycle out without the servers that lead into it, from its smallest name', () => {
    expect(dependencyProblems(servers({ a: ['c'], c: ['b'], b: ['c'] }))).toEqual([
      'mcpServers.b.dependsOn: a cycle: b -> c -> b; remove one of these dependencies',
    ]);
  });

  it('reports cycles in name order, each once, even when their names run together', () => {
    expect(dependencyProblems(servers({ y: ['z'], z: ['y'], ab: ['c'], c: ['ab'], a: ['bc'], bc: ['a'] }))).toEqual([
      'mcpServers.a.dependsOn: a cycle: a -> bc -> a; remove one of these dependencies',
      'mcpServers.ab.dependsOn: a cycle: ab -> c -> ab; remove one of these dependencies',
      'mcpServers.y.dependsOn: a cycle: y -> z -> y; remove one of these dependencies',
    ]);
  });

  it('checks a deep fleet of shared dependencies visiting each server once', () => {
    // 40 layers of two servers, each depending on both of the layer below: 2^40 paths from the top,
    // 80 servers. Walking every path instead of every server would never finish.
    const deps: Record<string, string[]> = {};
    const name = (layer: number, side: string): string => `s${String(layer).padStart(2, '0')}${side}`;
    for (let layer = 0; layer < 40; layer++) {
      const below = layer === 0 ? [] : [name(layer - 1, 'a'), name(layer - 1, 'b')];
      deps[name(layer, 'a')] = below;
      deps[name(layer, 'b')] = below;
    }
    expect(dependencyProblems(servers(deps))).toEqual([]);
  });

  it('orders stops dependents first and starts dependencies first', () => {
    const deps = servers({ web: ['db', 'cache'], api: ['db'], db: [], cache: ['db'], alone: [] });
    expect(stopLayers(['web', 'api', 'db', 'cache', 'alone'], deps)).toEqual([['alone', 'api', 'web'], ['cache'], ['db']]);
    expect(startOrder(['web', 'db', 'cache'], deps)).toEqual(['db', 'cache', 'web']);
    // Only the named servers are ordered; the others do not hold anything back.
    expect(stopLayers(['db', 'api'], deps)).toEqual([['api'], ['db']]);
    // A server the config no longer names depends on nothing.
    expect(stopLayers(['db', 'gone'], deps)).toEqual([['db', 'gone']]);
  });

  it('stops the servers of a cycle together rather than never', () => {
    const deps = servers({ a: ['b'], b: ['a'], web: ['a'] });
    expect(stopLayers(['a', 'b', 'web'], deps)).toEqual([['web'], ['a', 'b']]);
  });

  it('is a config error naming the cycle, with the file', () => {
    const text = JSON.stringify({ mcpServers: { a: { command: 'x', dependsOn: ['b'] }, b: { command: 'y', dependsOn: ['a'] } } });
    try {
      parseConfigText(text, 'mcp-config.json');
      expect.unreachable('a cycle must not load');
    } catch (error) {
      expect(isOrchError(error) && error.code).toBe('CONFIG_INVALID');
      expect((error as Error).message).toBe(
        'mcp-config.json: mcpServers.a.dependsOn: a cycle: a -> b -> a; remove one of these dependencies',
      );
    }
  });

  it('warns when a server depends on a disabled one', () => {
    const text = JSON.stringify({ mcpServers: { a: { command: 'x', dependsOn: ['b'] }, b: { command: 'y', disabled: true } } });
    expect(parseConfigText(text, 'c.json').warnings).toContain(
      'c.json: mcpServers.a.dependsOn: "b" is disabled; a starts without waiting for it',
    );
  });

  it('warns only for disabled dependencies of servers that run', () => {
    const text = JSON.stringify({
      mcpServers: {
        a: { command: 'x', dependsOn: ['b', 'c'] },
        b: { command: 'y', disabled: true },
        c: { command: 'z' },
        off: { command: 'w', disabled: true, dependsOn: ['b'] },
      },
    });
    expect(parseConfigText(text, 'c.json').warnings).toEqual([
      'c.json: mcpServers.a.dependsOn: "b" is disabled; a starts without waiting for it',
    ]);
  });

  it('reads filters, overrides and groups with precise errors', () => {
    const config = parseConfigText(
      JSON.stringify({ mcpServers: { a: { command: 'x', tools: ['*'], group: 'g', overrides: { t: { name: 'u' } } } } }),
      'c.json',
    ).config;
    expect(config.mcpServers.a).toMatchObject({ tools: { allow: ['*'] }, group: 'g', overrides: { t: { name: 'u' } } });
    const bad = (server: object): string => {
      try {
        parseConfigText(JSON.stringify({ mcpServers: { a: { command: 'x', ...server } } }), 'c.json');
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(bad({ tools: 'x' })).toBe(
      'c.json: mcpServers.a.tools: expected a list of name patterns, or {"allow": [...], "deny": [...]}, got "x"',
    );
    expect(bad({ overrides: { t: { name: 'has space' } } })).toBe(
      'c.json: mcpServers.a.overrides.t.name: use letters, digits, "_", "-" and "." (at most 128), got "has space"',
    );
    expect(bad({ group: [] })).toBe('c.json: mcpServers.a.group: expected at least 1 items, got []');
    expect(bad({ group: 5 })).toBe('c.json: mcpServers.a.group: expected a group name or a list of them, got 5');
    expect(bad({ tools: { allow: ['a'], block: ['b'] } })).toBe(
      'c.json: mcpServers.a.tools: Unrecognized key: "block", got {"allow":["a"],"block":["b"]}',
    );
  });
});
