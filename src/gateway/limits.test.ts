import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/helpers/logs.js';
import { OrchError } from '../errors.js';
import { createLogger } from '../log.js';
import { allowsBatches, negotiatedVersion, Quotas, type Limits } from './limits.js';

const limits: Limits = {
  sessions: 4,
  sessionsPerClient: 3,
  streams: 3,
  streamsPerClient: 2,
  inFlight: 2,
  batch: 3,
  streamBufferBytes: 64 * 1024,
};

const quotas = () => new Quotas(limits, createLogger({ level: 'silent' }));

function refusal(admit: () => unknown): OrchError {
  try {
    admit();
  } catch (error) {
    return error as OrchError;
  }
  throw new Error('admitted');
}

describe('Quotas', () => {
  it('admits sessions up to the per-client limit (429, retry in 1s), then up to the total (503, retry in 5s)', () => {
    const q = quotas();
    const held = [q.admitSession('a'), q.admitSession('a'), q.admitSession('a')];
    expect(q.held).toEqual({ sessions: 3, streams: 0, requests: 0 });
    expect(refusal(() => q.admitSession('a'))).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'too many sessions from a: 3 at most per client',
      hint: 'close some first, or raise orch.limits.sessionsPerClient',
      retryAfterSec: 1,
      data: { limit: 'sessionsPerClient', max: 3 },
    });
    q.admitSession('b');
    expect(refusal(() => q.admitSession('c'))).toMatchObject({
      code: 'LIMIT_REACHED',
      message: 'mcp-orch holds 4 sessions already',
      hint: 'try again later, or raise orch.limits.sessions',
      retryAfterSec: 5,
      data: { limit: 'sessions', max: 4 },
    });
    // A release gives back one place, once, however often it is called.
    held[0]!();
    held[0]!();
    expect(q.held.sessions).toBe(3);
    const again = q.admitSession('c');
    expect(refusal(() => q.admitSession('d')).code).toBe('LIMIT_REACHED');
    again();
    held[1]!();
    // "a" has one left, so it may open two more.
    q.admitSession('a');
    expect(q.held.sessions).toBe(3);
    q.admitSession(undefined);
    expect(refusal(() => q.admitSession('e')).message).toBe('mcp-orch holds 4 sessions already');
  });

  it('counts local callers (no address) under one name', () => {
    const q = quotas();
    q.admitSession(undefined);
    q.admitSession(undefined);
    q.admitSession(undefined);
    expect(refusal(() => q.admitSession(undefined)).message).toBe('too many sessions from local: 3 at most per client');
  });

  it('counts a client’s places by address, forgetting one with none left', () => {
    const q = quotas();
    const first = q.admitSession('a');
    first();
    // After "a" held and gave back one, it may hold all three again.
    q.admitSession('a');
    q.admitSession('a');
    q.admitSession('a');
    expect(refusal(() => q.admitSession('a')).code).toBe('RATE_LIMITED');
  });

  it('gives a client back one place per release, not all of them', () => {
    const q = quotas();
    const [first, second] = [q.admitSession('a'), q.admitSession('a'), q.admitSession('a')];
    first!();
    q.admitSession('a');
    expect(refusal(() => q.admitSession('a')).code).toBe('RATE_LIMITED');
    second!();
    q.admitSession('a');
    expect(refusal(() => q.admitSession('a')).code).toBe('RATE_LIMITED');
  });

  it('bounds stateless requests in flight per address only', () => {
    const q = quotas();
    const one = q.admitRequest('a');
    q.admitRequest('a');
    expect(refusal(() => q.admitRequest('a'))).toMatchObject({
      code: 'RATE_LIMITED',
      message: 'too many requests in flight from a: 2 at most per client',
      // orch.limits has no inFlightPerClient: inFlight is the setting to raise.
      hint: 'close some first, or raise orch.limits.inFlight',
      data: { limit: 'inFlight', max: 2 },
    });
    expect(q.held.requests).toBe(2);
    for (const address of ['b', 'c', 'd', 'e']) q.admitRequest(address);
    one();
    q.admitRequest('a');
  });

  it('admits event streams per client and in all, and takes each place back when its stream ends', async () => {
    const q = quotas();
    const ended: string[] = [];
    const first = q.openStream('a', { onend: (reason) => ended.push(reason) });
    q.openStream('a');
    expect(refusal(() => q.openStream('a'))).toMatchObject({
      message: 'too many open event streams from a: 2 at most per client',
      data: { limit: 'streamsPerClient', max: 2 },
    });
    q.openStream('b');
    expect(refusal(() => q.openStream('c'))).toMatchObject({ code: 'LIMIT_REACHED', data: { limit: 'streams', max: 3 } });
    expect(q.held.streams).toBe(3);
    first.end();
    expect(ended).toEqual(['closed']);
    expect(q.held.streams).toBe(2);
    q.openStream('a');
  });

  it('drops a stream whose client left more than streamBufferBytes unread, and tells the operator which client it was', () => {
    const { logger, entries } = captureLogger();
    const q = new Quotas(limits, logger);
    const ended: string[] = [];
    const stream = q.openStream('a', { onend: (reason) => ended.push(reason), keepaliveMs: 0 });
    q.openStream('b', { keepaliveMs: 0 }).end();
    const big = 'x'.repeat(70 * 1024);
    for (let i = 0; i < 3 && ended.length === 0; i++)
      stream.send({ jsonrpc: '2.0', method: 'notifications/message', params: { data: big } });
    expect(ended).toEqual(['overflow']);
    expect(q.held.streams).toBe(0);
    // One warning, for "a" alone: a stream that ends as usual is no news.
    expect(entries).toEqual([expect.objectContaining({ level: 40, client: 'a', maxBufferedBytes: limits.streamBufferBytes })]);
  });

  it('refuses a batch longer than the limit, and nothing else', () => {
    const q = quotas();
    expect(q.batchRefusal([1, 2, 3])).toBeUndefined();
    expect(q.batchRefusal({ length: 10 })).toBeUndefined();
    const refused = q.batchRefusal([1, 2, 3, 4]);
    expect(refused).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'Invalid Request: a batch of 4 messages; 3 at most',
      hint: 'send fewer messages per request, or raise orch.limits.batch',
    });
    expect(() => q.checkBatch([1, 2, 3, 4])).toThrow('a batch of 4 messages');
    expect(() => q.checkBatch([1, 2, 3])).not.toThrow();
  });
});

describe('protocol revisions', () => {
  it('settles on the requested revision when supported, else the latest', () => {
    expect(negotiatedVersion('2025-03-26')).toBe('2025-03-26');
    expect(negotiatedVersion('1999-01-01')).toBe(LATEST_PROTOCOL_VERSION);
  });

  it('allows JSON-RPC batches before 2025-06-18 only', () => {
    expect(allowsBatches(undefined)).toBe(true);
    expect(allowsBatches('2025-03-26')).toBe(true);
    expect(allowsBatches('2025-06-18')).toBe(false);
    expect(allowsBatches('2025-11-25')).toBe(false);
  });
});
