import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDataDir } from '../dataDir.js';
import { OrchError } from '../errors.js';
import { createAuditRepo, type AuditRepo } from './audit.js';
import { createBatchRepo, type BatchRepo } from './batchTasks.js';
import { createKeysRepo, type KeysRepo } from './keys.js';
import { createMembersRepo, type MembersRepo } from './members.js';
import { createMetricsRepo, type MetricsRepo } from './metrics.js';
import { APPLICATION_ID, migrate, SCHEMA_VERSION } from './migrations.js';
import { createPinsRepo, type PinsRepo } from './pins.js';
import { createProjectsRepo, type ProjectsRepo } from './projects.js';
import type { RepoContext } from './repo.js';
import { createSecretsRepo, type SecretsRepo } from './secrets.js';

/**
 * The one SQLite file of a data dir, `mcp-orch.db`: projects, members, keys, secrets, the audit
 * The one SQLite file of a data dir, `mcp-orch.db`: projects, members, keys, secrets, the audit
 * log, pinned tool definitions and the metrics history. Several processes may hold it at once (the
 * daemon and any number of CLI commands): WAL lets readers run beside the one writer, and
 * busy_timeout makes a writer wait its turn instead of failing. Nothing is cached above SQLite, so
 * every query sees every committed row.
 */

export const DATABASE_FILE = 'mcp-orch.db';

export interface StoreOptions {
  /** Milliseconds since the epoch; injected by tests of expiry and retention. */
  clock?: () => number;
  /** How long a write waits for another connection's write to finish. */
  busyTimeoutMs?: number;
  /** How often `onChange` listeners look for commits by other processes. */
  pollMs?: number;
}

export interface Store {
  readonly file: string;
  readonly projects: ProjectsRepo;
  readonly members: MembersRepo;
  readonly keys: KeysRepo;
  readonly secrets: SecretsRepo;
  readonly audit: AuditRepo;
  readonly batch: BatchRepo;
  readonly pins: PinsRepo;
  /** CPU, memory, calls and latency per server over time. */
  readonly metrics: MetricsRepo;
  /** Runs `fn` in one transaction: all of its writes or none. */
  transaction<T>(fn: () => T): T;
  /**
   * Calls `listener` after projects, members or keys change, by this handle at once and by another
   * process within `pollMs` (PRAGMA data_version). Returns the unsubscribe function.
   */
  onChange(listener: () => void): () => void;
  /** `PRAGMA integrity_check`: ['ok'] for a sound file. */
  integrityCheck(): string[];
  /** A consistent copy of the database at `file`, through SQLite's online backup, while others keep writing. */
  backup(file: string): Promise<void>;
  /** Idempotent. */
  close(): void;
}

export function databasePath(dataDir: string): string {
  return path.join(dataDir, DATABASE_FILE);
}

/** Opens (creating if needed) the data dir's database. */
export function openStore(dataDir: string, options: StoreOptions = {}): Store {
  ensurePrivateDataDir(dataDir);
  return openStoreFile(databasePath(dataDir), options);
}

const SQLITE_HEADER = 'SQLite format 3\0';

function incompatible(file: string, why: string, hint: string): OrchError {
  return new OrchError('STORE_INCOMPATIBLE', `${file}: ${why}`, { hint, data: { file } });
}

/** The first 16 bytes of an existing, non-empty file, which every SQLite database starts with. */
function hasSqliteHeader(file: string): boolean | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const header = Buffer.alloc(16);
    const read = fs.readSync(fd, header, 0, 16, 0);
    if (read === 0) return undefined;
    return read === 16 && header.toString('latin1') === SQLITE_HEADER;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses, without writing a byte, a file that is not an mcp-orch database or comes from a newer
 * mcp-orch. An empty database (no tables, no application id) is a new one. Returns its version.
 */
export function checkCompatible(db: Database.Database, file: string): number {
  let applicationId: number;
  let version: number;
  let tables: number;
  try {
    applicationId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    tables = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
  } catch (error) {
    throw incompatible(file, `cannot be read as a database (${(error as Error).message})`, NOT_OURS_HINT);
  }
  if (applicationId === 0 && version === 0 && tables === 0) return 0;
  if (applicationId !== APPLICATION_ID) {
    throw incompatible(file, 'is a SQLite database of another program, not an mcp-orch database; it was left untouched', NOT_OURS_HINT);
  }
  if (version > SCHEMA_VERSION) {
    throw incompatible(
      file,
      `was written by a newer mcp-orch (schema version ${version}; this one knows up to ${SCHEMA_VERSION}); it was left untouched`,
      'upgrade mcp-orch (npm install -g mcp-orch@latest), or use another --data-dir',
    );
  }
  return version;
}

const NOT_OURS_HINT = 'move the file away, or point --data-dir (or MCP_ORCH_DATA_DIR) at another directory';

/** Opens an mcp-orch database file, refusing anything else (see checkCompatible), and migrates it. */
export function openStoreFile(file: string, options: StoreOptions = {}): Store {
  const header = hasSqliteHeader(file);
  if (header === false) {
    throw incompatible(file, 'is not a SQLite database, so not an mcp-orch database; it was left untouched', NOT_OURS_HINT);
  }
  // Only its owner may read it (SQLite gives the -wal and -shm files the same mode).
  if (header === undefined) fs.closeSync(fs.openSync(file, 'a', 0o600));
  const db = new Database(file);
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    checkCompatible(db, file);
    db.pragma('journal_mode = WAL');
    // NORMAL under WAL: a commit survives a crash of the process; only a power loss may drop the last ones.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return storeOf(db, file, options);
}

function storeOf(db: Database.Database, file: string, options: StoreOptions): Store {
  const listeners = new Set<() => void>();
  let notifying = false;
  const notify = (): void => {
    if (notifying || listeners.size === 0) return;
    notifying = true;
    // After the write's transaction, which is synchronous: listeners read committed state.
    queueMicrotask(() => {
      notifying = false;
      for (const listener of [...listeners]) listener();
    });
  };
  const context: RepoContext = { db, clock: options.clock ?? Date.now, changed: notify };
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let poll: NodeJS.Timeout | undefined;
  let seen = 0;
  let closed = false;

  return {
    file,
    projects: createProjectsRepo(context),
    members: createMembersRepo(context),
    keys: createKeysRepo(context),
    secrets: createSecretsRepo(context),
    audit: createAuditRepo(context),
    batch: createBatchRepo(context),
    pins: createPinsRepo(context),
    metrics: createMetricsRepo(context),
    transaction: (fn) => db.transaction(fn).immediate(),
    onChange(listener) {
      listeners.add(listener);
      if (!poll && !closed) {
        seen = dataVersion.get() as number;
        poll = setInterval(() => {
          const version = dataVersion.get() as number;
          if (version !== seen) {
            seen = version;
            notify();
          }
        }, options.pollMs ?? 250);
        poll.unref();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && poll) {
          clearInterval(poll);
          poll = undefined;
        }
      };
    },
    integrityCheck: () => (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check),
    async backup(target) {
      await db.backup(target);
    },
    close() {
      if (closed) return;
      closed = true;
      if (poll) clearInterval(poll);
      listeners.clear();
      db.close();
    },
  };
}
