// Properties of the config diff over generated configs (fast-check): whatever two configs hold, the
// plan sorts each running server into exactly one list and agrees with itself read backwards.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffConfigs } from './diff.js';
import { configSchema, type Config } from './schema.js';

const names = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
const server = fc.oneof(
  fc.record(
    {
      command: fc.constantFrom('node', 'npx', 'uvx'),
      args: fc.array(fc.constantFrom('-y', 'x', 'y'), { maxLength: 2 }),
      env: fc.dictionary(fc.constantFrom('A', 'B'), fc.constantFrom('1', '2'), { maxKeys: 2 }),
      disabled: fc.boolean(),
      maxRestarts: fc.integer({ min: 0, max: 3 }),
      group: fc.constantFrom('web', 'db'),
    },
    { requiredKeys: ['command'] },
  ),
  fc.record(
    { url: fc.constantFrom('https://example.com/mcp', 'http://127.0.0.1:9/mcp'), disabled: fc.boolean() },
    { requiredKeys: ['url'] },
  ),
);
const config = fc
  .record({
    mcpServers: fc.dictionary(names, server, { maxKeys: 6 }),
    orch: fc.record(
      { logLevel: fc.constantFrom('info', 'debug'), defaults: fc.record({ maxRestarts: fc.integer({ min: 0, max: 3 }) }) },
      { requiredKeys: [] },
    ),
  })
  .map((value): Config => configSchema.parse(value));

const enabled = (c: Config): string[] =>
  Object.entries(c.mcpServers)
    .filter(([, s]) => s.disabled !== true)
    .map(([name]) => name)
    .sort();
const sorted = (list: string[]) => [...list].sort();

describe('diffConfigs', () => {
  it('finds nothing to do between a config and itself', () => {
    fc.assert(
      fc.property(config, (c) => {
        const diff = diffConfigs(c, structuredClone(c));
        expect(diff).toMatchObject({ added: [], removed: [], changed: [], updated: [], settingsChanged: [], restartRequired: [] });
        expect(diff.unchanged).toEqual(enabled(c));
      }),
    );
  });

  it('puts every running server in exactly one list, each list sorted', () => {
    fc.assert(
      fc.property(config, config, (old, next) => {
        const diff = diffConfigs(old, next);
        expect(sorted([...diff.added, ...diff.changed, ...diff.unchanged])).toEqual(enabled(next));
        expect(sorted([...diff.removed, ...diff.changed, ...diff.unchanged])).toEqual(enabled(old));
        for (const list of [diff.added, diff.removed, diff.changed, diff.unchanged, diff.updated]) expect(list).toEqual(sorted(list));
        for (const name of diff.updated) expect(diff.unchanged).toContain(name);
        for (const key of diff.restartRequired) expect(diff.settingsChanged).toContain(key);
      }),
    );
  });

  it('reads the same backwards: added one way is removed the other, the rest alike', () => {
    fc.assert(
      fc.property(config, config, (old, next) => {
        const forth = diffConfigs(old, next);
        const back = diffConfigs(next, old);
        expect(back.added).toEqual(forth.removed);
        expect(back.removed).toEqual(forth.added);
        expect(back.changed).toEqual(forth.changed);
        expect(back.unchanged).toEqual(forth.unchanged);
        expect(back.updated).toEqual(forth.updated);
        expect(back.settingsChanged).toEqual(forth.settingsChanged);
      }),
    );
  });
});
