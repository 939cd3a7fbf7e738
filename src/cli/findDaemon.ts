import path from 'node:path';
import { runningDaemons, type RegisteredDaemon } from '../daemon/registry.js';
import { runningDaemon, type DaemonInfo } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import { resolveDataDir, type ConfigOptions } from './context.js';
import { shellArg } from './output.js';

export type DaemonOptions = Pick<ConfigOptions, 'config' | 'dataDir'>;

export interface FoundDaemon {
  dataDir: string;
  info: DaemonInfo;
}

/** The command as the user typed it, with `--data-dir DIR` added: what a hint should tell them to run. */
export function withDataDir(dataDir: string, argv: string[] = process.argv.slice(2)): string {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--data-dir') i++;
    else if (!argv[i]!.startsWith('--data-dir=')) args.push(argv[i]!);
  }
  return `mcp-orch ${[...args, '--data-dir', dataDir].map(shellArg).join(' ')}`;
}

/** ` --data-dir DIR` when the person named the data dir: the commands a hint suggests need it too. */
export function dataDirFlag(options: DaemonOptions, dataDir: string): string {
  return options.dataDir === undefined ? '' : ` --data-dir ${shellArg(dataDir)}`;
}

function describeDaemon(daemon: RegisteredDaemon): string {
  return `${daemon.dataDir}  ${daemon.url}  (pid ${daemon.pid}${daemon.config ? `, ${daemon.config}` : ''})`;
}

/** No daemon where the command looked; names the ones that run elsewhere, with the flags to reach them. */
export function noDaemon(dataDir: string, others: RegisteredDaemon[] = [], detail?: string): OrchError {
  const message = `no mcp-orch daemon is running for data dir ${dataDir}${detail ? ` (${detail})` : ''}`;
  if (others.length === 0) return new OrchError('DAEMON_UNREACHABLE', message, { hint: 'start one with `mcp-orch serve`' });
  return new OrchError('DAEMON_UNREACHABLE', `${message}; running:\n${others.map((d) => `  ${describeDaemon(d)}`).join('\n')}`, {
    hint: `\`${withDataDir(others[0]!.dataDir)}\``,
  });
}

/**
 * The running daemon a command means, without being told where its data dir is:
 * 1. --data-dir or $MCP_ORCH_DATA_DIR: that data dir's daemon, or an error;
 * 2. --config: its data dir's daemon, else the registered daemon serving that file;
 * 3. neither: the data dir `serve` would use here (./mcp-config.json's orch.dataDir, else
 *    ~/.mcp-orch), else the registry of running daemons: the only one, or an error listing them all.
 * `alive` decides whether a data dir's daemon runs (`stop-daemon` settles for a live pid).
 */
export async function findDaemon(
  options: DaemonOptions,
  alive: (dataDir: string) => Promise<DaemonInfo | undefined> = runningDaemon,
): Promise<FoundDaemon> {
  const dataDir = resolveDataDir(options);
  const own = await alive(dataDir);
  if (own) return { dataDir, info: own };
  const registered = await runningDaemons();
  if (options.dataDir !== undefined || process.env.MCP_ORCH_DATA_DIR !== undefined) throw noDaemon(dataDir, registered);
  const candidates = options.config === undefined ? registered : registered.filter((d) => d.config === path.resolve(options.config!));
  if (candidates.length === 1) return { dataDir: candidates[0]!.dataDir, info: candidates[0]! };
  if (candidates.length === 0) throw noDaemon(dataDir, registered);
  throw new OrchError(
    'CONFLICT',
    `${candidates.length} mcp-orch daemons are running; say which with --data-dir:\n${candidates.map((d) => `  ${describeDaemon(d)}`).join('\n')}`,
    { hint: `\`${withDataDir(candidates[0]!.dataDir)}\`` },
  );
}
