import { createHash } from 'node:crypto';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';

/**
 * A tool's definition as pinning compares it: what a model reads and relies on (title, description,
 * input and output schemas, annotations), hashed in a canonical form so that key order and
 * whitespace do not count as a change. Pure.
 */

export interface ToolDefinition {
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

const FIELDS = ['title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

export function toolDefinition(tool: Tool): ToolDefinition {
  const definition: Record<string, unknown> = {};
  for (const field of FIELDS) if (tool[field] !== undefined) definition[field] = tool[field];
  return definition as unknown as ToolDefinition;
}

/** JSON with object keys sorted at every level. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** `sha256:` and the hex digest of the canonical JSON. */
export function definitionHash(definition: ToolDefinition): string {
  return `sha256:${createHash('sha256').update(canonicalJson(definition)).digest('hex')}`;
}

export interface FieldChange {
  field: (typeof FIELDS)[number];
  before: unknown;
  after: unknown;
}

/** The fields that differ between two definitions. */
export function definitionChanges(before: unknown, after: unknown): FieldChange[] {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  return FIELDS.filter((field) => canonicalJson(a[field]) !== canonicalJson(b[field])).map((field) => ({
    field,
    before: a[field],
    after: b[field],
  }));
}

/** Lines past which a field is shown whole on both sides instead of line by line. */
const MAX_DIFF_LINES = 2000;

function pretty(value: unknown): string[] {
  return value === undefined ? [] : (JSON.stringify(JSON.parse(canonicalJson(value)), null, 2) ?? '').split('\n');
}

/**
 * A field's change as unified-diff lines (`-` removed, `+` added, two spaces for context), over the
 * definitions' pretty-printed canonical JSON.
 */
export function diffLines(change: FieldChange): string[] {
  const a = pretty(change.before);
  const b = pretty(change.after);
  if (a.length + b.length > MAX_DIFF_LINES) return [...a.map((line) => `- ${line}`), ...b.map((line) => `+ ${line}`)];
  // Longest common subsequence, then a walk that emits removals before additions.
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j >= b.length || (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) out.push(`- ${a[i++]}`);
    else out.push(`+ ${b[j++]}`);
  }
  return out;
}
