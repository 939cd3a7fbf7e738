import { spawn, type SpawnOptions } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { killAllChildrenSync, spawnChild, type ChildHandle, type SpawnChildOptions } from './childProcess.js';
import { createLogBuffer } from './logBuffer.js';
import { parseProcStat } from './stats.js';

const logLines: Record<string, unknown>[] = [];
const logger = createLogger({
  level: 'debug',
  pretty: false,
  destination: new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  }),
});

let dir: string;
const handles: ChildHandle[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-orch-child-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
  logLines.length = 0;
});

function start(script: string, overrides: Partial<SpawnChildOptions> = {}): ChildHandle {
  const h = spawnChild({
    name: 'test',
    command: process.execPath,
    args: ['-e', script],
    env: {},
    logger,
    stopGraceMs: 2000,
    ...overrides,
  });
  handles.push(h);
  return h;
}

/** Resolves with the first stderr line matching `pattern`; bounded so a broken child fails the test. */
function waitForLine(h: ChildHandle, pattern: RegExp, ms = 5000): Promise<string> {
  const seen = h.logs.lines().find((e) => pattern.test(e.line));
  if (seen) return Promise.resolve(seen.line);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no stderr line matching ${pattern} within ${ms} ms`));
    }, ms);
    const off = h.logs.onLine((e) => {
      if (!pattern.test(e.line)) return;
      clearTimeout(timer);
      off();
      resolve(e.line);
    });
  });
}

/**
 * Whether `pid` still runs. A zombie counts as dead: orphaned grandchildren are reaped by PID 1, which
 * in some containers (this test machine's included) does so seconds later, and a zombie runs nothing.
 */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.state !== 'Z';
  } catch {
    return false; // reaped between the two checks
  }
}

// A child that would run forever: ignores stdin EOF and SIGTERM, says when its handler is installed.
const STUBBORN = `process.on('SIGTERM', () => {}); process.stdin.resume(); setInterval(() => {}, 1000); console.error('ready');`;

describe('spawnChild', () => {
  it('exits normally when stdin closes, without signals', async () => {
    const h = start(`process.stdin.resume(); process.stdin.on('end', () => process.exit(0)); console.error('ready');`);
    expect(h.pid).toBeTypeOf('number');
    expect(h.running).toBe(true);
    await waitForLine(h, /ready/);
    const info = await h.stop();
    expect(info).toEqual({ code: 0, signal: null });
    expect(h.running).toBe(false);
    // Stdin EOF was enough: the stop sequence never reached SIGTERM.
    expect(logLines.filter((l) => String(l.msg).includes('SIGTERM'))).toEqual([]);
    // Nor is anything left of its process group to warn about.
    expect(logLines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(h.stop()).toBe(h.stop()); // idempotent
    await expect(h.stop()).resolves.toEqual({ code: 0, signal: null });
  });

  it('SIGKILLs a child that ignores SIGTERM after the grace period', async () => {
    const h = start(STUBBORN, { stopGraceMs: 300 });
    await waitForLine(h, /ready/);
    const info = await h.stop();
    expect(info.signal).toBe('SIGKILL');
    expect(isAlive(h.pid!)).toBe(false);
    expect(logLines.some((l) => l.msg === 'no exit after SIGTERM; SIGKILL')).toBe(true);
  });

  it.each([
    ['a leader that ignores EOF (killed by the group SIGTERM)', `process.stdin.resume();`],
    ['a leader that exits on EOF and leaves its child behind', `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`],
  ])('leaves no grandchild alive after stop(): %s', async (_label, leader) => {
    const h = start(
      `const { spawn } = require('node:child_process');
       const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
       console.error('grandchild ' + g.pid); ${leader}`,
    );
    const grandchild = Number((await waitForLine(h, /^grandchild \d+$/)).split(' ')[1]);
    expect(isAlive(grandchild)).toBe(true);
    await h.stop();
    expect(isAlive(h.pid!)).toBe(false);
    expect(isAlive(grandchild)).toBe(false);
  });

  it('cleans up the group when the leader crashes on its own', async () => {
    const h = start(
      `const { spawn } = require('node:child_process');
       const g = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
       console.error('grandchild ' + g.pid); setTimeout(() => process.exit(3), 50);`,
    );
    const grandchild = Number((await waitForLine(h, /^grandchild \d+$/)).split(' ')[1]);
    expect(await h.exited).toEqual({ code: 3, signal: null });
    await h.stop(); // awaits the same group cleanup
    expect(isAlive(grandchild)).toBe(false);
    expect(logLines.some((l) => l.msg === 'leader exited; stopping the rest of its process group')).toBe(true);
  });

  it('captures stderr lines into the buffer and the debug log, never stdout', async () => {
    const h = start(`process.stderr.write('first\\nsec'); process.stderr.write('ond\\r\\nlast'); process.stdout.write('protocol');`);
    let stdout = '';
    h.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const stdoutEnded = new Promise((resolve) => h.stdout.once('end', resolve));
    await waitForLine(h, /^last$/);
    expect(await h.exited).toEqual({ code: 0, signal: null });
    expect(h.logs.lines().map((e) => e.line)).toEqual(['first', 'second', 'last']);
    expect(logLines.filter((l) => l.stderr !== undefined).map((l) => [l.server, l.stderr])).toEqual([
      ['test', 'first'],
      ['test', 'second'],
      ['test', 'last'],
    ]);
    await stdoutEnded;
    expect(stdout).toBe('protocol');
  });

  it('passes a safe base environment plus the configured env', async () => {
    process.env.MCP_ORCH_TEST_SECRET = 'do-not-leak';
    try {
      const h = start(
        `console.error(JSON.stringify({ secret: process.env.MCP_ORCH_TEST_SECRET ?? null, mine: process.env.MINE, path: !!process.env.PATH }))`,
        { env: { MINE: 'yes' } },
      );
      const line = await waitForLine(h, /^\{/);
      expect(JSON.parse(line)).toEqual({ secret: null, mine: 'yes', path: true });
    } finally {
      delete process.env.MCP_ORCH_TEST_SECRET;
    }
  });

  it('resolves a bare command through PATH', async () => {
    const h = start(`console.error('via path')`, {
      command: path.basename(process.execPath),
      env: { PATH: path.dirname(process.execPath) },
    });
    await waitForLine(h, /via path/);
    expect((await h.exited).code).toBe(0);
  });

  it('reports a missing command without throwing', async () => {
    const h = start('', { command: 'mcp-orch-no-such-command' });
    expect(h.pid).toBeUndefined();
    expect(h.running).toBe(false);
    const info = await h.exited;
    expect(info.error).toBe('command not found: mcp-orch-no-such-command (looked in PATH)');
    await expect(h.stop()).resolves.toEqual(info);
    h.stdin.write('ignored'); // must not throw or crash
  });

  it('reports a file that is not executable, and a missing cwd', async () => {
    const file = path.join(dir, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\n');
    chmodSync(file, 0o644);
    const h = start('', { command: file });
    expect((await h.exited).error).toMatch(/^permission denied: .*not-executable\.sh/);
    const h2 = start('', { cwd: path.join(dir, 'missing') });
    expect((await h2.exited).error).toMatch(/^working directory not found/);
  });

  it('reports a spawn failure delivered by the error event', async () => {
    const h = start('', {
      // Resolution found node, but exec then fails: spawn's asynchronous ENOENT path.
      spawnImpl: ((_cmd: string, _args: string[], opts: SpawnOptions) => spawn('/nonexistent/x', [], opts)) as typeof spawn,
    });
    expect(h.running).toBe(false);
    expect((await h.exited).error).toBe(`command not found: ${process.execPath} (looked in PATH)`);
  });

  it('notifies onExit subscribers unless they unsubscribed', async () => {
    const h = start(`setTimeout(() => process.exit(7), 20)`);
    const got: number[] = [];
    h.onExit((info) => got.push(info.code ?? -1));
    h.onExit(() => got.push(-2))();
    await h.exited;
    await Promise.resolve();
    expect(got).toEqual([7]);
  });

  it('killAllChildrenSync SIGKILLs every live child', async () => {
    const a = start(STUBBORN);
    const b = start(STUBBORN);
    await Promise.all([waitForLine(a, /ready/), waitForLine(b, /ready/)]);
    killAllChildrenSync();
    expect((await a.exited).signal).toBe('SIGKILL');
    expect((await b.exited).signal).toBe('SIGKILL');
  });
});

describe('spawnChild: finding the command', () => {
  /** An executable shell script at `file` that says `text` on stderr and exits. */
  function script(file: string, text: string, mode = 0o755): string {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `#!/bin/sh\necho '${text}' >&2\n`);
    chmodSync(file, mode);
    return file;
  }

  it('runs a relative path from cwd, and names the file it did not find', async () => {
    const cwd = path.join(dir, 'relative');
    script(path.join(cwd, 'bin', 'server.sh'), 'relative ok');
    const h = start('', { command: './bin/server.sh', args: [], cwd });
    await waitForLine(h, /^relative ok$/);
    expect((await h.exited).code).toBe(0);
    const missing = start('', { command: './bin/missing.sh', args: [], cwd });
    expect((await missing.exited).error).toBe(`no such file: ${path.join(cwd, 'bin', 'missing.sh')}`);
  });

  it('skips PATH entries where the name is not executable, and names the first of them when none is', async () => {
    const base = path.join(dir, 'path-search');
    script(path.join(base, 'a', 'tool'), 'from a', 0o644);
    mkdirSync(path.join(base, 'b', 'tool'), { recursive: true }); // a directory of that name
    script(path.join(base, 'c', 'tool'), 'from c');
    const dirs = ['a', 'b', 'c'].map((d) => path.join(base, d));
    const h = start('', { command: 'tool', args: [], env: { PATH: dirs.join(path.delimiter) } });
    await waitForLine(h, /^from c$/);
    const none = start('', { command: 'tool', args: [], env: { PATH: dirs.slice(0, 2).reverse().join(path.delimiter) } });
    expect((await none.exited).error).toBe(`permission denied: ${path.join(base, 'b', 'tool')} is not an executable file`);
  });

  it('never treats an empty PATH entry as the working directory', async () => {
    const cwd = path.join(dir, 'empty-path');
    script(path.join(cwd, 'tool'), 'from cwd');
    const h = start('', { command: 'tool', args: [], cwd, env: { PATH: `${path.delimiter}${path.delimiter}` } });
    expect((await h.exited).error).toBe('command not found: tool (looked in PATH)');
    expect(h.logs.size).toBe(0);
  });

  it('reports a command the kernel refuses to run', async () => {
    const file = script(path.join(dir, 'refused', 'server.sh'), 'never', 0o644);
    const h = start('', {
      // Resolution found node; exec is then refused, as for a file that lost its x bit in between.
      spawnImpl: ((_cmd: string, _args: string[], opts: SpawnOptions) => spawn(file, [], opts)) as typeof spawn,
    });
    expect((await h.exited).error).toBe(`permission denied: ${process.execPath}`);
  });

  it('reports arguments spawn refuses (a NUL byte in env) as a failed start, without throwing', async () => {
    const h = start('', { env: { BROKEN: 'a\0b' } });
    const info = await h.exited;
    expect(info.error).toMatch(new RegExp(`^failed to start ${process.execPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*null bytes`));
    expect(h.pid).toBeUndefined();
  });

  it('rejects a negative or missing stop grace period', () => {
    for (const stopGraceMs of [-1, Number.NaN]) {
      expect(() => start('', { stopGraceMs })).toThrow(new RangeError(`stopGraceMs must be >= 0, got ${stopGraceMs}`));
    }
    expect(() => start('', { stopGraceMs: 0 })).not.toThrow();
  });
});

