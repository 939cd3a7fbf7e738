import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WireError } from '../errors.js';
import { ChannelClosedError, ChannelSendError, ChannelTimeoutError, ChannelUndeliveredError, RequestChannel } from './channel.js';

/** A transport that records what is sent; answers are fed to the channel by the test. */
function recording() {
  const sent: JSONRPCMessage[] = [];
  const transport: Transport = {
    start: async () => undefined,
    close: async () => undefined,
    send: async (message) => void sent.push(message),
  };
  return { channel: new RequestChannel(transport), sent };
}

const idOf = (message: JSONRPCMessage | undefined): string => (message as { id: string }).id;

describe('RequestChannel', () => {
  afterEach(() => vi.useRealTimers());

  it('answers each request by its own id, and leaves other messages to the SDK client', async () => {
    const { channel, sent } = recording();
    const first = channel.request({ method: 'a' }, { timeoutMs: 1000 });
    const second = channel.request({ method: 'b', params: { x: 1 } }, { timeoutMs: 1000 });
    expect(sent.map((m) => (m as { method: string }).method)).toEqual(['a', 'b']);
    expect(channel.accept({ jsonrpc: '2.0', id: idOf(sent[1]), result: { b: true } })).toBe(true);
    expect(
      channel.accept({ jsonrpc: '2.0', id: idOf(sent[0]), error: { code: -32602, message: 'MCP error -32602: bad', data: { why: 1 } } }),
    ).toBe(true);
    expect(channel.accept({ jsonrpc: '2.0', id: 0, result: {} })).toBe(false); // the SDK client's own numbering
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/message', params: {} })).toBe(false);
    await expect(second).resolves.toEqual({ b: true });
    const error = await first.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WireError);
    expect(error).toMatchObject({ code: -32602, message: 'bad', data: { why: 1 } });
    expect(channel.size).toBe(0);
  });

  it('cancels upstream when the caller aborts, and times out without progress', async () => {
    vi.useFakeTimers();
    const { channel, sent } = recording();
    const abort = new AbortController();
    const aborted = channel.request({ method: 'slow' }, { timeoutMs: 10_000, signal: abort.signal }).catch((e: unknown) => e);
    abort.abort(new Error('client went away'));
    expect(String(await aborted)).toContain('client went away');
    expect(sent[1]).toMatchObject({ method: 'notifications/cancelled', params: { requestId: idOf(sent[0]) } });

    const progress: number[] = [];
    const timed = channel
      .request({ method: 'slow' }, { timeoutMs: 1000, onprogress: (p) => progress.push(p.progress) })
      .catch((e: unknown) => e);
    const token = (sent[2] as { params: { _meta: { progressToken: string } } }).params._meta.progressToken;
    vi.advanceTimersByTime(900);
    channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: 1 } });
    vi.advanceTimersByTime(900); // progress reset the timeout
    expect(progress).toEqual([1]);
    vi.advanceTimersByTime(200);
    expect(await timed).toBeInstanceOf(ChannelTimeoutError);
    expect(sent.at(-1)).toMatchObject({ method: 'notifications/cancelled', params: { requestId: idOf(sent[2]) } });
  });

  it('fails what is in flight, and what comes later, once the connection closes', async () => {
    const { channel } = recording();
    const pending = channel.request({ method: 'a' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    channel.close();
    expect(await pending).toBeInstanceOf(ChannelClosedError);
    expect(await channel.request({ method: 'b' }, { timeoutMs: 1000 }).catch((e: unknown) => e)).toBeInstanceOf(ChannelClosedError);
  });
});

