import { diffConfigs, type ConfigDiff } from '../config/diff.js';
import { startOrder as dependenciesFirst } from '../config/fleet.js';
import { loadConfig } from '../config/load.js';
import type { Config, OrchSettings, ServerConfig } from '../config/schema.js';
import { supervisionFor } from '../config/supervision.js';
import { watchConfig, type ConfigWatcher } from '../config/watch.js';
import { OrchError } from '../errors.js';
import type { Access } from '../auth/access.js';
import type { FirstRun } from '../auth/firstRun.js';
import type { SecretSource } from '../config/secrets.js';
import { createBatch } from '../batch/create.js';
import { Gateway } from '../gateway/gateway.js';
import { OwnTools } from '../gateway/ownTools.js';
import { unknownServer } from '../gateway/view.js';
import type { ControlAction, ReloadReport } from '../http/api/deps.js';
import { createApp } from '../http/app.js';
import { hostAllowlist } from '../http/host.js';
import { serve, SERVE_TIMEOUTS, type Served } from '../http/serve.js';
import { createWebSocketServing } from '../http/websocket.js';
import type { Logger } from '../log.js';
import { createCallStats } from '../metrics/callStats.js';
import { createStatsReader } from '../metrics/liveStats.js';
import { createMetrics, type Metrics } from '../metrics/metrics.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { UpstreamPool } from '../upstream/pool.js';
import { Upstream } from '../upstream/upstream.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import type { Store } from '../store/open.js';
import { createAccessControl } from './accessControl.js';
import { createFleet } from './fleet.js';
import { createStartOrder } from './startOrder.js';
import { createDeployments } from './deployments.js';
import type { Deployer } from '../deploy/deployer.js';
import { createDeployHost } from './deployHost.js';
import { createServerLogs } from './serverLogs.js';
import { ensurePrivateDataDir } from '../dataDir.js';
import { registerDaemon, unregisterDaemon } from './registry.js';
import { removeDaemonInfo, writeAdminToken, writeDaemonInfo } from './stateFiles.js';
import { VERSION } from './version.js';
import { wireWeb, type Web } from './webWiring.js';

export interface DaemonOptions {
  config: Config;
  logger: Logger;
  /** Created if missing; holds logs and state. */
  dataDir: string;
  /** Injected for tests; defaults to the supervisor's spawnChild. */
  spawn?: typeof spawnChild;
  /** Reload from this file when it changes (hot reload); a bad edit keeps the last good config. */
  watchPath?: string;
  /** The file `reloadFromFile()` (POST /api/reload, `mcp-orch reload`) reads; defaults to watchPath. */
  configPath?: string;
  /** Settings from the command line, which win over the file's at start and on every reload. */
  overrides?: Partial<OrchSettings>;
  /** The data dir's database: projects, members, keys, secrets and the audit log. The caller closes it. */
  store: Store;
  /** Fills in `${secret:NAME}` when the config file is read again (reload, hot reload). */
  secrets?: SecretSource;
  /** false (`--no-auth`): no keys; every request is the data dir's owner. Default true. */
  auth?: boolean;
}

export interface Daemon {
  readonly pool: UpstreamPool;
  readonly gateway: Gateway;
  /**
   * Starts every enabled server (without waiting for them) and, unless `http: false`, listens. On
   * an empty database it sets up the default project; with auth, `firstRun` is the key to print once.
   */
  start(options?: { http?: boolean }): Promise<{ url?: string; firstRun?: FirstRun }>;
  /** Who may do what (for stdio mode, and tests). */
  readonly access: Access;
  readonly metrics: Metrics;
  /** Servers deployed from git repositories (`/api/deployments`, `/hooks/git/{name}`). */
  readonly deployer: Deployer;
  /** Applies a new config: starts added servers, stops removed ones, restarts changed ones. */
  reload(config: Config): Promise<ConfigDiff>;
  /** Loads the config file again (with the command-line overrides) and applies it; an invalid file throws and changes nothing. */
  reloadFromFile(): Promise<ReloadReport>;
  /** Starts, stops or restarts one server; resolves when the action has settled. Unknown names throw UNKNOWN_SERVER. */
  control(name: string, action: ControlAction): Promise<void>;
  /** Waits until every server has finished starting (running or failed), bounded by their timeouts. */
  settled(): Promise<void>;
  /** Stops everything; `cause` (a signal, say) is what each server's stop is logged with. */
  close(cause?: string): Promise<void>;
}

