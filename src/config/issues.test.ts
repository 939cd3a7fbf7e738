import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatIssues, formatPath, isPlainObject, renderValue, serverLines, valueAt } from './issues.js';
import { configSchema } from './schema.js';

/** The lines a person reads for `data` parsed by `schema`. */
function lines(schema: z.ZodType, data: unknown): string[] {
  const result = schema.safeParse(data);
  if (result.success) throw new Error(`expected ${JSON.stringify(data)} to be invalid`);
  return formatIssues(result.error.issues, schema, data);
}

describe('formatPath', () => {
  it('joins identifiers with dots, indexes with brackets, and quotes the rest', () => {
    expect(formatPath([])).toBe('');
    expect(formatPath(['mcpServers', 'github', 'args', 0])).toBe('mcpServers.github.args[0]');
    expect(formatPath(['mcpServers', 'my-server_2', 'env', '$HOME'])).toBe('mcpServers.my-server_2.env.$HOME');
    expect(formatPath(['mcpServers', 'my server', 'env'])).toBe('mcpServers["my server"].env');
    expect(formatPath(['mcpServers', 'a.b'])).toBe('mcpServers["a.b"]');
    expect(formatPath(['1st'])).toBe('["1st"]');
    expect(formatPath(['-x'])).toBe('["-x"]');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath(['x!'])).toBe('["x!"]');
  });
});

describe('renderValue', () => {
  it('renders JSON, nothing for undefined, and cuts long values at max', () => {
    expect(renderValue(undefined)).toBe('nothing');
    expect(renderValue('x')).toBe('"x"');
    expect(renderValue(null)).toBe('null');
    expect(renderValue({ a: [1] })).toBe('{"a":[1]}');
    expect(renderValue(() => 1)).toBe('() => 1');
    expect(renderValue('a'.repeat(38))).toBe(`"${'a'.repeat(38)}"`); // 40 characters: kept
    expect(renderValue('a'.repeat(39))).toBe(`"${'a'.repeat(38)}…`);
    expect(renderValue('abcdef', 5)).toBe('"abc…');
  });
});

describe('valueAt and isPlainObject', () => {
  it('walks objects and arrays, and stops at anything else', () => {
    const root = { a: { b: [10, { c: 'x' }] }, n: null, s: 'str' };
    expect(valueAt(root, [])).toBe(root);
    expect(valueAt(root, ['a', 'b', 1, 'c'])).toBe('x');
    expect(valueAt(root, ['a', 'missing', 'c'])).toBeUndefined();
    expect(valueAt(root, ['n', 'x'])).toBeUndefined();
    expect(valueAt(root, ['s', 'length'])).toBeUndefined();
  });

  it('tells plain objects from null and arrays', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(null)).toBe(false);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject('x')).toBe(false);
  });
});

