import { readAdminToken, readDaemonInfo, processAlive, healthAnswers, type DaemonInfo } from '../daemon/stateFiles.js';
import { OrchError, type OrchErrorCode } from '../errors.js';

/** The running daemon of a data dir, as the CLI reaches it: its URL from daemon.json, its admin token. */
export interface DaemonClient {
  info: DaemonInfo;
  dataDir: string;
  /** A request to the admin API with the token; non-2xx answers throw the daemon's error and hint. */
  request<T>(method: 'GET' | 'POST', path: string): Promise<T>;
  /** The raw response (for streams), with the token. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

export function noDaemon(dataDir: string, detail?: string): OrchError {
  return new OrchError('DAEMON_UNREACHABLE', `no mcp-orch daemon is running for data dir ${dataDir}${detail ? ` (${detail})` : ''}`, {
    hint: 'start one with `mcp-orch serve`',
  });
}

/** Finds the daemon from `<dataDir>/daemon.json`; throws a clear error when none is running there. */
export async function connectDaemon(dataDir: string): Promise<DaemonClient> {
  const info = readDaemonInfo(dataDir);
  if (!info) throw noDaemon(dataDir);
  if (!processAlive(info.pid)) throw noDaemon(dataDir, `daemon.json names pid ${info.pid}, which has exited`);
  if (!(await healthAnswers(info.url))) throw noDaemon(dataDir, `pid ${info.pid} does not answer at ${info.url}`);
  const token = readAdminToken(dataDir);
  if (!token) throw noDaemon(dataDir, 'no admin-token file');
  return daemonClient(dataDir, info, token);
}

export function daemonClient(dataDir: string, info: DaemonInfo, token: string): DaemonClient {
  const send = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${info.url}${path}`, {
      ...init,
      headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${token}` },
    }).catch((error: unknown) => {
      throw noDaemon(dataDir, `${info.url}: ${error instanceof Error ? error.message : String(error)}`);
    });
  return {
    info,
    dataDir,
    fetch: send,
    async request<T>(method: 'GET' | 'POST', path: string): Promise<T> {
      const response = await send(path, { method });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = { error: text };
      }
      if (!response.ok) {
        const { error, hint, code } = body as { error?: string; hint?: string; code?: OrchErrorCode };
        throw new OrchError(
          code ?? (response.status === 404 ? 'UNKNOWN_SERVER' : 'INTERNAL'),
          error ?? `HTTP ${response.status}`,
          hint ? { hint } : {},
        );
      }
      return body as T;
    },
  };
}
