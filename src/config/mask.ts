import { OrchError } from '../errors.js';
import { isPlainObject } from './issues.js';

/**
 * A server's entry as the dashboard and the API show it: the values that may be credentials written
 * in plain text (env and header values, a URL with credentials or a query) are replaced by MASK;
 * `${VAR}` and `${secret:NAME}` references are shown, being names rather than values. An edit that
 * sends MASK back keeps the value it stands for.
 */

export const MASK = '••••••';

const maskable = (value: unknown): boolean => typeof value === 'string' && value !== '' && !value.includes('${');

function urlHasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '' || parsed.search !== '';
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined, as falsy as false */ {
    return false;
  }
}

export function maskServer(entry: Record<string, unknown>): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...entry };
  for (const field of ['env', 'headers'] as const) {
    const values = entry[field];
    if (isPlainObject(values)) masked[field] = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, maskable(v) ? MASK : v]));
  }
  if (maskable(entry.url) && urlHasCredentials(entry.url as string)) masked.url = MASK;
  return masked;
}

/** `next` with every MASK replaced by the value of `previous` it stands for; a MASK standing for nothing is refused. */
export function unmaskServer(
  next: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
  name: string,
): Record<string, unknown> {
  const restored: Record<string, unknown> = { ...next };
  const missing = (field: string): OrchError =>
    new OrchError('CONFIG_INVALID', `mcpServers.${name}.${field}: "${MASK}" stands for a value the server does not have`, {
      hint: 'write the value itself, or ${secret:NAME} for a stored secret',
    });
  for (const field of ['env', 'headers'] as const) {
    const values = next[field];
    if (!isPlainObject(values)) continue;
    const before = isPlainObject(previous?.[field]) ? (previous[field] as Record<string, unknown>) : {};
    restored[field] = Object.fromEntries(
      Object.entries(values).map(([key, value]) => {
        if (value !== MASK) return [key, value];
        if (typeof before[key] !== 'string') throw missing(`${field}.${key}`);
        return [key, before[key]];
      }),
    );
  }
  if (next.url === MASK) {
    if (typeof previous?.url !== 'string') throw missing('url');
    restored.url = previous.url;
  }
  return restored;
}