describe('formatIssues: what was expected, read off the schema', () => {
  it.each([
    [{ mcpServers: { a: { command: 'x', args: 'x' } } }, 'mcpServers.a.args: expected an array of strings, got "x"'],
    [{ mcpServers: { a: { command: 'x', args: [1] } } }, 'mcpServers.a.args[0]: expected a string, got 1'],
    [{ mcpServers: { a: { command: 'x', env: [] } } }, 'mcpServers.a.env: expected an object of strings, got []'],
    [{ mcpServers: { a: { command: 'x', timeout: 'x' } } }, 'mcpServers.a.timeout: expected a number, got "x"'],
    [{ mcpServers: { a: { command: 'x', maxInstances: 1.5 } } }, 'mcpServers.a.maxInstances: expected a whole number, got 1.5'],
    [{ mcpServers: { a: { command: 'x', disabled: 'yes' } } }, 'mcpServers.a.disabled: expected true or false, got "yes"'],
    [
      { mcpServers: { a: { command: 'x', restart: 'sometimes' } } },
      'mcpServers.a.restart: expected one of "always", "on-failure", "never", got "sometimes"',
    ],
    [{ mcpServers: { a: { command: 'x', restart: 5 } } }, 'mcpServers.a.restart: expected one of "always", "on-failure", "never", got 5'],
    [{ mcpServers: { a: { command: 'x', type: 'sse' } } }, 'mcpServers.a.type: expected "stdio", got "sse"'],
    [{ mcpServers: { a: { command: 'x', cache: 5 } } }, 'mcpServers.a.cache: expected an object, got 5'],
    [
      { mcpServers: { a: { command: 'x', health: { intervalSec: -1 } } } },
      'mcpServers.a.health.intervalSec: expected a number >= 0, got -1',
    ],
    [{ mcpServers: { a: { command: 'x', maxCpuPercent: 0 } } }, 'mcpServers.a.maxCpuPercent: expected a number > 0, got 0'],
    [{ mcpServers: { a: { command: 'x', timeout: 4000 } } }, 'mcpServers.a.timeout: expected a number <= 3600, got 4000'],
    [{ mcpServers: { a: { command: '' } } }, 'mcpServers.a.command: must not be empty, got ""'],
    [{ mcpServers: { a: { command: 'x', cwd: '' } } }, 'mcpServers.a.cwd: expected a non-empty string, got ""'],
    [{ mcpServers: { a: { command: 'x', group: [] } } }, 'mcpServers.a.group: expected at least 1 items, got []'],
    [{ mcpServers: { a: { command: 'x', group: 5 } } }, 'mcpServers.a.group: expected a group name or a list of them, got 5'],
    [
      { mcpServers: { a: { command: 'x', overrides: { t: { annotations: 5 } } } } },
      'mcpServers.a.overrides.t.annotations: expected an object of unknown values, got 5',
    ],
    [{ orch: { namespaceSeparator: 'abcde' } }, 'orch.namespaceSeparator: expected at most 4 characters, got "abcde"'],
    [{ orch: { limits: { streamBufferBytes: 5 } } }, 'orch.limits.streamBufferBytes: expected a number >= 65536, got 5'],
    [{ orch: { alerts: 5 } }, 'orch.alerts: expected an array of objects, got 5'],
    [{ orch: { batch: { servers: [] } } }, 'orch.batch.servers: expected an object of whole numbers, got []'],
    [
      { orch: { llm: { provider: 'openai', model: 'm', endpoint: 'ftp://x' } } },
      'orch.llm.endpoint: expected an http:// or https:// URL, got "ftp://x"',
    ],
    [{ orch: 5 }, 'orch: expected an object, got 5'],
    [5, 'expected an object, got 5'],
    [
      { orch: { alerts: [{ url: 'https://x', events: 'crashed' }] } },
      'orch.alerts[0].events: expected an array of one of "crashed", "unhealthy", "restarted", "threshold", "auth-failures", "tool-changed", got "crashed"',
    ],
  ])('%j', (data, expected) => {
    expect(lines(configSchema, data)).toEqual([expected]);
  });

  it('names every kind of value in the plural inside arrays and records', () => {
    const schema = z.object({
      urls: z.array(z.url()),
      counts: z.array(z.number().int()),
      ratios: z.array(z.number()),
      flags: z.array(z.boolean()),
      nested: z.array(z.array(z.string())),
      maps: z.record(z.string(), z.record(z.string(), z.string())),
      items: z.array(z.object({ a: z.string() })),
      dates: z.array(z.date()),
      when: z.date(),
      links: z.array(z.url()),
      choices: z.array(z.literal(['a', 'b'])),
      levels: z.record(z.string(), z.enum(['low', 'high'])),
      maybe: z.string().nullable(),
    });
    const bad = {
      urls: 1,
      counts: 1,
      ratios: 1,
      flags: 1,
      nested: 1,
      maps: 1,
      items: 1,
      dates: 1,
      when: 1,
      links: [1],
      choices: 1,
      levels: 1,
      maybe: 1,
    };
    expect(lines(schema, bad)).toEqual([
      'urls: expected an array of URLs, got 1',
      'counts: expected an array of whole numbers, got 1',
      'ratios: expected an array of numbers, got 1',
      'flags: expected an array of booleans, got 1',
      'nested: expected an array of arrays, got 1',
      'maps: expected an object of objects, got 1',
      'items: expected an array of objects, got 1',
      'dates: expected an array of date values, got 1',
      'when: expected date, got 1',
      'links[0]: expected a URL, got 1',
      'choices: expected an array of "a" or "b", got 1',
      'levels: expected an object of one of "low", "high", got 1',
      'maybe: expected a string, got 1',
    ]);
  });

  it('says what a bound, a pattern or a format expects', () => {
    const schema = z.object({
      name: z.string().min(3),
      code: z.string().max(2),
      tags: z.array(z.string()).min(2),
      few: z.array(z.string()).max(1),
      above: z.number().gt(0),
      below: z.number().lt(5),
      most: z.number().max(5),
      id: z.string().regex(/^[a-z]+$/),
      link: z.url(),
      pick: z.literal(['a', 'b']),
      opt: z.string().optional(),
      def: z.number().default(1),
    });
    const bad = {
      name: 'ab',
      code: 'abc',
      tags: ['x'],
      few: ['x', 'y'],
      above: 0,
      below: 5,
      most: 6,
      id: 'A1',
      link: 'x',
      pick: 'c',
      opt: 1,
      def: 'x',
    };
    expect(lines(schema, bad)).toEqual([
      'name: expected at least 3 characters, got "ab"',
      'code: expected at most 2 characters, got "abc"',
      'tags: expected at least 2 items, got ["x"]',
      'few: expected at most 1 items, got ["x","y"]',
      'above: expected a number > 0, got 0',
      'below: expected a number < 5, got 5',
      'most: expected a number <= 5, got 6',
      'id: expected a string matching /^[a-z]+$/, got "A1"',
      'link: expected a valid url, got "x"',
      'pick: expected one of "a", "b", got "c"',
      'opt: expected a string, got 1',
      'def: expected a number, got "x"',
    ]);
  });

  it('falls back to the type zod names where the schema cannot say (past a transform)', () => {
    const schema = z.object({ list: z.array(z.string()).transform((l) => l.join()), at: z.array(z.number()).transform((l) => l) });
    expect(lines(schema, { list: [1], at: ['x'] })).toEqual(['list[0]: expected a string, got 1', 'at[0]: expected a number, got "x"']);
    const literal = z.object({ v: z.array(z.literal('x')).transform((l) => l) });
    expect(lines(literal, { v: [true] })).toEqual(['v[0]: expected "x", got true']);
  });

  it('says a value is missing rather than showing nothing', () => {
    expect(lines(z.object({ need: z.string() }), {})).toEqual(['need: expected a string, but it is missing']);
  });
});