describe('RequestChannel, message by message', () => {
  afterEach(() => vi.useRealTimers());

  it('sends a request without params as it is, and tells its id before anything is sent', async () => {
    const { channel, sent } = recording();
    const told: unknown[] = [];
    channel.request({ method: 'ping' }, { timeoutMs: 1000, onSent: (id) => told.push(id, sent.length) }).catch(() => undefined);
    expect(sent).toEqual([{ jsonrpc: '2.0', id: 'o1', method: 'ping' }]);
    expect(told).toEqual(['o1', 0]);
    expect(channel.size).toBe(1);
    channel.close();
  });

  it("asks for progress with the request's own id as token, keeping the other _meta keys", () => {
    const { channel, sent } = recording();
    channel
      .request({ method: 'tools/call', params: { name: 'x', _meta: { other: 1 } } }, { timeoutMs: 1000, onprogress: () => undefined })
      .catch(() => undefined);
    channel.request({ method: 'tools/call', params: { name: 'y', _meta: { other: 2 } } }, { timeoutMs: 1000 }).catch(() => undefined);
    expect(sent).toEqual([
      { jsonrpc: '2.0', id: 'o1', method: 'tools/call', params: { name: 'x', _meta: { other: 1, progressToken: 'o1' } } },
      { jsonrpc: '2.0', id: 'o2', method: 'tools/call', params: { name: 'y', _meta: { other: 2 } } },
    ]);
    channel.close();
  });

  it('relays progress without its token, only for its own requests', async () => {
    const { channel } = recording();
    const seen: object[] = [];
    const pending = channel.request({ method: 'slow' }, { timeoutMs: 1000, onprogress: (p) => seen.push(p) });
    expect(
      channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'o1', progress: 1, total: 2 } }),
    ).toBe(true);
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'o9', progress: 1 } })).toBe(false);
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } })).toBe(false);
    expect(seen).toEqual([{ progress: 1, total: 2 }]);
    expect(channel.accept({ jsonrpc: '2.0', id: 'o1', result: { done: true } })).toBe(true);
    await expect(pending).resolves.toEqual({ done: true });
    // Answered: a late answer or progress is not ours any more.
    expect(channel.accept({ jsonrpc: '2.0', id: 'o1', result: {} })).toBe(false);
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'o1', progress: 2 } })).toBe(false);
  });

  it('takes an answer without a result for an empty result, and an error without code or message for an internal error', async () => {
    const { channel } = recording();
    const empty = channel.request({ method: 'a' }, { timeoutMs: 1000 });
    const bare = channel.request({ method: 'b' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    const nulled = channel.request({ method: 'c' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    channel.accept({ jsonrpc: '2.0', id: 'o1' } as never);
    channel.accept({ jsonrpc: '2.0', id: 'o2', error: { code: 'x' } } as never);
    channel.accept({ jsonrpc: '2.0', id: 'o3', error: null } as never);
    await expect(empty).resolves.toEqual({});
    expect(await bare).toMatchObject({ code: -32603, message: 'error' });
    expect(await nulled).toMatchObject({ code: -32603, message: 'error' });
    expect(channel.accept({ jsonrpc: '2.0', method: 'x', id: 'o4' } as never)).toBe(false);
  });

  it('tells the server why a request was cancelled, and refuses at once a request whose caller already left', async () => {
    const { channel, sent } = recording();
    const abort = new AbortController();
    const pending = channel.request({ method: 'slow' }, { timeoutMs: 1000, signal: abort.signal }).catch((e: unknown) => e);
    abort.abort('gone');
    expect(String(await pending)).toBe('Error: gone');
    expect(sent[1]).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'o1', reason: 'gone' } });
    expect(channel.size).toBe(0);
    const late = await channel.request({ method: 'slow' }, { timeoutMs: 1000, signal: abort.signal }).catch((e: unknown) => e);
    expect(String(late)).toBe('Error: gone');
    expect(sent).toHaveLength(2);
  });

  it('says the timeout, and tells the server it timed out', async () => {
    vi.useFakeTimers();
    const { channel, sent } = recording();
    const pending = channel.request({ method: 'slow' }, { timeoutMs: 250 }).catch((e: unknown) => e);
    vi.advanceTimersByTime(249);
    expect(channel.size).toBe(1);
    vi.advanceTimersByTime(1);
    const error = (await pending) as Error;
    expect(error).toBeInstanceOf(ChannelTimeoutError);
    expect(error.message).toBe('no answer within 250 ms');
    expect(sent[1]).toEqual({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'o1', reason: 'timed out' } });
    expect(channel.size).toBe(0);
  });

  it('fails a request the transport could not send, saying why', async () => {
    const failing = (error: unknown): RequestChannel =>
      new RequestChannel({ start: async () => undefined, close: async () => undefined, send: () => Promise.reject(error) });
    const own = new Error('fetch failed');
    const error = (await failing(own)
      .request({ method: 'a' }, { timeoutMs: 1000 })
      .catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(ChannelSendError);
    expect(error.message).toBe('fetch failed');
    expect(error.cause).toBe(own);
    const wrapped = (await failing('down')
      .request({ method: 'a' }, { timeoutMs: 1000 })
      .catch((e: unknown) => e)) as Error;
    expect(wrapped).toBeInstanceOf(ChannelSendError);
    expect(wrapped.message).toBe('down');
  });

  it('keeps the first reason it was closed for', async () => {
    const { channel } = recording();
    channel.close('the server exited');
    channel.close('later');
    const error = (await channel.request({ method: 'a' }, { timeoutMs: 1000 }).catch((e: unknown) => e)) as Error;
    expect(error.message).toBe('the server exited');
    const fresh = recording().channel;
    fresh.close();
    expect(((await fresh.request({ method: 'a' }, { timeoutMs: 1000 }).catch((e: unknown) => e)) as Error).message).toBe(
      'connection closed',
    );
  });

  it('closed with a request the server never saw, fails that one as undelivered and the others as closed', async () => {
    const { channel, sent } = recording();
    const seen = channel.request({ method: 'a' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    const unseen = channel.request({ method: 'b' }, { timeoutMs: 1000 }).catch((e: unknown) => e);
    channel.close('the server forgot the session', idOf(sent[1]));
    const [first, second] = (await Promise.all([seen, unseen])) as Error[];
    expect(first).toBeInstanceOf(ChannelClosedError);
    expect(first).not.toBeInstanceOf(ChannelUndeliveredError);
    expect(second).toBeInstanceOf(ChannelUndeliveredError);
    expect([first!.message, second!.message]).toEqual(['the server forgot the session', 'the server forgot the session']);
    expect(channel.size).toBe(0);
  });

  it('sends no cancellation for a request already answered when its caller leaves', async () => {
    const { channel, sent } = recording();
    const abort = new AbortController();
    const pending = channel.request({ method: 'a' }, { timeoutMs: 1000, signal: abort.signal });
    channel.accept({ jsonrpc: '2.0', id: 'o1', result: {} });
    await pending;
    abort.abort(new Error('left'));
    expect(sent).toHaveLength(1);
  });

  it('takes progress without params, or for a request that asked for none, without failing', async () => {
    const { channel } = recording();
    const pending = channel.request({ method: 'a' }, { timeoutMs: 1000 });
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/progress' } as never)).toBe(false);
    expect(channel.accept({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 'o1', progress: 1 } })).toBe(true);
    channel.accept({ jsonrpc: '2.0', id: 'o1', result: { ok: 1 } });
    await expect(pending).resolves.toEqual({ ok: 1 });
  });

  it("never takes the server's own request for an answer, whatever its id", async () => {
    const { channel } = recording();
    const pending = channel.request({ method: 'a' }, { timeoutMs: 1000 });
    expect(channel.accept({ jsonrpc: '2.0', id: 'o1', method: 'sampling/createMessage', params: {} })).toBe(false);
    expect(channel.size).toBe(1);
    channel.accept({ jsonrpc: '2.0', id: 'o1', result: { answer: true } });
    await expect(pending).resolves.toEqual({ answer: true });
  });
});
