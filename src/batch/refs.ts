/**
 * References: how a step uses what earlier steps returned. One syntax, in any string of a step's
 * arguments, prompt, `over` or `when`:
 *
 *   ${steps.ID.result}                 the whole result of step ID
 *   ${steps.ID.result.items[0].name}   a path into it: `.name`, `[0]`, `["any key"]`
 *   ${item}, ${item.name}, ${index}    in a map step: the element and its position
 *   $${                                a literal "${"
 *
 * A string that is exactly one reference becomes the value itself (a number stays a number, a list
 * a list); a reference inside other text is written into it (strings as they are, anything else as
 * JSON).
 */

export type PathSegment = string | number;

export type Ref =
  | { kind: 'step'; step: string; path: PathSegment[]; text: string }
  | { kind: 'item'; path: PathSegment[]; text: string }
  | { kind: 'index'; text: string };

/** What references resolve against while a step runs. */
export interface Scope {
  /** The result of a finished step; throws when there is none. */
  result(step: string): unknown;
  item?: unknown;
  index?: number;
}

const TOKEN = /\$\$\{|\$\{([^}]*)\}/g;
const SEGMENT = /^(?:\.([A-Za-z_$][\w$]*)|\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\])/;

/** Thrown for a reference that is malformed or cannot be followed; the message names it. */
export class RefError extends Error {}

function parsePath(text: string, rest: string): PathSegment[] {
  const path: PathSegment[] = [];
  let remaining = rest;
  while (remaining.length > 0) {
    const match = SEGMENT.exec(remaining);
    if (!match) throw new RefError(`reference "\${${text}}": cannot read "${remaining}"; use .name, [0] or ["key"]`);
    if (match[1] !== undefined) path.push(match[1]);
    else if (match[2] !== undefined) path.push(Number(match[2]));
    else path.push(JSON.parse(`"${match[3]}"`) as string);
    remaining = remaining.slice(match[0].length);
  }
  return path;
}

/** One reference from the text between `${` and `}`. */
export function parseRef(inner: string): Ref {
  const text = inner.trim();
  const step = /^steps\.([A-Za-z_][A-Za-z0-9_]*)\.result/.exec(text);
  if (step) return { kind: 'step', step: step[1]!, path: parsePath(text, text.slice(step[0].length)), text };
  if (text === 'index') return { kind: 'index', text };
  if (text === 'item' || text.startsWith('item.') || text.startsWith('item[')) {
    return { kind: 'item', path: parsePath(text, text.slice(4)), text };
  }
  throw new RefError(`reference "\${${text}}": expected \${steps.ID.result...}, \${item...} or \${index}`);
}

/** Every reference in a string. */
export function refsIn(text: string): Ref[] {
  const refs: Ref[] = [];
  for (const match of text.matchAll(TOKEN)) if (match[1] !== undefined) refs.push(parseRef(match[1]));
  return refs;
}

/** Every reference in a JSON value (strings at any depth, keys excluded). */
export function refsInValue(value: unknown): Ref[] {
  if (typeof value === 'string') return refsIn(value);
  if (Array.isArray(value)) return value.flatMap(refsInValue);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(refsInValue);
  return [];
}

/** The whole string as one reference, when it is exactly one. */
export function soleRef(text: string): Ref | undefined {
  const match = /^\$\{([^}]*)\}$/.exec(text.trim());
  return match ? parseRef(match[1]!) : undefined;
}

function follow(value: unknown, path: PathSegment[], ref: Ref): unknown {
  let current = value;
  let where = ref.kind === 'step' ? `steps.${ref.step}.result` : ref.kind;
  for (const segment of path) {
    const next =
      typeof segment === 'number'
        ? Array.isArray(current)
          ? current[segment]
          : undefined
        : current !== null && typeof current === 'object' && !Array.isArray(current) && Object.hasOwn(current, segment)
          ? (current as Record<string, unknown>)[segment]
          : undefined;
    if (next === undefined) {
      const shape = Array.isArray(current) ? `a list of ${current.length}` : current === null ? 'null' : typeof current;
      throw new RefError(
        `reference "\${${ref.text}}": ${where} has no ${typeof segment === 'number' ? `[${segment}]` : `"${segment}"`} (it is ${shape})`,
      );
    }
    current = next;
    where += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
  }
  return current;
}

/** The value a reference stands for in `scope`. */
export function evaluate(ref: Ref, scope: Scope): unknown {
  switch (ref.kind) {
    case 'step':
      return follow(scope.result(ref.step), ref.path, ref);
    case 'item':
      if (!('item' in scope)) throw new RefError(`reference "\${${ref.text}}" is allowed only in a map step's arguments`);
      return follow(scope.item, ref.path, ref);
    case 'index':
      if (scope.index === undefined) throw new RefError('reference "${index}" is allowed only in a map step\'s arguments');
      return scope.index;
  }
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A string with its references filled in: the value itself when the string is one reference. */
export function resolveString(text: string, scope: Scope): unknown {
  const sole = soleRef(text);
  if (sole) return evaluate(sole, scope);
  return text.replace(TOKEN, (token, inner: string | undefined) => (inner === undefined ? '${' : asText(evaluate(parseRef(inner), scope))));
}

/** A JSON value with every reference in it filled in. */
export function resolveValue(value: unknown, scope: Scope): unknown {
  if (typeof value === 'string') return resolveString(value, scope);
  if (Array.isArray(value)) return value.map((entry) => resolveValue(entry, scope));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, resolveValue(entry, scope)]));
  }
  return value;
}

/** A `when` condition: one reference, optionally negated with "!". */
export function parseCondition(text: string): { ref: Ref; negated: boolean } {
  const trimmed = text.trim();
  const negated = trimmed.startsWith('!');
  const ref = soleRef(negated ? trimmed.slice(1) : trimmed);
  if (!ref) throw new RefError(`when "${text}": expected one reference such as "\${steps.check.result.ok}", or "!\${...}"`);
  return { ref, negated };
}

/** JavaScript truthiness, except that an empty list or object is false. */
export function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}
