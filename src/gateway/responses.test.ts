import { describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { errorResponse, requestIdOf, retryAfter } from './responses.js';
import { unknownServer } from './unknown.js';

describe('error responses', () => {
  it('answers a whole HTTP request with the JSON-RPC error, its status and Retry-After', async () => {
    const error = new OrchError('RATE_LIMITED', 'slow down', { retryAfterSec: 3 });
    const response = errorResponse(error, 7, { allow: 'GET' });
    expect([response.status, response.headers.get('retry-after'), response.headers.get('allow')]).toEqual([429, '3', 'GET']);
    expect(await response.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32000, message: 'slow down', data: { orchCode: 'RATE_LIMITED' } },
    });
    const plain = errorResponse(new OrchError('BAD_REQUEST', 'no'));
    expect([plain.status, plain.headers.get('retry-after')]).toEqual([400, null]);
    expect(((await plain.json()) as { id: unknown }).id).toBeNull();
  });

  it('sets Retry-After only for a number of seconds', () => {
    expect(retryAfter({ retryAfterSec: 0 })).toEqual({ 'retry-after': '0' });
    expect(retryAfter({ retryAfterSec: '5' })).toEqual({});
    expect(retryAfter(null)).toEqual({});
    expect(retryAfter(undefined)).toEqual({});
  });

  it('answers the id of a single request only', () => {
    expect(requestIdOf({ id: 'a' })).toBe('a');
    expect(requestIdOf({ id: 0 })).toBe(0);
    expect(requestIdOf({ id: null })).toBeNull();
    expect(requestIdOf({ id: { nested: 1 } })).toBeNull();
    expect(requestIdOf([{ id: 1 }])).toBeNull();
    expect(requestIdOf(null)).toBeNull();
    expect(requestIdOf('1')).toBeNull();
  });
});

describe('unknownServer', () => {
  it('names the configured servers, or says there are none', () => {
    expect(unknownServer('x', ['a', 'b'])).toMatchObject({
      code: 'UNKNOWN_SERVER',
      message: 'unknown server "x"',
      hint: 'configured servers: a, b',
      data: { server: 'x', known: ['a', 'b'] },
    });
    expect(unknownServer('x', []).hint).toBe('no servers are configured');
  });
});
