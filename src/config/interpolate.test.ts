import { describe, expect, it } from 'vitest';
import { interpolateEnv } from './interpolate.js';

describe('interpolateEnv', () => {
  it('passes values that are not strings through as they are, null included', () => {
    const value = { a: null, b: [1, true, null], c: { d: '${X}' } };
    expect(interpolateEnv(value, { X: 'x' })).toEqual({
      value: { a: null, b: [1, true, null], c: { d: 'x' } },
      missing: [],
      unsupported: [],
    });
  });
});
