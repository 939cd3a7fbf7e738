import { describe, expect, it } from 'vitest';
import { MAX_LINE_BYTES, STDOUT_MARK, TRUNCATION_MARKER, createLineSplitter, createLogBuffer, truncateLine } from './logBuffer.js';

describe('createLogBuffer', () => {
  it('keeps the last `capacity` lines, oldest first', () => {
    let t = 0;
    const buf = createLogBuffer(3, { now: () => ++t });
    expect(buf.size).toBe(0);
    expect(buf.lines()).toEqual([]);
    for (const l of ['a', 'b', 'c', 'd', 'e']) buf.push(l);
    expect(buf.size).toBe(3);
    expect(buf.lines()).toEqual([
      { time: 3, line: 'c' },
      { time: 4, line: 'd' },
      { time: 5, line: 'e' },
    ]);
    expect(buf.lines(2).map((e) => e.line)).toEqual(['d', 'e']);
    expect(buf.lines(10).map((e) => e.line)).toEqual(['c', 'd', 'e']);
    expect(buf.lines(0)).toEqual([]);
  });

  it('keeps stdout lines marked among the others, and counts them past its capacity', () => {
    let t = 0;
    const buf = createLogBuffer(2, { now: () => ++t });
    expect(buf.stdoutLines).toBe(0);
    expect(buf.firstStdout).toBeUndefined();
    buf.push('on stderr');
    buf.pushStdout('Starting...');
    buf.pushStdout('x'.repeat(20_000));
    buf.pushStdout('third');
    expect(buf.stdoutLines).toBe(3);
    expect(buf.firstStdout).toEqual({ time: 2, line: 'Starting...' });
    expect(buf.lines().map((e) => e.line.slice(0, STDOUT_MARK.length + 3))).toEqual([`${STDOUT_MARK}xxx`, `${STDOUT_MARK}thi`]);
    expect(buf.lines()[0]?.line.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('defaults to 500 lines and rejects a bad capacity', () => {
    const buf = createLogBuffer();
    for (let i = 0; i < 600; i++) buf.push(String(i));
    expect(buf.size).toBe(500);
    expect(buf.lines(1)[0]?.line).toBe('599');
    expect(buf.lines()[0]?.line).toBe('100');
    expect(() => createLogBuffer(0)).toThrow(new RangeError('log buffer capacity must be a positive integer, got 0'));
    expect(() => createLogBuffer(2.5)).toThrow(RangeError);
  });

  it('works with a capacity of one line', () => {
    const buf = createLogBuffer(1);
    buf.push('first');
    buf.push('second');
    expect(buf.lines().map((e) => e.line)).toEqual(['second']);
  });

  it('truncates long lines with a marker', () => {
    const buf = createLogBuffer(2);
    buf.push('x'.repeat(20_000));
    const line = buf.lines()[0]?.line ?? '';
    expect(line.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(truncateLine(line)).toBe(line);
  });

  it('does not split a multi-byte character when truncating', () => {
    const line = truncateLine('é'.repeat(MAX_LINE_BYTES));
    const whole = Math.floor((MAX_LINE_BYTES - Buffer.byteLength(TRUNCATION_MARKER)) / 2);
    expect(line).toBe('é'.repeat(whole) + TRUNCATION_MARKER);
    expect(truncateLine('short é')).toBe('short é');
  });

  it('keeps a line of exactly MAX_LINE_BYTES whole, however many characters that is', () => {
    for (const unit of ['a', 'é', '€']) {
      const fits = unit.repeat(Math.floor(MAX_LINE_BYTES / Buffer.byteLength(unit)));
      const padded = fits + 'a'.repeat(MAX_LINE_BYTES - Buffer.byteLength(fits));
      expect(Buffer.byteLength(padded)).toBe(MAX_LINE_BYTES);
      expect(truncateLine(padded)).toBe(padded);
      expect(truncateLine(`${padded}a`).endsWith(TRUNCATION_MARKER)).toBe(true);
    }
  });

  it('keeps a genuine replacement character in the head of a cut line', () => {
    const line = truncateLine(`\uFFFD${'x'.repeat(MAX_LINE_BYTES)}`);
    expect(line.startsWith('\uFFFDxxx')).toBe(true);
    expect(line.endsWith(`x${TRUNCATION_MARKER}`)).toBe(true);
  });

  it('notifies subscribers until they unsubscribe, and drops a throwing one', () => {
    const buf = createLogBuffer(10);
    const seen: string[] = [];
    const off = buf.onLine((e) => seen.push(e.line));
    let throws = 0;
    buf.onLine(() => {
      throws++;
      throw new Error('follower gone');
    });
    buf.push('one');
    buf.push('two');
    off();
    buf.push('three');
    expect(seen).toEqual(['one', 'two']);
    expect(throws).toBe(1);
    expect(buf.size).toBe(3);
  });
});

describe('createLineSplitter', () => {
  it('splits across chunks and strips CR', () => {
    const lines: string[] = [];
    const s = createLineSplitter((l) => lines.push(l));
    s.write('hel');
    s.write('lo\r\nwor');
    s.write('ld\n\nlast');
    expect(lines).toEqual(['hello', 'world', '']);
    s.end();
    expect(lines).toEqual(['hello', 'world', '', 'last']);
    s.end();
    expect(lines).toHaveLength(4);
  });

  it('keeps only the head of an endless line', () => {
    const lines: string[] = [];
    const s = createLineSplitter((l) => lines.push(l));
    for (let i = 0; i < 100; i++) s.write('y'.repeat(4096));
    s.write('tail\nnext\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]?.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(Buffer.byteLength(lines[0] ?? '')).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(lines[1]).toBe('next');
  });

  it('passes on a line of exactly MAX_LINE_BYTES unmarked, written in pieces', () => {
    const lines: string[] = [];
    const s = createLineSplitter((l) => lines.push(l));
    s.write('z'.repeat(MAX_LINE_BYTES / 2));
    s.write('z'.repeat(MAX_LINE_BYTES / 2));
    s.write('\n');
    expect(lines).toEqual(['z'.repeat(MAX_LINE_BYTES)]);
  });
});
