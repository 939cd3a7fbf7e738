import fs from 'node:fs';
import { isIPv4 } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { OrchError } from '../errors.js';
import { dependencyProblems, dependencyWarnings } from './fleet.js';
import { findJsonSyntaxError, lineColumn, stripJsonComments } from './jsonText.js';
import { interpolateEnv } from './interpolate.js';
import { formatIssues, formatPath, isPlainObject } from './issues.js';
import { configSchema, isStdioServer, KNOWN_KEYS, type Config } from './schema.js';
import { maskSecretUrls, resolveSecrets, type SecretSource } from './secrets.js';

export interface ParsedConfig {
  config: Config;
  warnings: string[];
  /**
   * Servers that need a `${secret:NAME}` they cannot have, with the reason (never the value): they
   * are marked disabled in `config`, so they do not start while the others run.
   */
  unavailable: Record<string, string>;
}

export interface LoadOptions {
  /** Fills in `${secret:NAME}`; without it, servers that use secrets are unavailable. */
  secrets?: SecretSource | undefined;
}

export interface LoadedConfig extends ParsedConfig {
  /** Absolute path of the file the config came from. */
  path: string;
}

const EXAMPLE = 'mcp-config.json.example';
const CREATE_HINT = `create one with \`cp ${EXAMPLE} mcp-config.json\`, or pass --config PATH`;

/** Where a config is looked for when no --config is given, first match wins. */
export function configCandidates(cwd: string = process.cwd(), home: string = os.homedir()): string[] {
  return [
    path.resolve(cwd, 'mcp-config.json'),
    path.resolve(cwd, 'mcp-config.yaml'),
    path.resolve(cwd, 'mcp-config.yml'),
    path.join(home, '.mcp.json'),
  ];
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined, as falsy as false */ {
    return false;
  }
}

export function resolveConfigPath(explicit?: string, cwd: string = process.cwd(), home: string = os.homedir()): string {
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!isFile(file)) {
      throw new OrchError('CONFIG_NOT_FOUND', `config file not found: ${file}`, { hint: `check the --config path, or ${CREATE_HINT}` });
    }
    return file;
  }
  const candidates = configCandidates(cwd, home);
  const found = candidates.find(isFile);
  if (found) return found;
  throw new OrchError('CONFIG_NOT_FOUND', `no config file found (tried ${candidates.join(', ')})`, { hint: CREATE_HINT });
}

export function isYamlPath(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

/** Reads a config file's text; a missing or unreadable file is CONFIG_NOT_FOUND. */
export function readConfigText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Stryker disable next-line LogicalOperator: errors of the file system always have a code
    const why = code === 'ENOENT' ? 'config file not found' : `cannot read config file (${code ?? String(err)})`;
    throw new OrchError('CONFIG_NOT_FOUND', `${why}: ${file}`, { hint: CREATE_HINT, cause: err });
  }
}

export interface ParseOptions {
  /** Accept comments and trailing commas in JSON, as VS Code's files have them. */
  jsonc?: boolean;
}

/** The file's data as written: JSON or YAML by extension, no interpolation, no validation. */
export function parseConfigDocument(text: string, file: string, options: ParseOptions = {}): unknown {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (isYamlPath(file)) {
    const doc = YAML.parseDocument(source);
    const error = doc.errors[0];
    if (error) {
      // Stryker disable next-line OptionalChaining: yaml gives every parse error its position
      const pos = error.linePos?.[0];
      const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
      // Stryker disable next-line Regex: the first line of yaml's message ends with this position and its colon
      const what = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new OrchError('CONFIG_PARSE', `${where}: ${what}`, { hint: 'fix the YAML syntax at that line', cause: error });
    }
    return doc.toJS();
  }
  const json = options.jsonc ? stripJsonComments(source) : source;
  try {
    return JSON.parse(json) as unknown;
  } catch (err) {
    const found = findJsonSyntaxError(json);
    // Stryker disable next-line OptionalChaining: the scanner finds every error JSON.parse reports (jsonText.test.ts checks it)
    const { line, column } = lineColumn(json, found?.offset ?? 0);
    // Stryker disable next-line OptionalChaining: see above
    const what = found?.message ?? (err as Error).message;
    throw new OrchError('CONFIG_PARSE', `${file}:${line}:${column}: ${what}`, {
      hint: 'fix the JSON syntax there (JSON has no comments or trailing commas; YAML in mcp-config.yaml allows comments)',
      cause: err,
      data: { file, line, column },
    });
  }
}

/** Called for data that passed the schema: an object. */
function unknownKeyWarnings(data: Record<string, unknown>, file: string): string[] {
  const warnings: string[] = [];
  const check = (object: unknown, known: readonly string[], at: PropertyKey[]): void => {
    if (!isPlainObject(object)) return;
    for (const key of Object.keys(object)) {
      if (!known.includes(key)) warnings.push(`${file}: ${formatPath([...at, key])}: unknown key, ignored`);
    }
  };
  // `$schema` is how editors find a JSON schema; it is not a mistake.
  check(data, [...KNOWN_KEYS.root, '$schema'], []);
  check(data.orch, KNOWN_KEYS.orch, ['orch']);
  if (isPlainObject(data.mcpServers)) {
    for (const [name, server] of Object.entries(data.mcpServers)) {
      const known = isPlainObject(server) && 'command' in server ? KNOWN_KEYS.stdio : KNOWN_KEYS.remote;
      check(server, known, ['mcpServers', name]);
    }
  }
  return warnings;
}

