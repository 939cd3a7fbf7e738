import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../log.js';
import type { Connection } from './connection.js';
import type { ProtocolEra } from './envelope.js';
import { ListenStream } from './listen.js';

interface Sent {
  method: string;
  params: unknown;
  options: { signal?: AbortSignal; timeoutMs: number; envelope?: boolean };
  end(): void;
}

/** A connection in `era` that records its requests; each stays open until the test ends it. */
function recordingConnection(era: ProtocolEra): { connection: Connection; sent: Sent[] } {
  const sent: Sent[] = [];
  const connection = {
    era,
    request: (method: string, params: unknown, options: Sent['options']) =>
      new Promise<Result>((resolve, reject) => {
        sent.push({ method, params, options, end: () => resolve({}) });
        options.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      }),
  } as unknown as Connection;
  return { connection, sent };
}

const logger = createLogger({ level: 'silent' });

/** A listen stream on a recording 2026 connection, and the connections it asked to read the lists of again. */
function resyncing() {
  const { connection, sent } = recordingConnection('2026-07-28');
  const resynced: Connection[] = [];
  const listen = new ListenStream(
    logger,
    () => connection,
    (on) => resynced.push(on),
  );
  return { connection, sent, resynced, listen };
}
const noResync = (): void => undefined;
const settled = async (promise: Promise<void>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
};

describe('ListenStream', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens nothing without a connection, or on a connection of the initialize era', async () => {
    const none = new ListenStream(logger, () => undefined, noResync);
    expect(await settled(none.ensure())).toBe(true);
    none.acknowledged(); // an acknowledgement with no stream open is nothing to act on
    none.stop();
    const { connection, sent } = recordingConnection('2025-11-25');
    expect(await settled(new ListenStream(logger, () => connection, noResync).ensure())).toBe(true);
    expect(sent).toEqual([]);
  });

  it('opens one stream for every list change, with the envelope, and resolves once the server acknowledges it', async () => {
    const { connection, sent } = recordingConnection('2026-07-28');
    const listen = new ListenStream(logger, () => connection, noResync);
    const first = listen.ensure();
    expect(listen.ensure()).toBe(first);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      method: 'subscriptions/listen',
      params: { notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true } },
      options: { timeoutMs: 24 * 3600_000, envelope: true },
    });
    expect(await settled(first)).toBe(false);
    listen.acknowledged();
    expect(await settled(first)).toBe(true);
    listen.stop();
  });

  it('resolves after 2 s without an acknowledgement', async () => {
    const { connection } = recordingConnection('2026-07-28');
    const listen = new ListenStream(logger, () => connection, noResync);
    const opening = listen.ensure();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(await settled(opening)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(opening)).toBe(true);
    listen.stop();
  });

  it('reopens a stream the server ended, a second later, while the connection lives', async () => {
    let current: Connection | undefined;
    const { connection, sent } = recordingConnection('2026-07-28');
    current = connection;
    const listen = new ListenStream(logger, () => current, noResync);
    void listen.ensure();
    sent[0]!.end();
    await vi.advanceTimersByTimeAsync(999);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.method).toBe('subscriptions/listen');

    // Ended again, but the connection went away meanwhile: nothing is reopened.
    sent[1]!.end();
    current = undefined;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(2);
  });

  it('does not reopen a stream ended because the connection was replaced before the reopen was due', async () => {
    let current: Connection | undefined;
    const first = recordingConnection('2026-07-28');
    const second = recordingConnection('2026-07-28');
    current = first.connection;
    const listen = new ListenStream(logger, () => current, noResync);
    void listen.ensure();
    first.sent[0]!.end();
    await vi.advanceTimersByTimeAsync(0);
    current = second.connection;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(0);
  });

  it('ends the stream on stop and does not reopen it; the next ensure opens a new one', async () => {
    const { connection, sent } = recordingConnection('2026-07-28');
    const listen = new ListenStream(logger, () => connection, noResync);
    void listen.ensure();
    const signal = sent[0]!.options.signal!;
    listen.stop();
    expect(signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(sent).toHaveLength(1);
    void listen.ensure();
    expect(sent).toHaveLength(2);
    listen.stop();
  });

  it('opens a new stream for a new connection, and a late end of the old one leaves it be', async () => {
    let current: Connection | undefined;
    const first = recordingConnection('2026-07-28');
    const second = recordingConnection('2026-07-28');
    current = first.connection;
    const listen = new ListenStream(logger, () => current, noResync);
    void listen.ensure();
    current = second.connection;
    void listen.ensure();
    expect(second.sent).toHaveLength(1);
    first.sent[0]!.end();
    await vi.advanceTimersByTimeAsync(5_000);
    // The old stream's end neither reopened anything nor forgot the new stream.
    expect(first.sent).toHaveLength(1);
    expect(second.sent).toHaveLength(1);
    void listen.ensure();
    expect(second.sent).toHaveLength(1);
    listen.stop();
  });

  it('reads the lists again once a stream reopened on the same connection is acknowledged, not on its first opening', async () => {
    const { connection, sent, resynced, listen } = resyncing();
    void listen.ensure();
    listen.acknowledged();
    await vi.advanceTimersByTimeAsync(0);
    expect(resynced).toEqual([]);
    sent[0]!.end();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(2);
    expect(resynced).toEqual([]);
    listen.acknowledged();
    await vi.advanceTimersByTimeAsync(0);
    expect(resynced).toEqual([connection]);
    listen.stop();
  });

  it('does not read the lists again for a reopened stream that was stopped before it was acknowledged', async () => {
    const { sent, resynced, listen } = resyncing();
    void listen.ensure();
    sent[0]!.end();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sent).toHaveLength(2);
    listen.stop();
    // The reopened stream's wait for its acknowledgement runs out: it is no longer the open one.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(resynced).toEqual([]);
  });
});
