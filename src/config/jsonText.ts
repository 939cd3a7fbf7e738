/**
 * JSON text helpers for config files. Node 20's JSON.parse omits the position from many of its
 * messages ("Unexpected token ..., <the whole file> is not valid JSON"), so on failure a small scanner
 * finds where and why, to name a line and column a person can jump to.
 */

export interface JsonSyntaxError {
  offset: number;
  message: string;
}

export interface LineColumn {
  line: number;
  column: number;
}

/** 1-based line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: past the end charCodeAt is NaN, never a newline
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;

  const describe = (at: number): string => {
    if (at >= text.length) return 'end of file';
    // A bare word (tru, None, undefined) reads better whole than as its first letter.
    const word = /[A-Za-z_][A-Za-z0-9_]*/y;
    word.lastIndex = at;
    return JSON.stringify(word.exec(text)?.[0] ?? text[at]);
  };
  const unexpected = (at: number, expected: string): never => {
    if (text[at] === '/') throw new ScanError(at, 'comments are not allowed in JSON (YAML allows them: use mcp-config.yaml)');
    throw new ScanError(at, `expected ${expected}, found ${describe(at)}`);
  };
  const skipWs = (): void => {
    // Stryker disable next-line ConditionalExpression,EqualityOperator: past the end text[i] is undefined, never whitespace
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };

  const string = (): void => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) throw new ScanError(start, 'unterminated string');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c.charCodeAt(0) < 0x20) throw new ScanError(i, 'line break or control character inside a string (write \\n)');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          // Stryker disable next-line Regex: the slice is at most 4 characters, so either anchor alone says the same
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) throw new ScanError(i, 'bad \\u escape');
          i += 6;
          continue;
        }
        // Stryker disable next-line ConditionalExpression: ESCAPES has no undefined either; the test is for the type
        if (e === undefined || !ESCAPES.has(e)) throw new ScanError(i, `bad escape \\${e ?? ''}`);
        i += 2;
        continue;
      }
      i++;
    }
  };

  const container = (close: '}' | ']'): void => {
    const isObject = close === '}';
    i++;
    skipWs();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      if (isObject) {
        if (text[i] !== '"') unexpected(i, 'a double-quoted property name');
        string();
        skipWs();
        if (text[i] !== ':') unexpected(i, "':' after the property name");
        i++;
        skipWs();
      }
      value();
      skipWs();
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] !== ',') unexpected(i, `',' or '${close}'`);
      const comma = i;
      i++;
      skipWs();
      if (text[i] === close) throw new ScanError(comma, `trailing comma before '${close}'`);
    }
  };

  const value = (): void => {
    const c = text[i];
    if (c === '{') return container('}');
    if (c === '[') return container(']');
    if (c === '"') return string();
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: NUMBER itself needs a digit or "-" here; the first tests only skip it
    if (c !== undefined && /[-0-9]/.test(c) && NUMBER.test(text)) {
      i = NUMBER.lastIndex;
      return;
    }
    unexpected(i, 'a value');
  };

  try {
    skipWs();
    value();
    skipWs();
    if (i < text.length) unexpected(i, 'end of file after the value');
    return undefined;
  } catch (err) {
    // Stryker disable next-line ConditionalExpression: anything else would be a bug in the scanner
    if (err instanceof ScanError) return { offset: err.offset, message: err.message };
    throw err;
  }
}

/**
 * JSON with comments and trailing commas (VS Code's settings.json and .vscode/mcp.json) made plain
 * JSON. Comments and trailing commas become spaces, so offsets still point at the original text.
 */
export function stripJsonComments(text: string): string {
  const out = text.split('');
  let inString = false;
  let lastComma = -1;
  // Stryker disable next-line EqualityOperator: with <=, one step past the end reads undefined, which changes nothing (>= would stop at once, as every test would see)
  for (let i = 0; i < out.length; i++) {
    const c = out[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '/' && (out[i + 1] === '/' || out[i + 1] === '*')) {
      const block = out[i + 1] === '*';
      const end = block ? text.indexOf('*/', i + 2) : text.indexOf('\n', i);
      const stop = end === -1 ? out.length : block ? end + 2 : end;
      for (let j = i; j < stop; j++) if (out[j] !== '\n') out[j] = ' ';
      i = stop - 1;
      continue;
    }
    if (c === '"') inString = true;
    if (c === ',') lastComma = i;
    else if (c === '}' || c === ']') {
      // Stryker disable next-line ConditionalExpression: made true, it writes out[-1], no element, which join() never reads
      if (lastComma !== -1) out[lastComma] = ' ';
    }
    if (!' \t\n\r,'.includes(c)) lastComma = -1;
  }
  return out.join('');
}
