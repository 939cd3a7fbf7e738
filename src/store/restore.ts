import fs from 'node:fs';
import Database from 'better-sqlite3';
import { OrchError } from '../errors.js';
import { checkCompatible, databasePath, openStore, openStoreFile } from './open.js';

/**
 * Puts a backup back in place of the data dir's database. Only with the daemon stopped (the CLI
 * checks): the current file is kept beside it, never overwritten, and the backup is checked before
 * anything moves.
 */

const BACKUP_HINT = 'give a file written by `mcp-orch backup`';

/** Refuses a file that is not a sound mcp-orch database this version can read. */
export function checkBackup(file: string): void {
  if (!fs.existsSync(file)) throw new OrchError('NOT_FOUND', `backup file not found: ${file}`);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    checkCompatible(db, file);
    const result = db.pragma('integrity_check', { simple: true });
    if (result !== 'ok') throw new OrchError('STORE_INCOMPATIBLE', `${file}: is damaged (integrity_check: ${String(result)})`);
  } catch (error) {
    const message = error instanceof OrchError ? error.message : `${file}: cannot be read as a database (${(error as Error).message})`;
    throw new OrchError('STORE_INCOMPATIBLE', message, { hint: BACKUP_HINT, cause: error });
  } finally {
    db?.close();
  }
}

export interface RestoreResult {
  /** Where the database that was in place went, if there was one. */
  previous: string | undefined;
}

export async function restoreStore(dataDir: string, source: string, now: Date = new Date()): Promise<RestoreResult> {
  checkBackup(source);
  const target = databasePath(dataDir);
  let previous: string | undefined;
  if (fs.existsSync(target)) {
    // Opening checks it is ours; closing the last connection checkpoints the WAL into the file.
    openStoreFile(target).close();
    previous = `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(target, previous);
    for (const suffix of ['-wal', '-shm']) fs.rmSync(`${target}${suffix}`, { force: true });
  }
  const backup = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await backup.backup(target);
  } finally {
    backup.close();
  }
  // Migrates a backup of an older version.
  openStore(dataDir).close();
  return { previous };
}
