import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { OrchError } from '../errors.js';
import { isPlainObject } from './issues.js';
import { isYamlPath, parseConfigDocument, readConfigText } from './load.js';

/**
 * Changes to the servers of a config file that keep the rest of it: other keys and their order,
 * and in YAML its comments (the yaml package's Document API edits the document in place). Written
 * in one step, so that a watcher or a crash never sees half a config.
 */
export interface ConfigEdit {
  /** The file's data as written (no interpolation, no defaults), with the edits so far: what to validate. */
  readonly data: Record<string, unknown>;
  /** The servers as written in the file (no interpolation, no defaults). */
  readonly servers: Record<string, unknown>;
  /** Adds a server at the end, or replaces one where it stands. */
  set(name: string, server: unknown): void;
  delete(name: string): void;
  text(): string;
}

/** An edit of the config `text` of `file` (undefined: a new file). */
export function openConfigEdit(file: string, text: string | undefined): ConfigEdit {
  const data = text === undefined ? {} : parseConfigDocument(text, file);
  const existing = isPlainObject(data) ? (data.mcpServers ?? {}) : undefined;
  if (!isPlainObject(existing)) {
    throw new OrchError('CONFIG_INVALID', `${file}: expected an object with "mcpServers": {...}`, {
      hint: 'fix the config file first, or use another one with --config',
    });
  }
  const servers: Record<string, unknown> = { ...existing };
  const root: Record<string, unknown> = { ...(data as Record<string, unknown>), mcpServers: servers };
  if (isYamlPath(file)) {
    const doc = text === undefined ? new YAML.Document({ mcpServers: {} }) : YAML.parseDocument(text);
    return {
      data: root,
      servers,
      set(name, server) {
        servers[name] = server;
        doc.setIn(['mcpServers', name], doc.createNode(server));
      },
      delete(name) {
        delete servers[name];
        doc.deleteIn(['mcpServers', name]);
      },
      text: () => doc.toString(),
    };
  }
  // Written back with the indentation it had; a key assigned again keeps its place, a new one goes last.
  // Stryker disable next-line StringLiteral: any text without an indented line gives the default alike
  const indent = indentOf(text ?? '');
  return {
    data: root,
    servers,
    set(name, server) {
      servers[name] = server;
    },
    delete(name) {
      delete servers[name];
    },
    text: () => `${JSON.stringify(root, null, indent)}\n`,
  };
}

/** The indentation of the first indented line of a JSON text (two spaces when there is none). */
function indentOf(text: string): string | number {
  return /^([ \t]+)\S/m.exec(text)?.[1] ?? 2;
}

/** Reads `file`, lets `change` edit its servers, and writes it back in one step. */
export function editConfigFile(file: string, change: (edit: ConfigEdit) => void): void {
  const edit = openConfigEdit(file, readConfigText(file));
  change(edit);
  writeAtomic(file, edit.text());
}

/**
 * Replaces `file` in one step (a temp file renamed over it), keeping its mode: a config that holds
 * tokens and was locked down stays locked down. A new file gets `mode` (default: the umask's).
 */
export function writeAtomic(file: string, text: string, mode?: number): void {
  let real = file;
  let keep = mode;
  try {
    real = fs.realpathSync(file);
    keep = fs.statSync(real).mode & 0o777;
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }
  const tmp = path.join(path.dirname(real), `.${path.basename(real)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    // Created with the mode already, so that not even for a moment may others read it; the umask
    // may narrow that, so chmod sets it exactly.
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ObjectLiteral: the moment before chmod is not observable
    fs.writeFileSync(tmp, text, keep === undefined ? {} : { mode: keep });
    if (keep !== undefined) fs.chmodSync(tmp, keep);
    fs.renameSync(tmp, real);
  } catch (err) {
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: force matters only when the write failed before making the file, which no test can cause on demand (as root, permissions do not stop it)
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
