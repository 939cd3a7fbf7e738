import type { Logger } from '../log.js';
import type { Connection } from './connection.js';
import { describeError } from './connection.js';
import { MODERN_VERSION } from './envelope.js';

/** How long ensure() waits for a 2026 server to acknowledge the listen stream. */
const ACK_WAIT_MS = 2_000;
/** The listen stream is one long request; it is reopened when it ends while the connection lives. */
const LISTEN_TIMEOUT_MS = 24 * 3600_000;
const REOPEN_MS = 1_000;

interface Open {
  connection: Connection;
  abort: AbortController;
  acknowledged: Promise<void>;
  ack: () => void;
}

/**
 * The gateway's one subscriptions/listen stream to a 2026 server, for the life of each connection
 * (a 2026-only server from the start; a dual-era one once a 2026 client listens), reopened when the
 * server ends it. The server announces list changes there, as a 2025 server does with notifications.
 */
export class ListenStream {
  private open: Open | undefined;
  /** The connection whose stream ended last: a stream opened on it again may have missed changes. */
  private endedOn: Connection | undefined;

  /** `resync` re-reads the lists, for changes announced while no stream was open. */
  constructor(
    private readonly log: Logger,
    private readonly current: () => Connection | undefined,
    private readonly resync: (connection: Connection) => void,
  ) {}

  /** Opens the stream on the current connection if it speaks 2026; resolves on the acknowledgement (or after 2 s). */
  ensure(): Promise<void> {
    const connection = this.current();
    if (!connection || connection.era !== MODERN_VERSION) return Promise.resolve();
    if (this.open?.connection === connection) return this.open.acknowledged;
    const abort = new AbortController();
    let ack = (): void => undefined;
    const acknowledged = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ACK_WAIT_MS);
      timer.unref();
      ack = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const open: Open = { connection, abort, acknowledged, ack };
    this.open = open;
    if (this.endedOn === connection) {
      void acknowledged.then(() => {
        if (this.open === open) this.resync(connection);
      });
    }
    const filter = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };
    void connection
      .request('subscriptions/listen', { notifications: filter }, { signal: abort.signal, timeoutMs: LISTEN_TIMEOUT_MS, envelope: true })
      .catch(
        // Stryker disable next-line all: a debug log only; what follows the end is in finally
        (error: unknown) => this.log.debug({ err: describeError(error) }, 'listen stream ended'),
      )
      .finally(() => {
        if (this.open !== open) return;
        this.open = undefined;
        // Stryker disable next-line ConditionalExpression,LogicalOperator: saves a timer and a note only; stop() forgets the stream before it aborts it, the timer checks the connection again, and a connection gone is never listened on again
        if (abort.signal.aborted || this.current() !== connection) return;
        this.endedOn = connection;
        setTimeout(() => {
          if (this.current() === connection) void this.ensure();
        }, REOPEN_MS).unref();
      });
    return acknowledged;
  }

  /** The server acknowledged a listen stream. */
  acknowledged(): void {
    this.open?.ack();
  }

  /** Ends the stream (the connection is going away). */
  stop(): void {
    this.open?.abort.abort();
    this.open = undefined;
  }
}
