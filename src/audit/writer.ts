import type { AuditSettings } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AuditRepo, AuditRow } from '../store/audit.js';
import { toAuditRow, type AuditEvent } from './events.js';

/**
 * The audit log's writer: `record()` only turns the event into a row and queues it, so a request
 * never waits for the disk. Rows are written in one transaction per batch, every `flushMs` or as
 * soon as `maxBatch` are waiting, and `close()` writes what is left. A failed write keeps its rows
 * for the next attempt; only past `maxPending` (the database failing for a long time) are the
 * oldest dropped, and then the log says how many.
 */

/** What the gateway and the HTTP layer call. */
export interface AuditSink {
  record(event: AuditEvent): void;
}

export interface AuditLog extends AuditSink {
  /** Writes every queued row now. */
  flush(): void;
  /** Deletes rows past `retainDays` and `maxRows`; returns how many. */
  prune(): number;
  readonly pending: number;
  /** Calls `listener` with every event recorded from now on (alerts on failed authentications); returns the unsubscribe. */
  onRecord(listener: (event: AuditEvent) => void): () => void;
  /** Writes what is queued and stops the timers. Idempotent; a later `record` is written at once. */
  close(): void;
}

export interface AuditLogOptions {
  audit: Pick<AuditRepo, 'append' | 'prune'>;
  settings: AuditSettings;
  logger: Logger;
  clock?: () => number;
  flushMs?: number;
  maxBatch?: number;
  maxPending?: number;
  /** How often retention runs (besides once at start). */
  pruneEveryMs?: number;
}

const DAY_MS = 86_400_000;

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { audit, settings } = options;
  const log = options.logger.child({ component: 'audit' });
  const clock = options.clock ?? Date.now;
  const flushMs = options.flushMs ?? 100;
  const maxBatch = options.maxBatch ?? 500;
  const maxPending = options.maxPending ?? 100_000;
  let queue: AuditRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let closed = false;
  const listeners = new Set<(event: AuditEvent) => void>();

  /**
   * Writes rows in one transaction and returns those still to write: all of them when the database
   * refuses (busy, full disk), to try again. A value SQLite cannot bind (a TypeError or RangeError
   * from the driver) is the row's own fault: the batch is written row by row, so that such a row
   * is dropped, said, and holds back no other.
   */
  const write = (rows: AuditRow[]): AuditRow[] => {
    try {
      audit.append(rows);
      return [];
    } catch (error) {
      const err = (error as Error).message;
      if (!(error instanceof TypeError || error instanceof RangeError)) {
        log.error({ rows: rows.length, err }, 'audit rows not written yet; will retry');
        return rows;
      }
      if (rows.length > 1) return rows.flatMap((row) => write([row]));
      log.error({ type: rows[0]!.type, err }, 'audit row dropped: it holds a value the database cannot store');
      return [];
    }
  };

  const flush = (): void => {
    if (timer) clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
    timer = undefined;
    immediate = undefined;
    if (queue.length === 0) return;
    const rows = queue;
    queue = [];
    const unwritten = write(rows);
    if (unwritten.length === 0) return;
    queue = unwritten.concat(queue);
    if (queue.length > maxPending) {
      const dropped = queue.length - maxPending;
      queue = queue.slice(dropped);
      log.error({ dropped }, 'audit rows dropped: the database has refused writes for too long');
    }
    if (!closed) schedule();
  };

  const schedule = (): void => {
    if (queue.length >= maxBatch) {
      immediate ??= setImmediate(flush);
      return;
    }
    if (!timer) {
      timer = setTimeout(flush, flushMs);
      timer.unref();
    }
  };

  const prune = (): number => {
    const before = settings.retainDays > 0 ? clock() - settings.retainDays * DAY_MS : undefined;
    const removed = audit.prune({ before, maxRows: settings.maxRows || undefined });
    if (removed > 0) log.info({ removed }, 'old audit rows deleted');
    return removed;
  };
  const safePrune = (): void => {
    try {
      prune();
    } catch (error) {
      log.warn({ err: (error as Error).message }, 'audit retention did not run; will try again');
    }
  };
  safePrune();
  const pruneTimer = setInterval(safePrune, options.pruneEveryMs ?? 3_600_000);
  pruneTimer.unref();

  return {
    record(event) {
      for (const listener of listeners) listener(event);
      const row = toAuditRow(event, clock(), settings.arguments);
      if (closed) {
        if (write([row]).length > 0) log.error({ type: event.type }, 'audit row lost after close');
        return;
      }
      queue.push(row);
      schedule();
    },
    flush,
    prune,
    get pending() {
      return queue.length;
    },
    onRecord(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(pruneTimer);
      flush();
      if (queue.length > 0) log.error({ lost: queue.length }, 'audit rows could not be written before close');
    },
  };
}