/**
 * The composition root: wires config, upstreams, gateway and HTTP together. The only place that
 * knows all the rooms; the CLI calls it and nothing else does.
 */
export function createDaemon(options: DaemonOptions): Daemon {
  const { logger } = options;
  let config = options.config;
  // Before the gateway: it keeps its requestState signing key here.
  ensurePrivateDataDir(options.dataDir);
  const pool = new UpstreamPool();
  const readStats = createStatsReader();
  const metrics = createMetrics({ pool, sessionCounts: () => gateway.sessionCounts(), readStats, cacheSize: () => gateway.cache.size });
  // Calls, errors and latency per server over time: the metrics history and the dashboard's live figures.
  const calls = createCallStats({ periodsSec: [10, 300] });
  const accessControl = createAccessControl({ store: options.store, orch: config.orch, logger, auth: options.auth ?? true });
  const ownTools = new OwnTools(config.orch.namespaceSeparator);
  const fleet = createFleet({ pool, store: options.store, audit: accessControl.audit, logger, config: () => config });
  const order = createStartOrder(pool, () => config.mcpServers, logger);
  const gateway = new Gateway({
    ownTools,
    pool,
    logger,
    separator: config.orch.namespaceSeparator,
    version: VERSION,
    access: accessControl.access,
    observers: [metrics.observer, accessControl.observer, calls.observer],
    dataDir: options.dataDir,
    sessionIdleMs: config.orch.sessionIdleSec * 1000,
    limits: config.orch.limits,
    held: fleet.pins.held,
    cacheMaxBytes: config.orch.cache.maxMb * 1024 * 1024,
  });
  const batch = createBatch({
    gateway,
    ownTools,
    access: accessControl.access,
    repo: options.store.batch,
    settings: () => config.orch,
    secrets: () => options.secrets?.(config),
    logger,
  });
  const logs = createServerLogs(options.dataDir, logger);
  let served: Served | undefined;
  let web: Web | undefined;
  let watcher: ConfigWatcher | undefined;
  let shuttingDown = false;
  let closing: Promise<void> | undefined;

  /**
   * A server's upstream, as the config has it or as given (a deployment's next commit). A `parked`
   * one (disabled) and a given one (not in the pool yet) have no log file until they take their place.
   */
  const createUpstream = (name: string, parked = false, given?: ServerConfig): Upstream => {
    const server = given ?? config.mcpServers[name];
    if (!server) throw new Error(`no server named ${name}`);
    const upstream = new Upstream(name, server, {
      logger,
      spawnChild: options.spawn ?? spawnChild,
      clientInfo: { name: 'mcp-orch', version: VERSION },
      stopGraceMs: config.orch.stopGraceSec * 1000,
      supervision: supervisionFor(server, config.orch),
      onServerRequest: gateway.routeServerRequest,
      watch: (instance) => pool.watch(instance),
      dependencies: (signal) => order.waitForDependencies(name, signal),
    });
    if (!parked && !given) logs.attach(name, upstream);
    return upstream;
  };

  // All join the pool (in the config's order) before any starts, dependencies first, so that each finds what it waits for.
  const startServers = (names: readonly string[]): void => {
    for (const name of names) pool.add(createUpstream(name));
    for (const name of dependenciesFirst(names, config.mcpServers)) void pool.get(name)?.start();
  };

  // Disabled servers are pool members that never start, so that status lists them and their URL
  // says they are disabled. Each config brings its own; one started by hand is left alone.
  const parkDisabled = (): void => {
    const disabled = Object.keys(config.mcpServers).filter((name) => config.mcpServers[name]?.disabled === true);
    for (const upstream of pool.all()) {
      if (upstream.state === 'disabled' && !disabled.includes(upstream.name)) pool.remove(upstream.name);
    }
    for (const name of disabled) {
      if ((pool.get(name)?.state ?? 'disabled') !== 'disabled') continue;
      const upstream = createUpstream(name, true);
      pool.add(upstream);
      void upstream.lifecycle.stop('disabled in the config', 'disabled');
    }
  };

  const stopServer = async (name: string, cause: string): Promise<void> => {
    await pool.remove(name)?.close(cause);
    await logs.close(name);
  };

  const enabled = (c: Config): string[] =>
    Object.entries(c.mcpServers)
      .filter(([, s]) => s.disabled !== true)
      .map(([n]) => n);

  // One reload at a time: the file watcher and the admin API may ask at once.
  let reloading: Promise<unknown> = Promise.resolve();
  const serialized = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = reloading.then(fn, fn);
    reloading = run.catch(() => undefined);
    return run;
  };

  const reload = (next: Config): Promise<ConfigDiff> => serialized(() => apply(next));

  const configFile = options.configPath ?? options.watchPath;
  const reloadFromFile = (): Promise<ReloadReport> =>
    serialized(async () => {
      if (!configFile) {
        throw new OrchError('BAD_REQUEST', 'this daemon was started without a config file to reload', {
          hint: 'start it with `mcp-orch serve --config PATH`',
        });
      }
      const loaded = loadConfig(configFile, process.env, { secrets: options.secrets });
      for (const warning of loaded.warnings) logger.warn({ config: configFile }, warning);
      const diff = await apply({ ...loaded.config, orch: { ...loaded.config.orch, ...options.overrides } });
      const { added, removed, changed, unchanged, updated, restartRequired } = diff;
      return { file: configFile, added, removed, changed, unchanged, updated, restartRequired };
    });

  const control = async (name: string, action: ControlAction): Promise<void> => {
    const upstream = pool.get(name);
    if (!upstream) throw unknownServer(name, pool.names());
    logger.info({ server: name, action }, `${action} requested`);
    if (action === 'start') await order.startDependencies(name);
    if (action === 'start') await upstream.lifecycle.start('start requested');
    else if (action === 'stop') await upstream.stop('stop requested');
    else await upstream.lifecycle.restart('restart requested');
  };

  const controlMany = (names: readonly string[], action: ControlAction): Promise<void> => order.controlMany(names, action, control);

  const apply = async (next: Config): Promise<ConfigDiff> => {
    const diff = diffConfigs(config, next);
    const previous = config;
    config = next;
    // Dependents stop first, by the dependencies they ran with.
    const why = (name: string): string =>
      diff.changed.includes(name) ? 'changed in the config' : next.mcpServers[name] ? 'disabled in the config' : 'removed from the config';
    await order.stopInOrder([...diff.removed, ...diff.changed], (name) => stopServer(name, why(name)), previous.mcpServers);
    startServers([...diff.added, ...diff.changed]);
    parkDisabled();
    // Filters, overrides, groups and dependencies apply to running servers as they are.
    for (const upstream of pool.all()) {
      const entry = next.mcpServers[upstream.name];
      if (entry && entry !== upstream.config) upstream.reconfigure(entry);
    }
    fleet.apply(next.orch);
    if (diff.restartRequired.length) {
      logger.warn({ settings: diff.restartRequired }, 'these settings take effect when the daemon restarts');
    }
    logger.info({ added: diff.added, removed: diff.removed, changed: diff.changed, updated: diff.updated }, 'config applied');
    return diff;
  };

  const deployHost = createDeployHost({
    configFile,
    config: () => config,
    setServer(name, server) {
      const { [name]: _removed, ...rest } = config.mcpServers;
      // A replaced server keeps its place in the config's order.
      config = { ...config, mcpServers: server ? { ...config.mcpServers, [name]: server } : rest };
    },
    pool,
    secrets: options.secrets,
    createUpstream: (name, server) => createUpstream(name, false, server),
    exclusive: serialized,
    isShuttingDown: () => shuttingDown,
    logs,
    stopServer,
  });
  const deployer = createDeployments({
    dataDir: options.dataDir,
    store: options.store,
    host: deployHost.host,
    audit: (event) => accessControl.audit.record(event),
    logger,
  });

  return {
    pool,
    gateway,
    metrics,
    deployer,
    access: accessControl.access,

    async start(startOptions = {}) {
      batch.start();
      const startAll = (): void => {
        startServers(enabled(config));
        parkDisabled();
      };
      if (startOptions.http === false) {
        startAll();
        accessControl.setUp('');
        return {};
      }
      // The REST API, the dashboard and the metrics history's timer.
      const adminToken = writeAdminToken(options.dataDir);
      web = wireWeb({
        store: options.store,
        dataDir: options.dataDir,
        pool,
        readStats,
        calls,
        gateway,
        accessControl,
        control: { control, controlMany, reloadFromFile },
        token: adminToken,
        fleet: fleet.api,
        pinStatus: fleet.pins.status,
        deployments: deployer,
        batch: { service: batch },
        exclusive: serialized,
        version: VERSION,
        configFile,
        watching: options.watchPath !== undefined,
        secrets: options.secrets,
        logger,
      });
      const app = createApp({
        gateway,
        identify: accessControl.identify,
        defaultProject: DEFAULT_PROJECT,
        pool,
        version: VERSION,
        hosts: hostAllowlist(config.orch),
        allowedOrigins: config.orch.allowedOrigins,
        maxBodyBytes: config.orch.maxBodyBytes,
        isShuttingDown: () => shuttingDown,
        rest: web.rest,
        ui: web.ui,
        metrics,
        issueTicket: accessControl.issueTicket,
        deployments: deployer,
      });
      const webSockets = createWebSocketServing(app, { maxPayloadBytes: config.orch.maxBodyBytes });
      served = await serve(app, config.orch.host, config.orch.port, SERVE_TIMEOUTS, webSockets);
      // Only now, with the port bound: a port in use is reported before any child is spawned.
      startAll();
      // The CLI runs on this machine: it reaches a wildcard address through loopback.
      const localUrl = served.url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
      const firstRun = accessControl.setUp(localUrl);
      fleet.listening(localUrl);
      const info = { pid: process.pid, url: localUrl, startedAt: new Date().toISOString(), version: VERSION, config: configFile };
      writeDaemonInfo(options.dataDir, info);
      try {
        registerDaemon(options.dataDir, info);
      } catch (error) {
        logger.warn({ err: (error as Error).message }, 'not registered as a running daemon: the CLI finds it with --data-dir only');
      }
      if (options.watchPath) {
        const file = options.watchPath;
        watcher = watchConfig(file, {
          logger,
          secrets: options.secrets,
          onChange: ({ config: next }) => void reload({ ...next, orch: { ...next.orch, ...options.overrides } }),
          onError: (error) => logger.error({ config: file }, `config not applied, still running the last good one: ${error.describe()}`),
        });
        // Ready means watching: an edit made once "listening" is logged must not go unseen.
        await watcher.ready;
      }
      logger.info({ url: served.url, servers: pool.names() }, 'listening');
      return { url: served.url, ...(firstRun ? { firstRun } : {}) };
    },

    reload,
    reloadFromFile,
    control,

    async settled() {
      await Promise.all(pool.all().map((upstream) => upstream.settled()));
    },

    close(cause = 'daemon stopping') {
      closing ??= (async () => {
        // The listener stays up until the children are gone, so /health can say 503 meanwhile
        // and new MCP requests get a clear answer instead of a refused connection.
        shuttingDown = true;
        await watcher?.close();
        await batch.close();
        // Deployments in progress end: their steps are killed, their new commits stopped.
        await deployHost.closeCandidates(cause);
        await deployer.close();
        // Servers first, sessions after: a call in flight is answered with an error naming its
        // server while its client is still connected, instead of losing its stream mid-call.
        const started = pool.all().filter((upstream) => upstream.state !== 'disabled');
        await order.stopInOrder(
          started.map((upstream) => upstream.name),
          async (name) => pool.get(name)?.close(cause),
        );
        await gateway.close();
        fleet.close();
        await served?.close();
        await logs.closeAll();
        await web?.close();
        await accessControl.close();
        if (served) {
          removeDaemonInfo(options.dataDir);
          unregisterDaemon(options.dataDir);
        }
        logger.info('stopped');
      })();
      return closing;
    },
  };
}