/** Interpolates and validates already-parsed data; `file` only names the source in messages. */
export function validateConfigData(
  data: unknown,
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  options: LoadOptions = {},
): ParsedConfig {
  const { value, missing, unsupported } = interpolateEnv(data, env);
  if (unsupported.length > 0) {
    throw new OrchError('CONFIG_INVALID', unsupported.map((r) => `${file}: ${r.path}: unsupported reference ${r.text}`).join('\n'), {
      hint: 'write ${VAR} or ${VAR:-default} for environment variables, or $${ for a literal "${"',
      data: { file, references: unsupported },
    });
  }
  // A server is often disabled precisely because its token is not at hand: warn, do not fail.
  const disabled = disabledServerPrefixes(data);
  const inDisabled = (r: { path: string }): boolean => disabled.some((prefix) => r.path.startsWith(prefix));
  const fatal = missing.filter((r) => !inDisabled(r));
  if (fatal.length > 0) {
    const lines = fatal.map((r) => `${file}: ${r.path}: environment variable ${r.variable} is not set`);
    throw new OrchError('CONFIG_ENV_MISSING', lines.join('\n'), {
      hint: 'set the variable, give a default with ${VAR:-default}, or write $${ for a literal "${"',
      data: { file, variables: fatal.map((r) => r.variable) },
    });
  }
  // What is still missing is in disabled servers.
  const missingWarnings = missing.map((r) => `${file}: ${r.path}: environment variable ${r.variable} is not set (server disabled)`);
  const masked = maskSecretUrls(value);
  const result = configSchema.safeParse(masked.data);
  if (!result.success) {
    const lines = formatIssues(result.error.issues, configSchema, value).map((line) => `${file}: ${line}`);
    // The example is the working config to compare with, unless it is the file being edited.
    const example =
      path.basename(file) === EXAMPLE ? 'the README\'s "Config" section lists every key' : `${EXAMPLE} shows a working config`;
    throw new OrchError('CONFIG_INVALID', lines.join('\n'), {
      hint: `fix the fields named above; ${example}`,
      data: { file, issues: lines },
    });
  }
  const problems = dependencyProblems(result.data.mcpServers);
  if (problems.length > 0) {
    throw new OrchError('CONFIG_INVALID', problems.map((line) => `${file}: ${line}`).join('\n'), {
      hint: 'dependsOn names servers of this config that must be running first, without cycles',
      data: { file, issues: problems },
    });
  }
  const { config, unavailable } = resolveSecrets(masked.restore(result.data), file, options.secrets);
  const secretWarnings = Object.entries(unavailable).map(([name, why]) => `${file}: server "${name}" is not started: ${why}`);
  return {
    config,
    unavailable,
    warnings: [
      ...missingWarnings,
      ...unknownKeyWarnings(value as Record<string, unknown>, file),
      ...secretWarnings,
      ...plainHttpWarnings(config, file),
      ...dependencyWarnings(config).map((warning) => `${file}: ${warning}`),
      ...cacheWarnings(config, file),
    ],
  };
}

/** Loopback hosts as URL.hostname spells them; what goes there never leaves the machine. */
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || (isIPv4(hostname) && hostname.startsWith('127.'));
}

/** Remote servers whose headers (credentials, as a rule) would cross the network unencrypted; never their values. */
function plainHttpWarnings(config: Config, file: string): string[] {
  return Object.entries(config.mcpServers).flatMap(([name, server]) => {
    if (isStdioServer(server) || server.disabled === true || Object.keys(server.headers).length === 0) return [];
    const url = new URL(server.url);
    if (url.protocol !== 'http:' || isLoopback(url.hostname)) return [];
    const names = Object.keys(server.headers).join(', ');
    return [
      `${file}: mcpServers.${name}.url: its headers (${names}) are sent over plain http:// to ${url.host}, readable on the way; use https://`,
    ];
  });
}

/** `cache` settings that keep nothing: on a server whose every client has an instance of its own, or naming nothing to keep. */
function cacheWarnings(config: Config, file: string): string[] {
  return Object.entries(config.mcpServers).flatMap(([name, server]) => {
    const cache = server.cache;
    if (!cache) return [];
    if (server.isolation === 'session') {
      return [`${file}: mcpServers.${name}.cache: ignored: with "isolation": "session" each client's answers are its own`];
    }
    if (cache.tools === undefined && !cache.resources && !cache.lists) {
      return [`${file}: mcpServers.${name}.cache: keeps nothing; add "tools": [...] or "readOnly", "resources": true or "lists": true`];
    }
    return [];
  });
}

function disabledServerPrefixes(data: unknown): string[] {
  const servers = isPlainObject(data) && isPlainObject(data.mcpServers) ? data.mcpServers : {};
  return Object.entries(servers)
    .filter(([, server]) => isPlainObject(server) && server.disabled === true)
    .map(([name]) => `mcpServers.${name}.`);
}

/** Parses, interpolates and validates config text; watch and import reuse it without reading files. */
export function parseConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): ParsedConfig {
  return validateConfigData(parseConfigDocument(text, file), file, env, options);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): LoadedConfig {
  const absolute = path.resolve(file);
  return { ...parseConfigText(readConfigText(absolute), file, env, options), path: absolute };
}
