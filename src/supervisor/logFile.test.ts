import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogBuffer } from './logBuffer.js';
import { attachLogFile, createLogFile } from './logFile.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mcp-orch-logfile-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (i: number) => `line ${String(i).padStart(3, '0')} ${'x'.repeat(20)}`; // 29 bytes + newline

describe('createLogFile', () => {
  it('appends lines, creating the directory', async () => {
    const file = join(dir, 'logs', 'one.log');
    const log = createLogFile(file, { maxBytes: 10_000 });
    log.write('first');
    log.write('second');
    await log.close();
    expect(await readFile(file, 'utf8')).toBe('first\nsecond\n');
  });

  it("keeps a server's stderr to the owner: logs/ 0700, the file and its rotations 0600", async () => {
    const file = join(dir, 'logs', 'one.log');
    const log = createLogFile(file, { maxBytes: 100 });
    for (let i = 0; i < 5; i++) log.write(line(i));
    await log.close();
    const mode = async (path: string) => (await stat(path)).mode & 0o777;
    expect(await mode(join(dir, 'logs'))).toBe(0o700);
    expect(await mode(file)).toBe(0o600);
    expect(await mode(`${file}.1`)).toBe(0o600);
  });

  it('makes a log file an older version left readable by others private before writing to it', async () => {
    const file = join(dir, 'old.log');
    await writeFile(file, 'old line\n');
    await chmod(file, 0o644);
    const log = createLogFile(file, { maxBytes: 10_000 });
    log.write('new line');
    await log.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toBe('old line\nnew line\n');
  });

  it('rotates at maxBytes and keeps three old files, newest in .1', async () => {
    const file = join(dir, 'one.log');
    const log = createLogFile(file, { maxBytes: 100 }); // three 31-byte lines per file
    for (let i = 0; i < 20; i++) log.write(line(i));
    await log.close();

    expect((await readdir(dir)).sort()).toEqual(['one.log', 'one.log.1', 'one.log.2', 'one.log.3']);
    const read = async (name: string) => (await readFile(join(dir, name), 'utf8')).split('\n').filter(Boolean);
    // 20 lines, 3 per file: 18, 19 current; 15-17 in .1; 12-14 in .2; 9-11 in .3; older ones dropped.
    expect(await read('one.log')).toEqual([line(18), line(19)]);
    expect(await read('one.log.1')).toEqual([line(15), line(16), line(17)]);
    expect(await read('one.log.3')).toEqual([line(9), line(10), line(11)]);
    for (const name of await readdir(dir)) {
      expect((await readFile(join(dir, name))).length).toBeLessThanOrEqual(100);
    }
  });

  it('continues an existing file and counts its size', async () => {
    const file = join(dir, 'one.log');
    const first = createLogFile(file, { maxBytes: 100 });
    first.write(line(0));
    first.write(line(1));
    await first.close();
    const second = createLogFile(file, { maxBytes: 100 });
    second.write(line(2));
    second.write(line(3));
    await second.close();
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toEqual([line(3)]);
    expect((await readFile(`${file}.1`, 'utf8')).split('\n').filter(Boolean)).toEqual([line(0), line(1), line(2)]);
  });

  it('drops lines past maxPendingBytes instead of growing memory, and ignores writes after close', async () => {
    const file = join(dir, 'one.log');
    const log = createLogFile(file, { maxBytes: 1_000_000, maxPendingBytes: 100 });
    for (let i = 0; i < 10; i++) log.write(line(i));
    await log.close();
    log.write('after close');
    await log.flush();
    expect(log.dropped).toBeGreaterThan(0);
    const written = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(written.length + log.dropped).toBe(10);
    expect(written).not.toContain('after close');
  });
});

