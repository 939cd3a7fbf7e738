/**
 * A bounded ring buffer of a child's stderr lines, kept for `mcp-orch logs` and the dashboard, with
 * the lines it wrote to stdout that were not protocol messages among them (marked STDOUT_MARK, and
 * counted). Bounded twice: by line count (capacity) and by line length (MAX_LINE_BYTES), so a noisy
 * or broken server cannot grow the daemon's memory.
 */

export interface LogLine {
  /** Milliseconds since the epoch, when the line was received. */
  time: number;
  line: string;
}

export interface LogBuffer {
  push(line: string): void;
  /** Keeps a line the child wrote to stdout that was not a protocol message, marked, and counts it. */
  pushStdout(line: string): void;
  /** How many stdout lines were pushed since the buffer was made (the ring may hold fewer). */
  readonly stdoutLines: number;
  /** The first stdout line pushed, unmarked, with its time. */
  readonly firstStdout: LogLine | undefined;
  /** The last `n` lines (all when omitted), oldest first. */
  lines(n?: number): LogLine[];
  readonly size: number;
  readonly capacity: number;
  /** Called for every line pushed after subscribing (for `logs -f`). Returns the unsubscribe function. */
  onLine(cb: (entry: LogLine) => void): () => void;
}

export interface LogBufferOptions {
  now?: () => number;
}

export const MAX_LINE_BYTES = 8 * 1024;
/** Starts a stdout line in the log, so that `mcp-orch logs` and the log file tell it from stderr. */
export const STDOUT_MARK = '[stdout] ';
export const TRUNCATION_MARKER = ' …[truncated]';

const MARKER_BYTES = Buffer.byteLength(TRUNCATION_MARKER);

/** Cuts a line, marker included, to at most MAX_LINE_BYTES of UTF-8, so that cutting again changes nothing. */
function cutLine(line: string): string {
  // Cutting the bytes may split a character; the decoder then yields U+FFFD, which we drop.
  const head = Buffer.from(line)
    .subarray(0, MAX_LINE_BYTES - MARKER_BYTES)
    .toString('utf8');
  // Stryker disable next-line Regex: a cut splits one character, which decodes to one U+FFFD; `+` matters only for genuine ones just before it
  return head.replace(/\uFFFD+$/, '') + TRUNCATION_MARKER;
}

/** The line itself when it fits in MAX_LINE_BYTES of UTF-8, else its head and a marker. */
export function truncateLine(line: string): string {
  // Cheap exit: a UTF-16 unit is at most 3 UTF-8 bytes, so short strings cannot be over the limit.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: it only skips the byte count below, which gives the same answer
  if (line.length * 3 <= MAX_LINE_BYTES) return line;
  return Buffer.byteLength(line) <= MAX_LINE_BYTES ? line : cutLine(line);
}

export function createLogBuffer(capacity = 500, options: LogBufferOptions = {}): LogBuffer {
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new RangeError(`log buffer capacity must be a positive integer, got ${capacity}`);
  }
  const now = options.now ?? Date.now;
  // Stryker disable next-line ArrayDeclaration: preallocation only; an array grows as slots are written
  const ring: (LogLine | undefined)[] = new Array<LogLine | undefined>(capacity);
  let start = 0; // index of the oldest entry
  let count = 0;
  const subscribers = new Set<(entry: LogLine) => void>();
  let stdoutLines = 0;
  let firstStdout: LogLine | undefined;

  const push = (line: string): void => {
    const entry: LogLine = { time: now(), line: truncateLine(line) };
    if (count < capacity) {
      ring[(start + count) % capacity] = entry;
      count++;
    } else {
      ring[start] = entry;
      start = (start + 1) % capacity;
    }
    for (const cb of subscribers) {
      try {
        cb(entry);
      } catch {
        // A failing follower (say, a closed HTTP stream) must not stop capture or the other followers;
        // it is dropped so that it does not fail again on every line.
        subscribers.delete(cb);
      }
    }
  };

  return {
    capacity,
    get size() {
      return count;
    },
    get stdoutLines() {
      return stdoutLines;
    },
    get firstStdout() {
      return firstStdout && { ...firstStdout };
    },
    push,
    pushStdout(line) {
      stdoutLines++;
      firstStdout ??= { time: now(), line: truncateLine(line) };
      push(STDOUT_MARK + line);
    },
    lines(n) {
      const take = n === undefined ? count : Math.max(0, Math.min(count, Math.floor(n)));
      const out: LogLine[] = [];
      for (let i = count - take; i < count; i++) {
        const entry = ring[(start + i) % capacity];
        // Stryker disable next-line ConditionalExpression: every slot below `count` is filled; the check is for the type
        if (entry) out.push({ ...entry });
      }
      return out;
    },
    onLine(cb) {
      subscribers.add(cb);
      return () => {
        subscribers.delete(cb);
      };
    },
  };
}

export interface LineSplitter {
  /** Feeds decoded text; complete lines go to the callback. */
  write(chunk: string): void;
  /** Emits a final line that had no newline. */
  end(): void;
}

/**
 * Splits a text stream into lines without newlines (and without a trailing `\r`). Unlike readline it
 * keeps at most about MAX_LINE_BYTES of a line that has not ended yet: a child that writes megabytes
 * without a newline costs us one truncated line, not the megabytes.
 */
export function createLineSplitter(onLine: (line: string) => void): LineSplitter {
  let pending = '';
  let overflowed = false;

  const emit = (line: string) => {
    const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
    // An overflowed line lost its tail, so it is marked even if its kept head happens to fit.
    onLine(overflowed ? cutLine(clean) : clean);
    overflowed = false;
  };

  return {
    write(chunk) {
      let from = 0;
      for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', from)) {
        const part = chunk.slice(from, nl);
        emit(overflowed ? pending : pending + part);
        pending = '';
        from = nl + 1;
      }
      // Stryker disable next-line ConditionalExpression: saves appending what the slice below would drop again
      if (overflowed) return; // dropping the rest of an over-long line until its newline
      pending += chunk.slice(from);
      if (pending.length > MAX_LINE_BYTES) {
        // Stryker disable next-line MethodExpression: the memory bound; the emitted line is cut to MAX_LINE_BYTES either way
        pending = pending.slice(0, MAX_LINE_BYTES);
        overflowed = true;
      }
    },
    end() {
      if (pending !== '' || overflowed) emit(pending);
      pending = '';
    },
  };
}
