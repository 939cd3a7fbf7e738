import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WireError } from '../errors.js';
import { ChannelClosedError, ChannelTimeoutError, RequestChannel } from './channel.js';

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
