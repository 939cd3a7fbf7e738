import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  processAlive,
  readAdminToken,
  readDaemonInfo,
  removeDaemonInfo,
  runningDaemon,
  writeAdminToken,
  writeDaemonInfo,
} from './stateFiles.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-orch-state-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('state files', () => {
  it('writes a new 0600 admin token at every start', () => {
    const first = writeAdminToken(dir);
    const second = writeAdminToken(dir);
    expect(first).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(second).not.toBe(first);
    expect(readAdminToken(dir)).toBe(second);
    expect(statSync(join(dir, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  it('writes daemon.json 0600 and removes it only for its own pid', () => {
    const info = { pid: process.pid, url: 'http://127.0.0.1:1', startedAt: new Date().toISOString(), version: '1.0.0' };
    writeDaemonInfo(dir, info);
    expect(statSync(join(dir, 'daemon.json')).mode & 0o777).toBe(0o600);
    expect(readDaemonInfo(dir)).toEqual(info);
    removeDaemonInfo(dir, process.pid + 1);
    expect(existsSync(join(dir, 'daemon.json'))).toBe(true);
    removeDaemonInfo(dir, process.pid);
    expect(readDaemonInfo(dir)).toBeUndefined();
  });

  it('tells live processes from exited ones', () => {
    expect(processAlive(process.pid)).toBe(true);
    expect(processAlive(deadPid())).toBe(false);
  });

  it('finds no running daemon when daemon.json is missing, its pid has exited, or nothing answers at its URL', async () => {
    expect(await runningDaemon(dir)).toBeUndefined();
    writeDaemonInfo(dir, { pid: deadPid(), url: 'http://127.0.0.1:1', startedAt: '', version: '' });
    expect(await runningDaemon(dir)).toBeUndefined();
    // Alive (this process) but not listening there: a reused pid, not a daemon.
    writeDaemonInfo(dir, { pid: process.pid, url: 'http://127.0.0.1:1', startedAt: '', version: '' });
    expect(await runningDaemon(dir)).toBeUndefined();
  });
});
