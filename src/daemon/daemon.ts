import fs from 'node:fs';
import { diffConfigs, type ConfigDiff } from '../config/diff.js';
import type { Config, OrchSettings } from '../config/schema.js';
import { supervisionFor } from '../config/supervision.js';
import { watchConfig, type ConfigWatcher } from '../config/watch.js';
import { Gateway } from '../gateway/gateway.js';
import { createApp } from '../http/app.js';
import { serve, type Served } from '../http/serve.js';
import type { Logger } from '../log.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { UpstreamPool } from '../upstream/pool.js';
import { Upstream } from '../upstream/upstream.js';
import { VERSION } from './version.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Created if missing; holds logs and state. */
  dataDir: string;
  /** Injected for tests; defaults to the supervisor's spawnChild. */
  spawn?: typeof spawnChild;
  /** Reload from this file when it changes (hot reload); a bad edit keeps the last good config. */
  watchPath?: string;
  /** Settings from the command line, which win over the file's at start and on every reload. */
  overrides?: Partial<OrchSettings>;
}

export interface Daemon {
  readonly pool: UpstreamPool;
  readonly gateway: Gateway;
  /** Starts every enabled server (without waiting for them) and, unless `http: false`, listens. */
  start(options?: { http?: boolean }): Promise<{ url?: string }>;
  /** Applies a new config: starts added servers, stops removed ones, restarts changed ones. */
  reload(config: Config): Promise<ConfigDiff>;
  /** Waits until every server has finished starting (running or failed), bounded by their timeouts. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The composition root: wires config, upstreams, gateway and HTTP together. The only place that
 * knows all the rooms; the CLI calls it and nothing else does.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { logger } = options;
  let config = options.config;
  const pool = new UpstreamPool();
  const gateway = new Gateway({ pool, logger, separator: config.orch.namespaceSeparator, version: VERSION });
  let served: Served | undefined;
  let watcher: ConfigWatcher | undefined;
  let shuttingDown = false;
  let closing: Promise<void> | undefined;

  const createUpstream = (name: string): Upstream => {
    const server = config.mcpServers[name];
    if (!server) throw new Error(`no server named ${name}`);
    return new Upstream(name, server, {
      logger,
      spawnChild: options.spawn ?? spawnChild,
      clientInfo: { name: 'mcp-orch', version: VERSION },
      stopGraceMs: config.orch.stopGraceSec * 1000,
      supervision: supervisionFor(server, config.orch),
      onServerRequest: gateway.routeServerRequest,
    });
  };

  const startServer = (name: string): void => {
    const upstream = createUpstream(name);
    pool.add(upstream);
    void upstream.start();
  };

  const stopServer = async (name: string): Promise<void> => {
    await pool.remove(name)?.close();
  };

  const enabled = (c: Config): string[] => Object.entries(c.mcpServers).filter(([, s]) => s.disabled !== true).map(([n]) => n);

  const reload = async (next: Config): Promise<ConfigDiff> => {
    const diff = diffConfigs(config, next);
    config = next;
    await Promise.all([...diff.removed, ...diff.changed].map(stopServer));
    for (const name of [...diff.added, ...diff.changed]) startServer(name);
    if (diff.restartRequired.length) {
      logger.warn({ settings: diff.restartRequired }, 'these settings take effect when the daemon restarts');
    }
    logger.info({ added: diff.added, removed: diff.removed, changed: diff.changed }, 'config applied');
    return diff;
  };

  return {
    pool,
    gateway,

    async start(startOptions = {}) {
      fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
      for (const name of enabled(config)) startServer(name);
      if (startOptions.http === false) return {};
      const app = createApp({
        gateway,
        pool,
        version: VERSION,
        allowedOrigins: config.orch.allowedOrigins,
        maxBodyBytes: config.orch.maxBodyBytes,
        isShuttingDown: () => shuttingDown,
      });
      served = await serve(app, config.orch.host, config.orch.port);
      logger.info({ url: served.url, servers: pool.names() }, 'listening');
      if (options.watchPath) {
        const file = options.watchPath;
        watcher = watchConfig(file, {
          logger,
          onChange: ({ config: next }) => void reload({ ...next, orch: { ...next.orch, ...options.overrides } }),
          onError: (error) => logger.error({ config: file }, `config not applied, still running the last good one: ${error.describe()}`),
        });
      }
      return { url: served.url };
    },

    reload,

    async settled() {
      await Promise.all(pool.all().map((upstream) => upstream.settled()));
    },

    close() {
      closing ??= (async () => {
        shuttingDown = true;
        await watcher?.close();
        await served?.close();
        await gateway.close();
        await Promise.all(pool.all().map((upstream) => upstream.close()));
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