describe('spawnChild: running and stopping', () => {
  it('SIGTERMs a child that ignores stdin EOF', async () => {
    const h = start(`process.stdin.resume(); setInterval(() => {}, 1000); console.error('ready');`);
    await waitForLine(h, /ready/);
    expect(await h.stop()).toEqual({ code: null, signal: 'SIGTERM' });
    expect(h.running).toBe(false);
  });

  it('SIGTERMs a child without a process group of its own by its pid', async () => {
    const h = start(`process.stdin.resume(); setInterval(() => {}, 1000); console.error('ready');`, {
      spawnImpl: ((cmd: string, args: string[], opts: SpawnOptions) => spawn(cmd, args, { ...opts, detached: false })) as typeof spawn,
    });
    await waitForLine(h, /ready/);
    expect(await h.stop()).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('stops a child that has no process group of its own by its pid', async () => {
    const h = start(STUBBORN, {
      stopGraceMs: 200,
      spawnImpl: ((cmd: string, args: string[], opts: SpawnOptions) => spawn(cmd, args, { ...opts, detached: false })) as typeof spawn,
    });
    await waitForLine(h, /ready/);
    expect((await h.stop()).signal).toBe('SIGKILL');
    expect(isAlive(h.pid!)).toBe(false);
  });

  it('killAllChildrenSync reaches a child without a process group of its own', async () => {
    const h = start(STUBBORN, {
      spawnImpl: ((cmd: string, args: string[], opts: SpawnOptions) => spawn(cmd, args, { ...opts, detached: false })) as typeof spawn,
    });
    await waitForLine(h, /ready/);
    killAllChildrenSync();
    expect((await h.exited).signal).toBe('SIGKILL');
  });

  it('keeps lines in the log buffer it is given', async () => {
    const logBuffer = createLogBuffer(10);
    const h = start(`console.error('kept')`, { logBuffer });
    expect(h.logs).toBe(logBuffer);
    await waitForLine(h, /^kept$/);
    expect(logBuffer.lines().map((e) => e.line)).toEqual(['kept']);
  });

  it('survives writes to a child that closed its stdin (EPIPE)', async () => {
    const h = start(`require('node:fs').closeSync(0); console.error('closed'); setInterval(() => {}, 1000);`);
    await waitForLine(h, /^closed$/);
    const err = await new Promise<Error | null | undefined>((resolve) => h.stdin.write('x'.repeat(100_000), resolve));
    expect((err as NodeJS.ErrnoException).code).toBe('EPIPE');
    await expect.poll(() => logLines.some((l) => (l.err as { code?: string } | undefined)?.code === 'EPIPE')).toBe(true);
    expect(h.running).toBe(true);
  });

  it('keeps notifying onExit subscribers after one throws, and logs the throw', async () => {
    const h = start(`process.exit(5)`);
    const got: number[] = [];
    h.onExit(() => {
      throw new Error('subscriber broke');
    });
    h.onExit((info) => got.push(info.code ?? -1));
    await h.exited;
    await expect.poll(() => got).toEqual([5]);
    expect(logLines.some((l) => l.level === 50 && (l.err as { message?: string } | undefined)?.message === 'subscriber broke')).toBe(true);
  });
});
