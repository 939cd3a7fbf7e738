import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { captureLogger } from '../../test/helpers/logs.js';
import { processRunning } from '../../test/helpers/process.js';
import { spawnChild, type ChildHandle } from './childProcess.js';

/**
 * What happens to the rest of a process group once its leader is gone: the members left behind (a
 * server's own workers) are SIGTERMed, get the grace period to finish, and are SIGKILLed after it.
 */

const { logger, entries } = captureLogger();
let dir: string;
const handles: ChildHandle[] = [];
const strays: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-orch-group-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  // A worker that outlived a failed test is not left running (nor is a stop() left waiting for it).
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  await Promise.all(handles.splice(0).map((h) => h.stop()));
  entries.length = 0;
});

/**
 * A leader that exits on stdin EOF and leaves behind a worker running `workerScript` in its group. The
 * worker says `worker <pid>` on the shared stderr once its handlers are installed.
 */
async function leaderWithWorker(workerScript: string, stopGraceMs: number): Promise<{ h: ChildHandle; worker: number }> {
  const worker = `${workerScript}; setInterval(() => {}, 1000); console.error('worker ' + process.pid);`;
  const h = spawnChild({
    name: 'group',
    command: process.execPath,
    args: [
      '-e',
      `require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(worker)}], { stdio: ['ignore', 'ignore', 'inherit'] });
       process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`,
    ],
    env: {},
    logger,
    stopGraceMs,
  });
  handles.push(h);
  const line = await new Promise<string>((resolve) => {
    const off = h.logs.onLine((e) => {
      if (!/^worker \d+$/.test(e.line)) return;
      off();
      resolve(e.line);
    });
  });
  const pid = Number(line.split(' ')[1]);
  strays.push(pid);
  return { h, worker: pid };
}

describe('spawnChild: the group a leader leaves behind', () => {
  it('gives a worker the grace period to finish after SIGTERM, and raises no warning', async () => {
    const marker = path.join(dir, 'cleaned');
    // Half a second of cleanup, well within a grace period of a minute.
    const { h, worker } = await leaderWithWorker(
      `process.on('SIGTERM', () => setTimeout(() => { require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'done'); process.exit(0); }, 500))`,
      60_000,
    );
    expect(await h.stop()).toEqual({ code: 0, signal: null });
    expect(processRunning(worker)).toBe(false);
    expect(existsSync(marker) && readFileSync(marker, 'utf8')).toBe('done');
    expect(entries.filter((e) => (e.level as number) >= 40)).toEqual([]);
  });

  it('SIGKILLs a worker that ignores SIGTERM once the grace period is over', async () => {
    const { h, worker } = await leaderWithWorker(`process.on('SIGTERM', () => {})`, 300);
    expect(await h.stop()).toEqual({ code: 0, signal: null });
    expect(processRunning(worker)).toBe(false);
  });
});
