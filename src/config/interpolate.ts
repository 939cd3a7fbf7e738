import { formatPath } from './issues.js';

/**
 * `${VAR}` interpolation over every string value of a parsed config (keys stay as written).
 *   ${VAR}            the variable; an error when it is not set
 *   ${VAR:-default}   the default when the variable is unset or empty (as in sh)
 *   ${env:VAR}        the same as ${VAR}, as VS Code writes it
 *   $${               a literal "${"
 *   ${secret:NAME}    left as written (and `$${secret:` too): secrets.ts fills them in after validation
 */

export interface Reference {
  /** Where the string sits in the config, e.g. `mcpServers.github.env.TOKEN`. */
  path: string;
  /** The reference as written, e.g. `${input:token}`. */
  text: string;
  variable?: string;
}

export interface InterpolationResult {
  value: unknown;
  /** Variables that are not set and have no default. */
  missing: Reference[];
  /** `${...}` forms this loader does not understand (such as VS Code's `${input:...}`). */
  unsupported: Reference[];
}

const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const VARIABLE = /^(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv): InterpolationResult {
  const missing: Reference[] = [];
  const unsupported: Reference[] = [];

  const expand = (text: string, path: PropertyKey[]): string =>
    text.replace(REFERENCE, (match, inner: string | undefined, offset: number) => {
      if (inner === undefined) return text.startsWith('secret:', offset + 3) ? match : '${';
      if (inner.startsWith('secret:')) return match;
      const m = VARIABLE.exec(inner);
      if (!m) {
        unsupported.push({ path: formatPath(path), text: match });
        return match;
      }
      const [, name, fallback] = m as unknown as [string, string, string | undefined];
      const set = env[name];
      if (fallback !== undefined) return set ? set : fallback;
      if (set === undefined) {
        missing.push({ path: formatPath(path), text: match, variable: name });
        return match;
      }
      return set;
    });

  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return expand(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      // fromEntries defines properties, so a "__proto__" key from JSON stays a plain key.
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child, [...path, key])]));
    }
    return node;
  };

  return { value: walk(value, []), missing, unsupported };
}
