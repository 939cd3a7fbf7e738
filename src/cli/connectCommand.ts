import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Argument, type Command } from 'commander';
import {
  CLIENT_TITLES,
  CLIENTS,
  clientConfig,
  projectUrl,
  renderClientConfig,
  type ClientConfig,
  type ClientName,
} from '../auth/clientConfigs.js';
import { findKey } from '../auth/issue.js';
import { keyState, looksLikeKey } from '../auth/keys.js';
import { isPlainObject } from '../config/issues.js';
import { parseConfigDocument } from '../config/load.js';
import { runningDaemon } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import { createKey } from './keysCommand.js';
import { printJson } from './output.js';
import { optionalConfig, readStdin, storeOptions, withStore, type StoreContext, type StoreOptions } from './storeContext.js';

interface ConnectOptions extends StoreOptions {
  project: string;
  key?: string;
  member?: string;
  name?: string;
  url?: string;
  write?: boolean;
  file?: string;
}

/** Where each client keeps its user-wide MCP servers on this platform. */
export function clientConfigFile(client: ClientName, home: string = os.homedir(), platform: NodeJS.Platform = process.platform): string {
  const appData =
    platform === 'darwin'
      ? path.join(home, 'Library', 'Application Support')
      : platform === 'win32'
        ? (process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'))
        : path.join(home, '.config');
  switch (client) {
    case 'cursor':
      return path.join(home, '.cursor', 'mcp.json');
    case 'cline':
      return path.join(appData, 'Code', 'User', 'globalStorage', 'saoudrizwan.claude-dev', 'settings', 'cline_mcp_settings.json');
    case 'claude-code':
      return path.join(home, '.claude.json');
    case 'claude-desktop':
      return path.join(appData, 'Claude', 'claude_desktop_config.json');
    case 'vscode':
      return path.join(appData, 'Code', 'User', 'mcp.json');
  }
}

/** Merges the entry into the client's file, keeping everything else and a copy of the file as it was. */
function writeClientConfig(config: ClientConfig, file: string): { backup: string | undefined; replaced: boolean } {
  let data: Record<string, unknown> = {};
  let backup: string | undefined;
  if (fs.existsSync(file)) {
    const parsed = parseConfigDocument(fs.readFileSync(file, 'utf8'), file, { jsonc: true });
    if (!isPlainObject(parsed))
      throw new OrchError('BAD_REQUEST', `${file}: expected a JSON object`, { hint: 'fix the file, or give another with --file' });
    data = parsed;
    backup = `${file}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.copyFileSync(file, backup);
  }
  const container = data[config.container] ?? {};
  if (!isPlainObject(container)) throw new OrchError('BAD_REQUEST', `${file}: "${config.container}" is not an object`);
  const replaced = config.name in container;
  const next = { ...data, [config.container]: { ...container, [config.name]: config.entry } };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // 0600 for a new file: it holds a key.
  fs.writeFileSync(file, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  return { backup, replaced };
}

/** --url, else the running daemon's, else the config's host and port. */
async function baseUrl(options: ConnectOptions, dataDir: string): Promise<string> {
  if (options.url) return options.url;
  const running = await runningDaemon(dataDir);
  if (running) return running.url;
  const orch = optionalConfig(options)?.config.orch;
  const host = orch?.host ?? '127.0.0.1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${orch?.port ?? 8000}`;
}

async function keyFor(context: StoreContext, options: ConnectOptions, client: ClientName): Promise<{ key: string; created: boolean }> {
  if (options.key === undefined) {
    const { key } = createKey(context, { ...options, name: options.name ?? client });
    return { key, created: true };
  }
  const key = options.key === '-' ? (await readStdin()).trim() : options.key;
  if (!looksLikeKey(key))
    throw new OrchError('BAD_REQUEST', '--key: expected a whole key (mcpo_...), not a prefix', {
      hint: 'or leave out --key for a new one',
    });
  const record = findKey(context.store.keys, key);
  if (record.project !== options.project) {
    throw new OrchError('BAD_REQUEST', `key ${record.prefix} belongs to project "${record.project}", not "${options.project}"`);
  }
  const state = keyState(record, Date.now());
  if (state === 'revoked' || state === 'expired') throw new OrchError('BAD_REQUEST', `key ${record.prefix} is ${state}`);
  return { key, created: false };
}

export function registerConnectCommand(program: Command): void {
  storeOptions(program.command('connect'))
    .description(
      "print a client's config for a project, with a new key (or --key) in the Authorization header; --write merges it into the client's file",
    )
    .addArgument(new Argument('<client>').choices(CLIENTS))
    .option('-p, --project <name>', 'the project', DEFAULT_PROJECT)
    .option('--key <key>', 'use this key instead of creating one ("-": read it from stdin)')
    .option('-m, --member <name>', "whose new key it is (default: the project's only member or only admin)")
    .option('-n, --name <name>', "the new key's name (default: the client's)")
    .option('--url <url>', "the gateway address (default: the running daemon's, else the config's host and port)")
    .option('--write', "merge the entry into the client's config file, keeping a copy of it")
    .option('--file <path>', 'the client config file to write (default: where the client keeps its user-wide servers)')
    .option('--json', 'print JSON')
    .action(
      withStore(async (context, options: ConnectOptions, client: ClientName) => {
        context.store.projects.require(options.project);
        const url = projectUrl(await baseUrl(options, context.dataDir), options.project);
        const { key, created } = await keyFor(context, options, client);
        const config = clientConfig(client, { url, key });
        const file = options.write ? path.resolve(options.file ?? clientConfigFile(client)) : undefined;
        const written = file ? writeClientConfig(config, file) : undefined;
        if (options.json)
          return printJson({ client, url, created, config: { [config.container]: { [config.name]: config.entry } }, file, ...written });
        process.stdout.write(
          `${CLIENT_TITLES[client]}${created ? ' (with a new key, shown this once)' : ''}:\n${renderClientConfig(config)}\n`,
        );
        if (file && written) {
          process.stdout.write(
            `${written.replaced ? 'replaced' : 'added'} "${config.name}" in ${file}${written.backup ? ` (the previous file is at ${written.backup})` : ''}\n`,
          );
        }
      }),
    );
}
