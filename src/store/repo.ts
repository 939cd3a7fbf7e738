import type { Database } from 'better-sqlite3';
import { OrchError } from '../errors.js';

/** What every repository of the store is built from: the connection, the clock, and who to tell of a change. */
export interface RepoContext {
  db: Database;
  /** Milliseconds since the epoch. */
  clock: () => number;
  /** Called after a write that others may want to react to (projects, members, keys). */
  changed: () => void;
}

/** SQLite's answer to a second row with the same unique value. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Runs an insert, turning a duplicate into a CONFLICT that names what already exists. */
export function insertUnique<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (isUniqueViolation(error)) throw new OrchError('CONFLICT', `${what} already exists`, { cause: error });
    throw error;
  }
}

/** The value, or the error when there is none. */
export function orThrow<T>(value: T | undefined, error: () => Error): T {
  if (value === undefined) throw error();
  return value;
}
