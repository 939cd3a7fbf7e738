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

  it('names the properties the schema does not allow, found in the arguments', () => {
    expect(argumentProblems('data must NOT have additional properties', { a: 1, extra: 2, more: 3 }, schema)).toEqual([
      'extra: is not a property the schema allows',
      'more: is not a property the schema allows',
    ]);
  });

  it('keeps a message of another shape whole', () => {
    expect(argumentProblems('something else', {}, schema)).toEqual(['something else']);
  });
});
