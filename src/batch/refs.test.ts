import { describe, expect, it } from 'vitest';
import { parseCondition, refsInValue, resolveValue, RefError, truthy, type Scope } from './refs.js';

const results: Record<string, unknown> = {
  repos: { items: [{ name: 'alpha', 'full name': 'org/alpha', stars: 3 }, { name: 'beta' }] },
  count: 2,
};
const scope = (extra: Partial<Scope> = {}): Scope => ({
  result: (id) => {
    if (!(id in results)) throw new RefError(`step "${id}" has no result`);
    return results[id];
  },
  ...extra,
});

describe('references', () => {
  it('keep the value of a string that is one reference, and write others into the text', () => {
    expect(resolveValue('${steps.repos.result.items[0].stars}', scope())).toBe(3);
    expect(resolveValue('${steps.repos.result.items}', scope())).toEqual([
      { name: 'alpha', 'full name': 'org/alpha', stars: 3 },
      { name: 'beta' },
    ]);
    expect(
      resolveValue(
        { title: '${steps.repos.result.items[0]["full name"]} has ${steps.count.result} of ${steps.repos.result.items[1]}' },
        scope(),
      ),
    ).toEqual({
      title: 'org/alpha has 2 of {"name":"beta"}',
    });
    expect(resolveValue('costs $${steps.count.result} and $5', scope())).toBe('costs ${steps.count.result} and $5');
  });

  it('give a map step its element and position', () => {
    expect(resolveValue({ repo: '${item.name}', position: '${index}' }, scope({ item: { name: 'beta' }, index: 1 }))).toEqual({
      repo: 'beta',
      position: 1,
    });
    expect(() => resolveValue('${item}', scope())).toThrow("allowed only in a map step's arguments");
  });

  it('say what is missing when a path cannot be followed', () => {
    expect(() => resolveValue('${steps.repos.result.items[5].name}', scope())).toThrow(
      'reference "${steps.repos.result.items[5].name}": steps.repos.result.items has no [5] (it is a list of 2)',
    );
    expect(() => resolveValue('${steps.count.result.x}', scope())).toThrow('steps.count.result has no "x" (it is number)');
    expect(() => resolveValue('${steps.other.result}', scope())).toThrow('step "other" has no result');
  });

  it('are found at any depth, and malformed ones are refused by name', () => {
    expect(refsInValue({ a: ['${steps.x.result}', { b: 'and ${steps.y.result.z}' }], n: 1 }).map((ref) => ref.text)).toEqual([
      'steps.x.result',
      'steps.y.result.z',
    ]);
    expect(() => refsInValue('${repos.items}')).toThrow('expected ${steps.ID.result...}, ${item...} or ${index}');
    expect(() => refsInValue('${steps.x.result.a-b}')).toThrow('cannot read "-b"');
  });

  it('make conditions of one reference, negated with "!"; empty lists and objects are false', () => {
    expect(parseCondition('!${steps.count.result}')).toMatchObject({ negated: true, ref: { kind: 'step', step: 'count' } });
    expect(() => parseCondition('${steps.a.result} and ${steps.b.result}')).toThrow('expected one reference');
    expect([[], {}, 0, '', null, [0], { a: 1 }, 'x'].map(truthy)).toEqual([false, false, false, false, false, true, true, true]);
  });
});
