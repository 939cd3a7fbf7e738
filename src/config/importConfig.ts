import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { OrchError } from '../errors.js';
import { openConfigEdit, writeAtomic } from './edit.js';
import { interpolateEnv } from './interpolate.js';
import { isPlainObject, serverLines, valueAt } from './issues.js';
import { parseConfigDocument, readConfigText } from './load.js';
import { SERVER_NAME_PATTERN, serverSchema } from './schema.js';

export interface ImportOptions {
  /** Replace an existing server of the same name whose definition differs. */
  overwrite?: boolean;
  /** Add a differing server of an existing name as `name-2` (or the next free number). */
  rename?: boolean;
}

export interface ImportResult {
  /** Names written into the target, including renamed and overwritten ones. */
  added: string[];
  skipped: { name: string; reason: string }[];
  renamed: { from: string; to: string }[];
  overwritten: string[];
  /** Where the servers sat in the source: `mcpServers` (Claude Desktop, Cursor, Cline), `servers` or `mcp.servers` (VS Code). */
  sourceKey: string;
  /** Absolute path of the target file; `created` when the import made it. */
  target: string;
  created: boolean;
}

/** The server map of any of the client config formats we know, and its path for messages. */
function findServers(data: unknown, file: string): { servers: Record<string, unknown>; at: string[] } {
  if (isPlainObject(data)) {
    if (isPlainObject(data.mcpServers)) return { servers: data.mcpServers, at: ['mcpServers'] };
    if (isPlainObject(data.servers)) return { servers: data.servers, at: ['servers'] };
    if (isPlainObject(data.mcp) && isPlainObject(data.mcp.servers)) return { servers: data.mcp.servers, at: ['mcp', 'servers'] };
  }
  throw new OrchError('CONFIG_INVALID', `${file}: no MCP servers found`, {
    hint: 'expected {"mcpServers": {...}} (Claude Desktop, Cursor, Cline), {"servers": {...}} (.vscode/mcp.json) or {"mcp": {"servers": {...}}} (VS Code settings.json)',
  });
}

function readSource(file: string): string {
  try {
    return readConfigText(file);
  } catch (err) {
    // readConfigText turns every failure into an OrchError.
    const error = err as OrchError;
    throw new OrchError(error.code, error.message.replace('config file', 'file to import'), {
      cause: error,
      hint: 'Claude Desktop: claude_desktop_config.json in its settings folder; Cursor: ~/.cursor/mcp.json; Cline: cline_mcp_settings.json; VS Code: .vscode/mcp.json',
    });
  }
}

const hasReference = (value: unknown): boolean => typeof value === 'string' && value.includes('${');

/** Why a server cannot be imported, or undefined when it can. */
function invalidReason(name: string, server: unknown, at: string[]): string | undefined {
  if (!SERVER_NAME_PATTERN.test(name)) return 'invalid name: server names use letters, digits, "_", "-" and "." (at most 64)';
  const { unsupported } = interpolateEnv(server, {});
  if (unsupported.length > 0) {
    const refs = unsupported.map((r) => r.text).join(', ');
    return `uses ${refs}, which mcp-orch cannot resolve; write \${VAR} for an environment variable instead`;
  }
  // A value that is still ${VAR} is checked when the config loads, with the variable set.
  const lines = serverLines(server, [...at, name], (issue) => !hasReference(valueAt(server, issue.path)));
  return lines.length > 0 ? `invalid: ${lines.join('; ')}` : undefined;
}

function sameServer(a: unknown, b: unknown): boolean {
  if (isDeepStrictEqual(a, b)) return true;
  const pa = serverSchema.safeParse(a);
  const pb = serverSchema.safeParse(b);
  // A failed parse has no data, so equal data means b parsed too.
  return pa.success && isDeepStrictEqual(pa.data, pb.data);
}

function numbered(name: string, n: number): string {
  const suffix = `-${n}`;
  return `${name.slice(0, 64 - suffix.length)}${suffix}`;
}

/** An earlier renamed import of the same server (`name-2`, `name-3`, ...), so a rerun adds no copies. */
function findNumberedCopy(servers: Record<string, unknown>, name: string, server: unknown): string | undefined {
  const prefix = numbered(name, 2).slice(0, -2);
  return Object.keys(servers).find(
    (key) => key.startsWith(`${prefix}-`) && /^\d+$/.test(key.slice(prefix.length + 1)) && sameServer(servers[key], server),
  );
}

/**
 * Merges the servers of a client's config file into an mcp-orch config. Each server is kept as
 * written, unknown keys included; an existing name is never replaced silently.
 */
export function importServers(fromPath: string, intoPath: string, options: ImportOptions = {}): ImportResult {
  const { overwrite = false, rename = false } = options;
  const { servers: incoming, at } = findServers(parseConfigDocument(readSource(fromPath), fromPath, { jsonc: true }), fromPath);

  const target = path.resolve(intoPath);
  const exists = fs.existsSync(target);
  const into = openConfigEdit(intoPath, exists ? readConfigText(target) : undefined);

  const result: ImportResult = { added: [], skipped: [], renamed: [], overwritten: [], sourceKey: at.join('.'), target, created: false };
  const pending = new Set(Object.keys(incoming));

  for (const [name, server] of Object.entries(incoming)) {
    pending.delete(name);
    const invalid = invalidReason(name, server, at);
    if (invalid) {
      result.skipped.push({ name, reason: invalid });
      continue;
    }
    const current = into.servers[name];
    if (current === undefined) {
      into.set(name, server);
      result.added.push(name);
      continue;
    }
    if (sameServer(current, server)) {
      result.skipped.push({ name, reason: 'already present' });
      continue;
    }
    if (overwrite) {
      into.set(name, server);
      result.added.push(name);
      result.overwritten.push(name);
      continue;
    }
    if (!rename) {
      result.skipped.push({
        name,
        reason: `a different server named "${name}" already exists (overwrite replaces it; rename adds this one as "${numbered(name, 2)}")`,
      });
      continue;
    }
    const copy = findNumberedCopy(into.servers, name, server);
    if (copy) {
      result.skipped.push({ name, reason: `already present as "${copy}"` });
      continue;
    }
    let n = 2;
    // Names taken in the target, or wanted by a later server of the source, are not free.
    while (into.servers[numbered(name, n)] !== undefined || pending.has(numbered(name, n))) n++;
    const to = numbered(name, n);
    into.set(to, server);
    result.added.push(to);
    result.renamed.push({ from: name, to });
  }

  if (result.added.length > 0) {
    writeAtomic(target, into.text());
    result.created = !exists;
  }
  return result;
}
