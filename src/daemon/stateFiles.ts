import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The files a running daemon leaves in its data dir for the CLI: the admin token that opens
 * `/api/*`, and daemon.json that says where it listens. Both are 0600: only the user who runs the
 * daemon may control it.
 */

export const ADMIN_TOKEN_FILE = 'admin-token';
export const DAEMON_FILE = 'daemon.json';

export interface DaemonInfo {
  pid: number;
  url: string;
  /** ISO time of the start. */
  startedAt: string;
  version: string;
  /** The config file it serves, when it has one. */
  config?: string;
}

/** Writes `text` with mode 0600 by way of a temp file and a rename, so that a reader never sees half of it. */
export function writePrivate(file: string, text: string): void {
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text, { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

/** A new random token in `<dataDir>/admin-token`, replacing the previous daemon's. */
export function writeAdminToken(dataDir: string): string {
  const token = randomBytes(32).toString('base64url');
  writePrivate(path.join(dataDir, ADMIN_TOKEN_FILE), `${token}\n`);
  return token;
}

export function readAdminToken(dataDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dataDir, ADMIN_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

export function writeDaemonInfo(dataDir: string, info: DaemonInfo): void {
  writePrivate(path.join(dataDir, DAEMON_FILE), `${JSON.stringify(info, null, 2)}\n`);
}

export function readDaemonInfo(dataDir: string): DaemonInfo | undefined {
  try {
    return toDaemonInfo(JSON.parse(fs.readFileSync(path.join(dataDir, DAEMON_FILE), 'utf8')));
  } catch {
    return undefined;
  }
}

/** The DaemonInfo in parsed JSON, or undefined when it has no pid or URL. */
export function toDaemonInfo(value: unknown): DaemonInfo | undefined {
  const { pid, url, startedAt, version, config } = (value ?? {}) as Partial<Record<keyof DaemonInfo, unknown>>;
  if (typeof pid !== 'number' || typeof url !== 'string') return undefined;
  return {
    pid,
    url,
    startedAt: String(startedAt ?? ''),
    version: String(version ?? ''),
    ...(typeof config === 'string' ? { config } : {}),
  };
}

/** Removes daemon.json, but only if it is still ours (a second daemon may have replaced it). */
export function removeDaemonInfo(dataDir: string, pid: number = process.pid): void {
  if (readDaemonInfo(dataDir)?.pid !== pid) return;
  fs.rmSync(path.join(dataDir, DAEMON_FILE), { force: true });
}

/**
 * Whether a process with this pid runs (signal 0 checks without sending anything). A zombie, an
 * exited process its parent has not reaped yet (a detached daemon reparented to a lazy init), is not.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * fetch, given up after `timeoutMs` by a timer that keeps the process alive: when the peer hangs up
 * at once, undici's fetch may neither settle nor hold the event loop, and AbortSignal.timeout's
 * timer does not hold it either, so the CLI would end without a word.
 */
export async function fetchWithin(url: string, timeoutMs: number, init: RequestInit = {}): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer from ${url} within ${timeoutMs} ms`)), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a daemon answers `/health` at this URL within the time given. */
export async function healthAnswers(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const response = await fetchWithin(`${url}/health`, timeoutMs);
    await response.body?.cancel();
    return response.status === 200 || response.status === 503;
  } catch {
    return false;
  }
}

/** The daemon that runs for this data dir, if daemon.json names a live process that answers /health. */
export async function runningDaemon(dataDir: string): Promise<DaemonInfo | undefined> {
  const info = readDaemonInfo(dataDir);
  if (!info || !processAlive(info.pid)) return undefined;
  return (await healthAnswers(info.url)) ? info : undefined;
}
