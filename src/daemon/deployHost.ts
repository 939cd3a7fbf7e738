import { validateConfigData } from '../config/load.js';
import type { Config, ServerConfig } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import type { DeployHost } from '../deploy/deployer.js';
import { OrchError } from '../errors.js';
import { passFirstHealthCheck } from '../upstream/healthCheck.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import type { ServerLogs } from './serverLogs.js';

export interface DeployHostDeps {
  configFile: string | undefined;
  config(): Config;
  /** Puts the server in the running config, or takes it out (undefined). */
  setServer(name: string, server: ServerConfig | undefined): void;
  pool: UpstreamPool;
  secrets: SecretSource | undefined;
  /** A new upstream for `server`, not in the pool and without a log file yet. */
  createUpstream(name: string, server: ServerConfig): Upstream;
  /** Runs `fn` under the daemon's config lock (one reload or switch at a time). */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  isShuttingDown(): boolean;
  logs: ServerLogs;
  stopServer(name: string, cause: string): Promise<void>;
}

/**
 * How deployments change the running daemon: a deployed server switches to a new commit only once
 * that commit runs beside the old one and has answered its first health check.
 */
export function createDeployHost(deps: DeployHostDeps): { host: DeployHost; closeCandidates(cause: string): Promise<void> } {
  const { configFile, pool } = deps;
  // Started beside the server they are to replace, until they pass or fail; a daemon stopping ends them.
  const candidates = new Set<Upstream>();
  const host: DeployHost = {
    configFile,
    serverNames: () => Object.keys(deps.config().mcpServers),
    state: (name) => pool.get(name)?.state,
    async switchTo(name, entry, write) {
      // Read as the file will be once written (defaults, ${VAR}, ${secret:NAME}), so that the
      // watcher finds the running server unchanged.
      const parsed = validateConfigData({ mcpServers: { [name]: entry }, orch: deps.config().orch }, configFile ?? 'config', process.env, {
        secrets: deps.secrets,
      });
      const why = parsed.unavailable[name];
      if (why) throw new OrchError('CONFIG_INVALID', `server "${name}" cannot start: ${why}`);
      const server = parsed.config.mcpServers[name]!;
      const candidate = deps.createUpstream(name, server);
      candidates.add(candidate);
      try {
        await passFirstHealthCheck(candidate);
      } finally {
        candidates.delete(candidate);
      }
      await deps.exclusive(async () => {
        const stopping = deps.isShuttingDown();
        try {
          if (stopping) throw new OrchError('SHUTTING_DOWN', 'mcp-orch is shutting down', { hint: 'deploy again once it has restarted' });
          write();
        } catch (error) {
          await candidate.close(stopping ? 'daemon stopping' : 'the config could not be written');
          throw error;
        }
        deps.setServer(name, server);
        const old = pool.get(name);
        pool.add(candidate);
        await old?.close('replaced by a new deployment');
        await deps.logs.close(name);
        deps.logs.attach(name, candidate);
      });
    },
    remove: (name, write) =>
      deps.exclusive(async () => {
        write();
        deps.setServer(name, undefined);
        await deps.stopServer(name, 'its deployment was removed');
      }),
  };
  return {
    host,
    closeCandidates: async (cause) => {
      await Promise.all([...candidates].map((candidate) => candidate.close(cause)));
    },
  };
}
