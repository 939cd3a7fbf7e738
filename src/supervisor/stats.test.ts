import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseProcStat, processTree, readProcessTable, sampleProcessTree, type ProcEntry } from './stats.js';

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

  it('refuses text without a name in parentheses, or with numbers that are not', () => {
    expect(parseProcStat('42 name) S 1 42')).toBeUndefined(); // no " ("
    expect(parseProcStat('42 (name S 1 42')).toBeUndefined(); // no ")"
    expect(parseProcStat('42 ) (name S 1 42')).toBeUndefined(); // ")" before "("
    expect(parseProcStat('x (name) S 1 42')).toBeUndefined();
    expect(parseProcStat('42 (name) S x 42')).toBeUndefined();
    expect(parseProcStat('42 (name) S 1 x')).toBeUndefined();
    expect(parseProcStat('42 (name) S 1')).toBeUndefined(); // truncated before the group
  });
});

describe('readProcessTable', () => {
  it('reads every numeric entry of a proc tree, skipping the rest and the unreadable', async () => {
    const root = await mkdtemp(join(tmpdir(), 'mcp-orch-proc-'));
    try {
      const stat = async (name: string, text: string) => {
        await mkdir(join(root, name));
        await writeFile(join(root, name, 'stat'), text);
      };
      await stat('7', '7 (init) S 0 7 7');
      await stat('12', '12 (node server.js) Z 7 12 12');
      await stat('self', '99 (self) S 7 99 99');
      await stat('13x', '13 (odd) S 7 13 13');
      await stat('x13', '13 (odd) S 7 13 13');
      await stat('14', 'not a stat line');
      await mkdir(join(root, '15')); // exited between the listing and the read: no stat file
      const table = await readProcessTable(root);
      expect(table?.sort((a, b) => a.pid - b.pid)).toEqual([
        { pid: 7, ppid: 0, pgid: 7, state: 'S' },
        { pid: 12, ppid: 7, pgid: 12, state: 'Z' },
      ]);
      expect(await readProcessTable(join(root, 'missing'))).toBeUndefined();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
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

  it('lists pids in ascending order, each once, whatever order the table is in', () => {
    const shuffled = [e(30, 1, 30), e(35, 30, 30), e(31, 30, 30), e(33, 31, 30), e(32, 30, 99)];
    expect(processTree(shuffled, 30)).toEqual([30, 31, 32, 33, 35]);
    expect(processTree([...shuffled].reverse(), 30)).toEqual([30, 31, 32, 33, 35]);
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

  it('adds up CPU as well as memory', async () => {
    const busy = spawn(process.execPath, ['-e', `console.log('go'); for (;;) {}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    });
    children.push(busy);
    await firstLine(busy);
    expect((await sampleProcessTree(busy.pid!))?.pids).toEqual([busy.pid]);
    // pidusage measures CPU between two of its calls: the first may say 0.
    await expect.poll(async () => (await sampleProcessTree(busy.pid!))?.cpuPercent, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('finds a process started after the scan it would reuse for 100 ms', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 3_600_000 });
    try {
      expect(await sampleProcessTree(process.pid)).toBeDefined(); // scans /proc now
      const child = spawn(process.execPath, ['-e', `console.log('up'); setInterval(() => {}, 1000)`], {
        stdio: ['ignore', 'pipe', 'inherit'],
        detached: true,
      });
      children.push(child);
      await firstLine(child);
      vi.advanceTimersByTime(99);
      // Not in the scan that would be reused: a new process is looked for in a fresh one.
      expect((await sampleProcessTree(child.pid!))?.pids).toEqual([child.pid]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('is undefined for a process that has exited', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid!;
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await sampleProcessTree(pid)).toBeUndefined();
  });
});