describe('formatIssues: whole-config checks and server entries', () => {
  it('joins every reason a key is refused, keeps a custom message, and judges a union by itself outside mcpServers', () => {
    const schema = z.object({
      names: z.record(z.string().min(3, 'too short').regex(/^a/, 'starts with a'), z.number()),
      exact: z.string().refine((v) => v === 'x', 'must be x'),
      nested: z.object({ either: z.union([z.string(), z.number()], { error: 'a string or a number' }) }),
    });
    expect(lines(schema, { names: { b: 1 }, exact: 'y', nested: { either: true } })).toEqual([
      'names.b: invalid name: too short; starts with a',
      'exact: must be x, got "y"',
      'nested.either: a string or a number, got true',
    ]);
  });

  it('explains a bad server name, and a name the separator makes ambiguous, once each', () => {
    expect(lines(configSchema, { mcpServers: { 'bad name': { command: 'x' } } })).toEqual([
      'mcpServers["bad name"]: invalid name: server names use letters, digits, "_", "-" and "."',
    ]);
    const [ambiguous, ...rest] = lines(configSchema, { mcpServers: { a_: { command: 'x' } } });
    expect(rest).toEqual([]);
    expect(ambiguous).toMatch(/^mcpServers\.a_: invalid name: "a_" contains or ends like the namespace separator "__"/);
  });

  it('tells a server entry that is not an object, or names neither command nor url', () => {
    expect(lines(configSchema, { mcpServers: { a: 5 } })).toEqual([
      'mcpServers.a: expected a server object ({"command": ...} or {"url": ...}), got 5',
    ]);
    expect(lines(configSchema, { mcpServers: { a: { foo: 1 } } })).toEqual([
      'mcpServers.a: needs "command" (a stdio server) or "url" (a remote server)',
    ]);
    expect(lines(configSchema, { mcpServers: { a: { url: 5, headers: [] } } })).toEqual([
      'mcpServers.a.url: expected an http:// or https:// URL, got 5',
      'mcpServers.a.headers: expected an object of strings, got []',
    ]);
  });
});

describe('serverLines', () => {
  it('judges an entry by the shape it names, dropping the issues the caller cannot judge yet', () => {
    const entry = { command: 'x', args: 'not an array', timeout: 'soon' };
    expect(serverLines(entry, ['mcpServers', 'a'])).toEqual([
      'mcpServers.a.args: expected an array of strings, got "not an array"',
      'mcpServers.a.timeout: expected a number, got "soon"',
    ]);
    expect(serverLines(entry, ['mcpServers', 'a'], (issue) => issue.path[0] !== 'timeout')).toEqual([
      'mcpServers.a.args: expected an array of strings, got "not an array"',
    ]);
    expect(serverLines({ command: 'x' }, ['mcpServers', 'a'])).toEqual([]);
    expect(serverLines(null, ['servers', 'b'])).toEqual([
      'servers.b: expected a server object ({"command": ...} or {"url": ...}), got null',
    ]);
  });
});
