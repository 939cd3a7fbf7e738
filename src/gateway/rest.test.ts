import { describe, expect, it } from 'vitest';
import { argumentProblems } from './rest.js';

describe('argumentProblems', () => {
  const schema = {
    type: 'object',
    properties: { a: { type: 'number' }, list: { type: 'array', items: { type: 'object', properties: { x: { type: 'string' } } } } },
    required: ['a'],
    additionalProperties: false,
  };

  it('names each field by its path in the arguments', () => {
    expect(
      argumentProblems("data/a must be number, data/list/0/x must be string, data must have required property 'b'", {}, schema),
    ).toEqual(['a: must be number', 'list[0].x: must be string', 'b: is required']);
  });

  it('names a required property by its whole name, under its parent', () => {
    expect(argumentProblems("data/list/3 must have required property 'name'", {}, schema)).toEqual(['list[3].name: is required']);
  });

  it('writes an index of any length in brackets, and only an index', () => {
    expect(argumentProblems('data/list/12/x must be string, data/a1/1a must be string', {}, schema)).toEqual([
      'list[12].x: must be string',
      'a1.1a: must be string',
    ]);
  });

  it('decodes the escapes of a JSON pointer in a property name', () => {
    expect(argumentProblems('data/a~1b/c~0d must be string', {}, schema)).toEqual(['a/b.c~d: must be string']);
  });

  it('names a problem of the arguments as a whole as such', () => {
    expect(argumentProblems('data must be object', [], schema)).toEqual(['(arguments): must be object']);
  });

  it('names the properties the schema does not allow, found in the arguments', () => {
    expect(argumentProblems('data must NOT have additional properties', { a: 1, extra: 2, more: 3 }, schema)).toEqual([
      'extra: is not a property the schema allows',
      'more: is not a property the schema allows',
    ]);
  });

  it('finds the stray properties inside arrays, at any index', () => {
    const items: object[] = Array.from({ length: 12 }, () => ({ x: 'ok' }));
    items[11] = { x: 'ok', y: 1 };
    expect(argumentProblems('data/list/11 must NOT have additional properties', { a: 1, list: items }, schema)).toEqual([
      'list[11].y: is not a property the schema allows',
    ]);
  });

  it('follows properties for a name and items for an index, in a schema that has both', () => {
    const both = {
      type: ['object', 'array'],
      items: { type: 'object', properties: { i: {} }, additionalProperties: false },
      properties: {
        '1a': { type: 'object', properties: { p: {} }, additionalProperties: false },
        a1: { type: 'object', properties: { p: {} }, additionalProperties: false },
      },
    };
    expect(argumentProblems('data/1a must NOT have additional properties', { '1a': { p: 1, q: 2 } }, both)).toEqual([
      '1a.q: is not a property the schema allows',
    ]);
    expect(argumentProblems('data/a1 must NOT have additional properties', { a1: { p: 1, r: 2 } }, both)).toEqual([
      'a1.r: is not a property the schema allows',
    ]);
    expect(argumentProblems('data/0 must NOT have additional properties', [{ i: 1, j: 2 }], both)).toEqual([
      '[0].j: is not a property the schema allows',
    ]);
  });

  it('keeps the message whole where the stray properties cannot be told', () => {
    const noProperties = { type: 'object', additionalProperties: false };
    expect(argumentProblems('data must NOT have additional properties', { x: 1 }, noProperties)).toEqual([
      '(arguments): must NOT have additional properties',
    ]);
    // Arguments that are not there, or not an object, where the message points.
    expect(argumentProblems('data/list/0 must NOT have additional properties', { a: 1 }, schema)).toEqual([
      'list[0]: must NOT have additional properties',
    ]);
    expect(argumentProblems('data/a/b/c must NOT have additional properties', { a: { b: null } }, schema)).toEqual([
      'a.b.c: must NOT have additional properties',
    ]);
    expect(
      argumentProblems('data/a must NOT have additional properties', { a: 'text' }, { properties: { a: { properties: {} } } }),
    ).toEqual(['a: must NOT have additional properties']);
    expect(argumentProblems('data must NOT have additional properties', { x: 1 }, true)).toEqual([
      '(arguments): must NOT have additional properties',
    ]);
  });

  it('names extra properties only for the message that says so', () => {
    expect(argumentProblems('data must NOT have more than 1 properties', { a: 1, extra: 2 }, schema)).toEqual([
      '(arguments): must NOT have more than 1 properties',
    ]);
  });

  it('keeps a message of another shape whole', () => {
    expect(argumentProblems('something else', {}, schema)).toEqual(['something else']);
    expect(argumentProblems('the data/a field is off', {}, schema)).toEqual(['the data/a field is off']);
    expect(argumentProblems("data/a must have required property 'b' first", {}, schema)).toEqual([
      "a: must have required property 'b' first",
    ]);
    expect(argumentProblems("data/a is off: must have required property 'b'", {}, schema)).toEqual([
      "a: is off: must have required property 'b'",
    ]);
  });
});
