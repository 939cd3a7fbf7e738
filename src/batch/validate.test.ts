import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import { describe, expect, it } from 'vitest';
import { validatePlan, type ValidateOptions } from './validate.js';

const add: Tool = {
  name: 'add',
  inputSchema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] },
};
const options: ValidateOptions = {
  lookup: (server, tool) =>
    server !== 'math'
      ? { error: `unknown server "${server}"; servers: math` }
      : tool === 'add'
        ? { tool: add }
        : { error: `server "math" has no tool "${tool}"` },
  validator: new AjvJsonSchemaValidator(),
  maxSteps: 5,
  maxParallel: 10,
  llmUnavailable: undefined,
};
const errorsOf = (plan: unknown, more: Partial<ValidateOptions> = {}): string[] => {
  try {
    validatePlan(plan, { ...options, ...more });
    return [];
  } catch (error) {
    return (error as { data: { errors: string[] } }).data.errors;
  }
};
const tool = (id: string, args: Record<string, unknown>, extra: object = {}) => ({
  type: 'tool',
  id,
  server: 'math',
  tool: 'add',
  arguments: args,
  ...extra,
});

describe('validatePlan', () => {
  it('orders steps in waves by what they refer to and need', () => {
    const { order } = validatePlan(
      {
        steps: [
          tool('total', { a: '${steps.one.result.sum}', b: '${steps.two.result.sum}' }),
          tool('one', { a: 1, b: 2 }),
          tool('two', { a: 3, b: 4 }),
          { type: 'llm', id: 'say', prompt: 'Say ${steps.total.result}', needs: ['one'] },
        ],
      },
      options,
    );
    expect(order).toEqual([['one', 'two'], ['total'], ['say']]);
  });

  it('checks literal arguments against the input schema and leaves fields filled by references to run time', () => {
    expect(errorsOf({ steps: [tool('x', { a: 'one', b: 2 })] })).toEqual([
      'steps.x.arguments: data/a must be number (input schema of math/add)',
    ]);
    expect(errorsOf({ steps: [tool('x', { a: 1 })] })).toEqual([
      "steps.x.arguments: data must have required property 'b' (input schema of math/add)",
    ]);
    expect(errorsOf({ steps: [tool('x', { a: 1, b: 2 }), tool('y', { a: '${steps.x.result.sum}', b: 1 })] })).toEqual([]);
  });

  it('names every problem at once: shape, ids, references, tools, cycles, limits and llm steps', () => {
    expect(errorsOf({ steps: [{ type: 'tool', id: '1x', server: 'math' }] })).toEqual([
      'steps.0.id: use letters, digits and "_", starting with a letter or "_" (at most 64)',
      'steps.0.tool: Invalid input: expected string, received undefined',
    ]);
    expect(
      errorsOf(
        {
          maxParallel: 50,
          steps: [
            tool('a', { a: '${steps.b.result}', b: 1 }),
            tool('b', { a: '${steps.a.result}', b: 1 }),
            { type: 'tool', id: 'c', server: 'web', tool: 'get', arguments: {} },
            tool('c', { a: 1, b: 1 }),
            { type: 'map', id: 'd', over: '${item}', server: 'math', tool: 'add', arguments: { a: '${item}', b: 1 } },
            { type: 'llm', id: 'e', prompt: '${index}', schema: {} },
          ],
        },
        { llmUnavailable: 'no model is configured' },
      ),
    ).toEqual([
      'plan: 6 steps, more than orch.batch.maxSteps (5)',
      'plan.maxParallel: 50 is above orch.batch.maxParallel (10)',
      'steps.c: the id is used by another step',
      'steps.c: unknown server "web"; servers: math',
      'steps.d.over: expected one reference to an earlier step\'s list, such as "${steps.ID.result.items}"',
      "steps.e: ${index} is allowed only in a map step's arguments",
      'steps.e: llm steps cannot run here: no model is configured',
      'steps.e.schema: needs "output": "json"',
      'the steps form a cycle: a -> b -> a',
    ]);
  });
});
