import os from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { recordNow, type ManageEvent } from '../audit/events.js';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import { runningDaemons } from '../daemon/registry.js';
import { runningDaemon } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import { openStore, type Store } from '../store/open.js';
import { reportError, resolveDataDir, type ConfigOptions } from './context.js';

/**
 * What the commands on the database share: the data dir's store, opened for one command and closed
 * after it (the database is the truth, daemon or not), confirmation of destructive steps, durations,
 * and the audit record of every change.
 */

export type StoreOptions = Pick<ConfigOptions, 'config' | 'dataDir'> & { json?: boolean; yes?: boolean };

export interface StoreContext {
  store: Store;
  dataDir: string;
}

export function storeOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'config file, for its servers and orch.dataDir (default: ./mcp-config.json, else ~/.mcp.json)')
    .option('--data-dir <dir>', "where mcp-orch.db lives (default: the config's, else the running daemon's, else ~/.mcp-orch)");
}

/**
 * The data dir a command on the database means: --data-dir, $MCP_ORCH_DATA_DIR or the config's, as
 * `serve` resolves it. When nothing here names one (no config file), the daemon `status` would find:
 * the default data dir's if it runs, else the only one running, as after `npm start` in a clone,
 * whose example config is not one the commands read by default. With none, the default.
 */
async function storeDataDir(options: StoreOptions): Promise<string> {
  const dataDir = resolveDataDir(options);
  const named =
    options.dataDir !== undefined || process.env.MCP_ORCH_DATA_DIR !== undefined || options.config !== undefined || configHere();
  if (named || (await runningDaemon(dataDir))) return dataDir;
  const running = await runningDaemons();
  return running.length === 1 ? running[0]!.dataDir : dataDir;
}

/** Opens the store for the command's body and closes it after; any error is printed and exits 1. */
export function withStore<O extends StoreOptions, A extends unknown[]>(
  body: (context: StoreContext, options: O, ...args: A) => Promise<void> | void,
): (...args: [...A, O, Command]) => Promise<void> {
  return async (...args) => {
    const options = args[args.length - 2] as O;
    let store: Store | undefined;
    try {
      const dataDir = await storeDataDir(options);
      store = openStore(dataDir);
      await body({ store, dataDir }, options, ...(args.slice(0, -2) as A));
    } catch (error) {
      reportError(error);
    } finally {
      store?.close();
    }
  };
}

/** Whether a config file is found here without --config (./mcp-config.json, else ~/.mcp.json). */
function configHere(): boolean {
  try {
    resolveConfigPath(undefined);
    return true;
  } catch {
    return false;
  }
}

/** The config when there is one to read (for server names); undefined when there is none. */
export function optionalConfig(options: Pick<ConfigOptions, 'config'>): LoadedConfig | undefined {
  try {
    return loadConfig(resolveConfigPath(options.config));
  } catch (error) {
    if (options.config !== undefined) throw error;
    return undefined;
  }
}

/** Refuses a server name the config does not have, when there is a config to ask. */
export function checkServer(options: StoreOptions, server: string): void {
  const loaded = optionalConfig(options);
  if (loaded && !loaded.config.mcpServers[server]) {
    throw new OrchError('UNKNOWN_SERVER', `unknown server "${server}" in ${loaded.path}`, {
      hint: `configured servers: ${Object.keys(loaded.config.mcpServers).join(', ') || 'none'}`,
    });
  }
}

/** The servers a config runs (a server waiting for a secret counts: it runs once the secret is set). */
export function configServers(loaded: LoadedConfig): string[] {
  return Object.entries(loaded.config.mcpServers)
    .filter(([name, server]) => server.disabled !== true || loaded.unavailable[name] !== undefined)
    .map(([name]) => name);
}

/** Asks on a terminal; without one, only --yes goes ahead. */
export async function confirm(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new OrchError('BAD_REQUEST', `${question} — not confirmed`, { hint: 'pass --yes to go ahead without a terminal to ask on' });
  }
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`${question} [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) throw new OrchError('BAD_REQUEST', 'cancelled');
  } finally {
    prompt.close();
  }
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `10m`, `12h`, `30d`, `2w` in milliseconds; `0` is zero. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text.trim());
  if (text.trim() === '0') return 0;
  if (!match) throw new OrchError('BAD_REQUEST', `${what}: expected a duration such as 90s, 10m, 12h, 30d or 2w, got "${text}"`);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

/** A point in time: a duration ago (`1h`), or a date (`2026-01-31`, `2026-01-31T12:00:00Z`). */
export function parseTime(text: string, what: string, now: number = Date.now()): number {
  if (/^\d+(\.\d+)?[smhdw]$/.test(text.trim())) return now - parseDuration(text, what);
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new OrchError('BAD_REQUEST', `${what}: expected a duration ago (1h, 7d) or a date (2026-01-31), got "${text}"`);
  return at;
}

/** `a,b` as a list, without blanks or repeats. */
export function parseList(text: string): string[] {
  return [...new Set(text.split(',').map((item) => item.trim()))].filter(Boolean);
}

export function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

/** A change made from the CLI, in the audit log, with the operating-system user who made it. */
export function recordManage(store: Store, event: Omit<ManageEvent, 'type' | 'via' | 'user'>): void {
  recordNow(store.audit, { type: 'manage', via: 'cli', user: os.userInfo().username, ...event });
}

/** All of stdin, without the one line end a pipe or here-doc adds. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
