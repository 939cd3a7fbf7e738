import { OrchError } from '../errors.js';
import { formatPath, isPlainObject } from './issues.js';
import type { Config } from './schema.js';

/**
 * `${secret:NAME}` in a server's `env`, `headers`, `args` and `url` (and `orch.llm`'s credentials, filled
 * in later with fillSecrets), resolved after validation by
 * a function the caller passes in (config/ never reads the store). A secret that cannot be had
 * makes only its server unavailable: that server is not started and says why, the others run.
 * `$${secret:` is a literal `${secret:`. Resolved values never appear in a message.
 */

/** The value of a secret, or a throw that says what is missing (an OrchError's message and hint are shown). */
export type SecretResolver = (name: string) => string;

/** Builds the resolver once a config is valid, so that it may read the config's `orch.dataDir`. */
export type SecretSource = (config: Config) => SecretResolver;

export interface SecretResolution {
  config: Config;
  /** Servers that need a secret they cannot have, with the reason; they are marked disabled in `config`. */
  unavailable: Record<string, string>;
}

const SECRET = /\$\$\{secret:|\$\{secret:([^}]*)\}/g;

/** Where secrets may appear: the values of a server's env and headers, its args, its url. */
function allowed(path: readonly PropertyKey[]): boolean {
  if (path[0] !== 'mcpServers') return false;
  const field = path[2];
  // A url is a string: only mcpServers.NAME.url ends in it.
  return path.length === 4 ? field === 'env' || field === 'headers' || field === 'args' : field === 'url';
}

/** `orch.llm`'s credentials: kept as written here and filled in when the model is first needed, so a missing one fails only planning. */
function deferred(path: readonly PropertyKey[]): boolean {
  return path[0] === 'orch' && path[1] === 'llm';
}

/** Fills in every `${secret:NAME}` of a text with `resolver` (`$${secret:` stays a literal). */
export function fillSecrets(text: string, resolver: SecretResolver): string {
  return text.replace(SECRET, (_match, name: string | undefined) => (name === undefined ? '${secret:' : resolver(name)));
}

function reasonOf(error: unknown): string {
  if (error instanceof OrchError) return error.hint ? `${error.message} (${error.hint})` : error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * A url may be a secret in whole or in part (`"url": "${secret:ENDPOINT}"`), which the schema's URL
 * check would refuse: such urls are validated as a stand-in and put back for resolveSecrets, which
 * checks them once filled in.
 */
export function maskSecretUrls(data: unknown): { data: unknown; restore(config: Config): Config } {
  const servers = isPlainObject(data) && isPlainObject(data.mcpServers) ? data.mcpServers : {};
  const urls = new Map<string, string>();
  for (const [name, server] of Object.entries(servers)) {
    if (isPlainObject(server) && typeof server.url === 'string' && server.url.includes('${secret:')) urls.set(name, server.url);
  }
  if (urls.size === 0) return { data, restore: (config) => config };
  const stand = Object.fromEntries(
    Object.entries(servers).map(([name, server]) => [
      name,
      urls.has(name) ? { ...(server as object), url: 'https://secret.invalid/' } : server,
    ]),
  );
  return {
    data: { ...(data as object), mcpServers: stand },
    restore(config) {
      const mcpServers = { ...config.mcpServers };
      // The config was parsed from the stand-in data, so it has every server named in urls.
      for (const [name, url] of urls) mcpServers[name] = { ...mcpServers[name], url } as (typeof mcpServers)[string];
      return { ...config, mcpServers };
    },
  };
}

export function resolveSecrets(config: Config, file: string, source: SecretSource | undefined): SecretResolution {
  const unavailable: Record<string, string> = {};
  const misplaced: string[] = [];
  /** Servers whose url took a secret: checked again once filled in. */
  const urls = new Set<string>();
  let resolver: SecretResolver | undefined;
  const resolve = (name: string): string => {
    if (!source) {
      throw new OrchError(
        // Stryker disable next-line StringLiteral: reasonOf shows the message alone, not the code
        'SECRET_UNAVAILABLE',
        `secret "${name}" is not available: this command does not read secrets`,
      );
    }
    resolver ??= source(config);
    return resolver(name);
  };

  const expand = (text: string, path: PropertyKey[]): string => {
    return text.replace(SECRET, (match, name: string | undefined) => {
      if (deferred(path)) return match;
      if (name === undefined) return '${secret:';
      if (!allowed(path)) {
        misplaced.push(`${file}: ${formatPath(path)}: secrets may be used only in a server's env, headers, args and url`);
        return match;
      }
      const server = String(path[1]);
      // allowed() passed: the path is mcpServers.NAME.… of a server the config has.
      if (config.mcpServers[server]!.disabled === true || unavailable[server]) return match;
      try {
        const value = resolve(name);
        if (path[2] === 'url') urls.add(server);
        return value;
      } catch (error) {
        unavailable[server] = `${formatPath(path)}: ${reasonOf(error)}`;
        return match;
      }
    });
  };

  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return expand(node, path);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (isPlainObject(node)) return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child, [...path, key])]));
    return node;
  };

  const resolved = walk(config, []) as Config;
  if (misplaced.length > 0) {
    throw new OrchError('CONFIG_INVALID', misplaced.join('\n'), { hint: 'move the secret into env, headers, args or url' });
  }
  for (const name of urls) {
    const url = (resolved.mcpServers[name] as { url: string }).url;
    if (!URL.canParse(url) || !['http:', 'https:'].includes(new URL(url).protocol)) {
      unavailable[name] ??= `mcpServers.${name}.url: with its secrets filled in, it is not an http:// or https:// URL`;
    }
  }
  // The entry without any secret filled in: a server that does not run holds none.
  for (const name of Object.keys(unavailable)) resolved.mcpServers[name] = { ...config.mcpServers[name]!, disabled: true };
  return { config: resolved, unavailable };
}
