import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { APPLICATION_ID, SCHEMA_VERSION } from './migrations.js';
import { databasePath, openStore, type Store } from './open.js';
import { restoreStore } from './restore.js';

let dataDir: string;
const opened: Store[] = [];
const open = (dir = dataDir): Store => {
  const store = openStore(dir);
  opened.push(store);
  return store;
};

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-store-'));
});

afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function pragmas(file: string): { applicationId: number; version: number; journal: string } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      applicationId: db.pragma('application_id', { simple: true }) as number,
      version: db.pragma('user_version', { simple: true }) as number,
      journal: db.pragma('journal_mode', { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

function refusal(fn: () => unknown): OrchError {
  const error = (() => {
    try {
      return fn();
    } catch (thrown) {
      return thrown;
    }
  })();
  expect(error).toBeInstanceOf(OrchError);
  return error as OrchError;
}

describe('openStore', () => {
  it('creates the database in WAL mode, marked as mcp-orch, at the latest schema version', () => {
    const store = open();
    expect(store.integrityCheck()).toEqual(['ok']);
    store.close();
    expect(pragmas(databasePath(dataDir))).toEqual({ applicationId: APPLICATION_ID, version: SCHEMA_VERSION, journal: 'wal' });
    expect(fs.statSync(databasePath(dataDir)).mode & 0o777).toBe(0o600);
  });

  it('opens an existing database again with its data', () => {
    open().projects.create({ slug: 'alpha' });
    opened.pop()!.close();
    expect(
      open()
        .projects.list()
        .map((p) => p.slug),
    ).toEqual(['alpha']);
  });

  it('refuses a file that is not SQLite and leaves it untouched', () => {
    const file = databasePath(dataDir);
    fs.writeFileSync(file, 'not a database, just some text that must survive\n');
    const error = refusal(() => open());
    expect(error.code).toBe('STORE_INCOMPATIBLE');
    expect(error.message).toContain('is not a SQLite database');
    expect(error.hint).toContain('--data-dir');
    expect(fs.readFileSync(file, 'utf8')).toBe('not a database, just some text that must survive\n');
  });

  it("refuses another program's SQLite database without writing to it", () => {
    const file = databasePath(dataDir);
    const other = new Database(file);
    other.exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('keep me')");
    other.close();
    const before = fs.readFileSync(file);
    expect(refusal(() => open()).message).toContain('another program');
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(pragmas(file).journal).toBe('delete');
  });

  it('refuses a database from a newer mcp-orch', () => {
    open();
    opened.pop()!.close();
    const file = databasePath(dataDir);
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    const error = refusal(() => open());
    expect(error.message).toContain('newer mcp-orch');
    expect(error.hint).toContain('upgrade');
    expect(pragmas(file).version).toBe(SCHEMA_VERSION + 1);
  });

  it("lets two connections share the file: each sees the other's commits on its next query", () => {
    const daemon = open();
    const cli = open();
    cli.projects.create({ slug: 'from-cli' });
    expect(daemon.projects.list().map((p) => p.slug)).toEqual(['from-cli']);
    daemon.projects.create({ slug: 'from-daemon' });
    expect(cli.projects.list().map((p) => p.slug)).toEqual(['from-cli', 'from-daemon']);
  });

  it('lets a connection write while another is in the middle of a read (WAL)', () => {
    const cli = open();
    const reader = new Database(databasePath(dataDir));
    try {
      reader.exec('BEGIN');
      const count = reader.prepare('SELECT count(*) FROM projects').pluck();
      expect(count.get()).toBe(0);
      cli.projects.create({ slug: 'written-during-read' });
      // The reader's snapshot stays as it was until its transaction ends.
      expect(count.get()).toBe(0);
      reader.exec('COMMIT');
      expect(count.get()).toBe(1);
    } finally {
      reader.close();
    }
  });

  it('tells onChange listeners of commits by another connection', async () => {
    const daemon = openStore(dataDir, { pollMs: 10 });
    opened.push(daemon);
    const cli = open();
    let changes = 0;
    const changed = new Promise<void>((resolve) =>
      daemon.onChange(() => {
        changes++;
        resolve();
      }),
    );
    cli.projects.create({ slug: 'elsewhere' });
    await changed;
    expect(changes).toBeGreaterThan(0);
  });

  it('waits for another process to finish writing instead of failing (busy_timeout)', async () => {
    const patient = open();
    const impatient = openStore(dataDir, { busyTimeoutMs: 0 });
    opened.push(impatient);
    // Another process takes the write lock and keeps it until told to commit.
    const holder = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(databasePath(dataDir))});
         db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         process.stdin.once('data', () => { db.exec('COMMIT'); db.close(); });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((resolve) => holder.once('exit', () => resolve()));
    try {
      await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
      expect(() => impatient.projects.create({ slug: 'refused' })).toThrow(/locked/);
      await new Promise<void>((resolve) => holder.stdin.write('commit\n', () => resolve()));
      // Blocks until the holder commits, then writes.
      patient.projects.create({ slug: 'waited' });
      expect(patient.projects.list().map((p) => p.slug)).toEqual(['waited']);
    } finally {
      holder.stdin.end();
      await exited;
    }
  });
});

describe('backup and restore', () => {
  it('copies a consistent database while it is in use, and restores it keeping the file it replaces', async () => {
    const store = open();
    store.projects.create({ slug: 'kept' });
    const backupFile = path.join(dataDir, 'backup.db');
    await store.backup(backupFile);
    store.projects.create({ slug: 'after-backup' });
    opened.pop()!.close();

    const { previous } = await restoreStore(dataDir, backupFile);
    expect(previous && fs.existsSync(previous)).toBe(true);
    expect(
      open()
        .projects.list()
        .map((p) => p.slug),
    ).toEqual(['kept']);
  });

  it('refuses to restore a file that is not an mcp-orch database, changing nothing', async () => {
    open().projects.create({ slug: 'current' });
    opened.pop()!.close();
    const foreign = path.join(dataDir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    await expect(restoreStore(dataDir, foreign)).rejects.toThrow(/another program/);
    expect(
      open()
        .projects.list()
        .map((p) => p.slug),
    ).toEqual(['current']);
  });
});