describe('createLogFile: bounds and failures', () => {
  it('fills a file up to exactly maxBytes before rotating', async () => {
    const file = join(dir, 'one.log');
    const log = createLogFile(file, { maxBytes: 60 });
    log.write(line(0));
    log.write(line(1));
    await log.flush();
    log.write(line(2));
    await log.close();
    expect(await readFile(`${file}.1`, 'utf8')).toBe(`${line(0)}\n${line(1)}\n`);
    expect(await readFile(file, 'utf8')).toBe(`${line(2)}\n`);
  });

  it('writes a line longer than maxBytes to an empty file without rotating an empty one away', async () => {
    const file = join(dir, 'one.log');
    await writeFile(file, '', { mode: 0o600 });
    const log = createLogFile(file, { maxBytes: 10 });
    log.write(line(0));
    await log.close();
    expect(await readdir(dir)).toEqual(['one.log']);
    expect(await readFile(file, 'utf8')).toBe(`${line(0)}\n`);
  });

  it('keeps exactly maxPendingBytes waiting, and drops beyond', async () => {
    const file = join(dir, 'one.log');
    const log = createLogFile(file, { maxBytes: 1_000_000, maxPendingBytes: 60 });
    for (let i = 0; i < 4; i++) log.write(line(i)); // the first is taken at once; 1 and 2 fill the queue
    await log.close();
    expect(log.dropped).toBe(1);
    expect((await readFile(file, 'utf8')).split('\n').filter(Boolean)).toEqual([line(0), line(1), line(2)]);
  });

  it('keeps a file created again after removal private, through its rotation', async () => {
    const file = join(dir, 'one.log');
    const log = createLogFile(file, { maxBytes: 70 });
    log.write(line(0));
    await log.flush();
    await rm(file); // say, by hand; the log still counts its size
    log.write(line(1));
    log.write(line(2));
    await log.close();
    expect((await stat(`${file}.1`)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${file}.1`, 'utf8')).toBe(`${line(1)}\n`);
  });

  it('reports a failed rotation and keeps writing later lines', async () => {
    const file = join(dir, 'one.log');
    await mkdir(`${file}.1`);
    await writeFile(join(`${file}.1`, 'in the way'), 'x'); // a directory where the oldest rotation goes
    const errors: Error[] = [];
    const log = createLogFile(file, { maxBytes: 40, keep: 1, onError: (error) => errors.push(error) });
    log.write(line(0));
    await log.flush();
    log.write(line(1));
    await log.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(`${file}.1`);
    await rm(`${file}.1`, { recursive: true });
    log.write(line(2));
    await log.close();
    expect(errors).toHaveLength(1);
    expect(await readFile(file, 'utf8')).toContain(line(2));
  });
});

describe('attachLogFile', () => {
  it('keeps going without an onError listener when writing fails', async () => {
    await writeFile(join(dir, 'not-a-dir'), '');
    const log = createLogFile(join(dir, 'not-a-dir', 'one.log'), { maxBytes: 100 });
    log.write('lost');
    await expect(log.flush()).resolves.toBeUndefined();
    await expect(log.close()).resolves.toBeUndefined();
  });

  it('passes direct writes, flush and the dropped count through', async () => {
    const file = join(dir, 'one.log');
    const attached = attachLogFile(createLogBuffer(10), file, { maxBytes: 10_000, maxPendingBytes: 8 });
    expect(attached.file).toBe(file);
    attached.write('direct');
    attached.write('dropped line');
    await attached.flush();
    expect(await readFile(file, 'utf8')).toBe('direct\n');
    expect(attached.dropped).toBe(1);
    await attached.close();
  });

  it("writes a buffer's new lines with their time, and stops after close", async () => {
    let now = Date.parse('2026-01-02T03:04:05.000Z');
    const buffer = createLogBuffer(10, { now: () => now++ });
    buffer.push('before attach');
    const file = join(dir, 'one.log');
    const attached = attachLogFile(buffer, file, { maxBytes: 10_000 });
    buffer.push('hello');
    buffer.push('world');
    await attached.close();
    buffer.push('after close');
    expect(await readFile(file, 'utf8')).toBe('2026-01-02T03:04:05.001Z hello\n2026-01-02T03:04:05.002Z world\n');
  });
});
