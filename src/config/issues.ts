import { z } from 'zod';
import { remoteServerSchema, stdioServerSchema } from './schema.js';

/**
 * Turns zod issues into lines a person can act on: `mcpServers.github.args: expected an array of
 * strings, got "x"`. zod's own English ("Invalid input: expected array, received string") names
 * neither the element type nor the value, so the expected thing is read off the schema itself.
 */

type Path = readonly PropertyKey[];
type Issue = z.core.$ZodIssue;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `mcpServers.github.args[0]`; keys that would read ambiguously (dots, spaces) are quoted. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (IDENTIFIER.test(String(key))) out += out ? `.${String(key)}` : String(key);
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** A value rendered short, as JSON. */
export function renderValue(value: unknown, max = 40): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > max ? `${json.slice(0, max - 1)}…` : json;
}

export function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The parts of a zod 4 schema definition this file walks. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  entries?: Record<string, string | number>;
  values?: unknown[];
  format?: string;
}

const defOf = (schema: z.ZodType): Def => schema.def as unknown as Def;

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  // Stryker disable next-line LogicalOperator: the other wrappers with an innerType (catch, readonly) are used in no schema here
  for (let def = defOf(s); def.innerType && ['optional', 'default', 'nullable', 'prefault'].includes(def.type); def = defOf(s)) {
    s = def.innerType;
  }
  return s;
}

/** The schema found at `path` below `schema`, or undefined where a union makes it ambiguous. */
function schemaAt(schema: z.ZodType, path: Path): z.ZodType | undefined {
  let s: z.ZodType | undefined = schema;
  for (const key of path) {
    // Stryker disable next-line ConditionalExpression: zod reports no issue below a key its schema lacks
    if (!s) return undefined;
    const def = defOf(unwrap(s));
    // Stryker disable next-line OptionalChaining: an object schema always has its shape
    if (def.type === 'object') s = def.shape?.[String(key)];
    else if (def.type === 'record') s = def.valueType;
    // Only an array has an element: any other schema (a union, a string) leaves s undefined.
    else s = def.element;
  }
  // Stryker disable next-line LogicalOperator: callers unwrap again; and s is defined at the end, see above
  return s && unwrap(s);
}

function describeSchema(schema: z.ZodType, plural = false): string {
  const inner = unwrap(schema);
  const def = defOf(inner);
  const pick = (one: string, many: string): string => (plural ? many : one);
  switch (def.type) {
    case 'string':
      return def.format === 'url' ? pick('a URL', 'URLs') : pick('a string', 'strings');
    case 'number':
      return (inner as { isInt?: boolean }).isInt ? pick('a whole number', 'whole numbers') : pick('a number', 'numbers');
    case 'boolean':
      return pick('true or false', 'booleans');
    case 'array':
      // Stryker disable next-line StringLiteral: an array schema always has its element
      return pick(`an array of ${def.element ? describeSchema(def.element, true) : 'items'}`, 'arrays');
    case 'record':
      // Stryker disable next-line StringLiteral: a record schema always has its value type
      return pick(`an object of ${def.valueType ? describeSchema(def.valueType, true) : 'values'}`, 'objects');
    case 'object':
      return pick('an object', 'objects');
    case 'enum':
      return `one of ${Object.values(def.entries ?? {})
        .map((v) => JSON.stringify(v))
        .join(', ')}`;
    case 'literal':
      // Stryker disable next-line ArrayDeclaration: a literal schema always has its values
      return (def.values ?? []).map((v) => JSON.stringify(v)).join(' or ');
    default:
      return pick(def.type, `${def.type} values`);
  }
}

const TYPE_WORDS: Record<string, string> = {
  array: 'an array',
  record: 'an object',
  object: 'an object',
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** zod's built-in English messages; anything else was written in schema.ts for people and is kept. */
const ZOD_DEFAULT_MESSAGE = /^(Invalid|Too (big|small)|Unrecognized)\b/;

function bound(issue: { inclusive?: boolean }, op: '>' | '<'): string {
  return issue.inclusive === false ? op : `${op}=`;
}

function expectation(issue: Issue, schema: z.ZodType, path: Path): string {
  switch (issue.code) {
    case 'invalid_type': {
      const target = schemaAt(schema, path);
      return `expected ${target ? describeSchema(target) : (TYPE_WORDS[issue.expected] ?? issue.expected)}`;
    }
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'expected a non-empty string';
      if (issue.origin === 'string') return `expected at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `expected at least ${issue.minimum} items`;
      return `expected a number ${bound(issue, '>')} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `expected at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `expected at most ${issue.maximum} items`;
      return `expected a number ${bound(issue, '<')} ${issue.maximum}`;
    case 'invalid_format':
      return issue.pattern ? `expected a string matching ${issue.pattern}` : `expected a valid ${issue.format}`;
    default:
      return issue.message;
  }
}

/** The shape a server entry means to have: stdio if it names a command, remote if it names a URL. */
function serverBranch(value: Record<string, unknown>): typeof stdioServerSchema | typeof remoteServerSchema | undefined {
  return 'command' in value ? stdioServerSchema : 'url' in value ? remoteServerSchema : undefined;
}

/**
 * Why a server entry matched neither the stdio nor the remote shape, told for the shape it meant.
 * `keep` drops issues the caller cannot judge yet (import skips values that are still `${VAR}`).
 */
export function serverLines(value: unknown, path: Path, keep: (issue: Issue) => boolean = () => true): string[] {
  const at = formatPath(path);
  if (!isPlainObject(value)) {
    return [`${at}: expected a server object ({"command": ...} or {"url": ...}), got ${renderValue(value)}`];
  }
  const branch = serverBranch(value);
  if (!branch) return [`${at}: needs "command" (a stdio server) or "url" (a remote server)`];
  const result = branch.safeParse(value);
  return result.success ? [] : formatIssues(result.error.issues.filter(keep), branch, value, path);
}

/**
 * One line per issue, without the file name. `schema` and `data` are what was parsed; `base` is
 * where they sit in the whole config, for issues of a nested parse.
 */
export function formatIssues(issues: readonly Issue[], schema: z.ZodType, data: unknown, base: Path = []): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = issue.path as Path;
    const full = [...base, ...path];
    if (issue.code === 'invalid_union' && full.length === 2 && full[0] === 'mcpServers') {
      lines.push(...serverLines(valueAt(data, path), full));
      continue;
    }
    const at = formatPath(full);
    const prefix = at ? `${at}: ` : '';
    if (issue.code === 'invalid_key') {
      const why = issue.issues.map((i) => i.message).join('; ');
      lines.push(`${prefix}invalid name: ${why}`);
      continue;
    }
    // A check of the whole config says all in its message: the value at its path is not the point.
    // Stryker disable next-line ConditionalExpression: only custom issues carry params
    if (issue.code === 'custom' && (issue.params as { whole?: boolean } | undefined)?.whole) {
      lines.push(`${prefix}${issue.message}`);
      continue;
    }
    const what = ZOD_DEFAULT_MESSAGE.test(issue.message) ? expectation(issue, schema, path) : issue.message;
    const value = valueAt(data, path);
    const got = value === undefined ? 'but it is missing' : `got ${renderValue(value)}`;
    lines.push(`${prefix}${what}, ${got}`);
  }
  return lines;
}
