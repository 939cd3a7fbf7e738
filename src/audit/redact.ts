/**
 * Arguments as the audit keeps them: values under keys that name a credential are replaced, and so
 * is anything shaped like an mcp-orch key or a bearer token wherever it appears. Large arguments are
 * not kept, only their size; depth is bounded.
 */

export const REDACTED = '[redacted]';
const SENSITIVE_KEY =
  /pass(word|wd|phrase)?|secret|token|authori[sz]ation|^auth$|api[-_]?key|access[-_]?key|private[-_]?key|cookie|credential/i;
const SENSITIVE_TEXT = [/mcpo_[0-9A-Za-z]{32,}/g, /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi];
const MAX_DEPTH = 12;
const MAX_BYTES = 8 * 1024;

/** Whether a key's name says its value is a credential (token, password, secret, authorization, ...). */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

function scrubText(text: string): string {
  return SENSITIVE_TEXT.reduce((out, pattern) => out.replace(pattern, REDACTED), text);
}

function walk(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[too deep]';
  if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, isSensitiveKey(key) ? REDACTED : walk(child, depth + 1)]));
}

export function redactArguments(value: unknown): unknown {
  const redacted = walk(value, 0);
  const bytes = Buffer.byteLength(JSON.stringify(redacted) ?? '');
  return bytes > MAX_BYTES ? `[${bytes} bytes, not kept]` : redacted;
}
