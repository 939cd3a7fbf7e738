import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProcStat, processTree, sampleProcessTree, type ProcEntry } from './stats.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) {
    // Detached below, so the group signal reaches the grandchild too.
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Resolves with the first stdout line; bounded so that a broken child fails the test. */
function firstLine(child: ChildProcess, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within ${ms} ms`)), ms);
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
  });
}

describe('parseProcStat', () => {
  it('reads pid, state, ppid and pgid, even with spaces and parens in the name', () => {
    expect(parseProcStat('42 (my (weird) name) S 1 42 42 0 -1 4194560')).toEqual({ pid: 42, ppid: 1, pgid: 42, state: 'S' });
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});

describe('processTree', () => {
  const e = (pid: number, ppid: number, pgid: number, state = 'S'): ProcEntry => ({ pid, ppid, pgid, state });
  const table = [e(1, 0, 1), e(10, 1, 10), e(11, 10, 10), e(12, 11, 10), e(13, 1, 10), e(14, 10, 10, 'Z'), e(20, 1, 20)];

  it('collects descendants and reparented group members, but not zombies', () => {
    expect(processTree(table, 10)).toEqual([10, 11, 12, 13]);
    expect(processTree(table, 11)).toEqual([11, 12]);
    expect(processTree(table, 20)).toEqual([20]);
  });

  it('is undefined for a missing or zombie pid', () => {
    expect(processTree(table, 99)).toBeUndefined();
    expect(processTree(table, 14)).toBeUndefined();
  });
});

describe('sampleProcessTree', () => {
  it('sums a real child and its grandchild', async () => {
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const g = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
              g.on('spawn', () => console.log(g.pid)); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    );
    children.push(child);
    const grandchild = Number(await firstLine(child));
    const sample = await sampleProcessTree(child.pid!);
    expect(sample).toBeDefined();
    if (process.platform === 'linux') expect(sample!.pids).toEqual(expect.arrayContaining([child.pid, grandchild]));
    else expect(sample!.pids).toContain(child.pid);
    // Two node processes: well over a few MB of resident memory between them.
    expect(sample!.memoryBytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(sample!.cpuPercent).toBeGreaterThanOrEqual(0);
  });

  it('is undefined for a process that has exited', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await sampleProcessTree(pid)).toBeUndefined();
  });
});
