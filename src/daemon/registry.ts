import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { healthAnswers, processAlive, readDaemonInfo, toDaemonInfo, writePrivate, type DaemonInfo } from './stateFiles.js';

/**
 * The daemons this user runs, whatever their data dir: one small file per data dir in
 * `~/.mcp-orch/daemons/`, written when a daemon starts listening and removed when it stops, so that
 * `mcp-orch status` finds a daemon started with a data dir it was not told about (`npm start` keeps
 * its state in the clone's `.mcp-orch/`). Entries of daemons that died without removing theirs are
 * dropped when the registry is read. The folder is 0700 and each file 0600, like the data dir's.
 */

export interface RegisteredDaemon extends DaemonInfo {
  dataDir: string;
}

export function registryDir(home: string = os.homedir()): string {
  return path.join(home, '.mcp-orch', 'daemons');
}

/** One file per data dir: a daemon that restarts replaces its entry. */
function entryFile(dataDir: string, dir: string): string {
  return path.join(dir, `${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16)}.json`);
}

/** Adds the daemon of `dataDir`; throws when the folder cannot be written (the caller logs it: the daemon still runs). */
export function registerDaemon(dataDir: string, info: DaemonInfo, dir: string = registryDir()): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const entry: RegisteredDaemon = { ...info, dataDir: path.resolve(dataDir) };
  writePrivate(entryFile(dataDir, dir), `${JSON.stringify(entry, null, 2)}\n`);
}

/** Removes the entry of `dataDir`, but only if it is still this daemon's. */
export function unregisterDaemon(dataDir: string, pid: number = process.pid, dir: string = registryDir()): void {
  const file = entryFile(dataDir, dir);
  if (readEntry(file)?.pid === pid) fs.rmSync(file, { force: true });
}

function readEntry(file: string): RegisteredDaemon | undefined {
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { dataDir?: unknown };
    const info = toDaemonInfo(json);
    return info && typeof json.dataDir === 'string' ? { ...info, dataDir: json.dataDir } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The registered daemons that run and answer /health, oldest first. An entry whose process is gone,
 * or whose data dir now names another daemon, is removed on the way.
 */
export async function runningDaemons(dir: string = registryDir()): Promise<RegisteredDaemon[]> {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const found = await Promise.all(
    files.map(async (name) => {
      const file = path.join(dir, name);
      const entry = readEntry(file);
      if (!entry || !processAlive(entry.pid) || readDaemonInfo(entry.dataDir)?.pid !== entry.pid) {
        fs.rmSync(file, { force: true });
        return undefined;
      }
      return (await healthAnswers(entry.url)) ? entry : undefined;
    }),
  );
  return found.filter((entry): entry is RegisteredDaemon => entry !== undefined).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
