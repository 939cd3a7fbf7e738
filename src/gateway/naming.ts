import { createHash } from 'node:crypto';

/**
 * Names on unified endpoints. Tools and prompts become `<server><sep><name>`; the major model APIs
 * accept only 64 characters, so longer names keep a readable prefix and end in a hash of the full
 * name, which stays stable across restarts and routes back through the table the router keeps.
 * Resource URIs get a prefix that carries the server, so two servers may expose the same URI.
 */
export const MAX_NAME_LENGTH = 64;
const HASH_LENGTH = 8;

export function namespacedName(server: string, name: string, separator: string): string {
  const full = `${server}${separator}${name}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, HASH_LENGTH);
  return `${full.slice(0, MAX_NAME_LENGTH - HASH_LENGTH - 1)}_${hash}`;
}

/** The scheme of unified resource URIs: `mcp-orch://<server>/<original URI>`. */
export const UNIFIED_URI_PREFIX = 'mcp-orch://';

export function namespacedUri(server: string, uri: string): string {
  return `${UNIFIED_URI_PREFIX}${encodeURIComponent(server)}/${uri}`;
}

/** Works for URI templates too: the prefix is literal text, so `{var}` expressions survive. */
export const namespacedUriTemplate = namespacedUri;

export function parseNamespacedUri(uri: string): { server: string; uri: string } | undefined {
  if (!uri.startsWith(UNIFIED_URI_PREFIX)) return undefined;
  const rest = uri.slice(UNIFIED_URI_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { server: decodeURIComponent(rest.slice(0, slash)), uri: rest.slice(slash + 1) };
}
