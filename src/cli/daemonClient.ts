import type { Command } from 'commander';
import { readAdminToken, type DaemonInfo } from '../daemon/stateFiles.js';
import { OrchError, type ApiErrorBody } from '../errors.js';
import { reportError } from './context.js';
import { findDaemon, noDaemon, type DaemonOptions, type FoundDaemon } from './findDaemon.js';

/** A running daemon as the CLI reaches it: its URL from daemon.json, its admin token. */
export interface DaemonClient {
  info: DaemonInfo;
  dataDir: string;
  /** A request to the admin API with the token (and a JSON body, if given); non-2xx answers throw the daemon's error and hint. */
  request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The raw response (for streams), with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** The daemon's JSON error body (`{"error": {"code", "message", "hint"}}`) as the error it stands for. */
export function apiError(body: unknown, status: number): OrchError {
  const { error } = (body ?? {}) as Partial<ApiErrorBody>;
  return new OrchError(error?.code ?? (status === 404 ? 'UNKNOWN_SERVER' : 'INTERNAL'), error?.message ?? `HTTP ${status}`, {
    ...(error?.hint ? { hint: error.hint } : {}),
    ...(error?.errors ? { data: { errors: error.errors } } : {}),
  });
}

/** The options of every command that talks to a running daemon. */
export function daemonOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'find the daemon serving this config (default: the only daemon running, see --data-dir)')
    .option('--data-dir <dir>', 'the data dir of the daemon to talk to, when several run (default: $MCP_ORCH_DATA_DIR)');
}

/**
 * Runs a command's body with the daemon the options mean; any error is printed and exits 1.
 * Commander calls an action with the arguments, then the options, then the command itself.
 */
export function withDaemon<O extends DaemonOptions, A extends unknown[]>(
  body: (client: DaemonClient, options: O, ...args: A) => Promise<void>,
): (...args: [...A, O, Command]) => Promise<void> {
  return async (...args) => {
    const options = args[args.length - 2] as O;
    try {
      const client = await connectDaemon(options);
      await body(client, options, ...(args.slice(0, -2) as A));
    } catch (error) {
      reportError(error);
    }
  };
}

/** The running daemon the options mean (see findDaemon), with its admin token. */
export async function connectDaemon(options: DaemonOptions): Promise<DaemonClient> {
  return clientOf(await findDaemon(options));
}

export function clientOf({ dataDir, info }: FoundDaemon): DaemonClient {
  const token = readAdminToken(dataDir);
  if (!token) throw noDaemon(dataDir, [], 'no admin-token file in it');
  return daemonClient(dataDir, info, token);
}

export function daemonClient(dataDir: string, info: DaemonInfo, token: string): DaemonClient {
  const send = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${info.url}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` },
    }).catch((error: unknown) => {
      throw noDaemon(dataDir, [], `${info.url}: ${error instanceof Error ? error.message : String(error)}`);
    });
  return {
    info,
    dataDir,
    fetch: send,
    async request<T>(method: 'GET' | 'POST' | 'DELETE', path: string, json?: unknown): Promise<T> {
      const response = await send(
        path,
        json === undefined ? { method } : { method, body: JSON.stringify(json), headers: { 'content-type': 'application/json' } },
      );
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = { error: { message: text } };
      }
      if (!response.ok) throw apiError(body, response.status);
      return body as T;
    },
  };
}
