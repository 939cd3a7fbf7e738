import { createLoginLimiter, createSessionStore } from '../auth/sessions.js';
import type { SecretSource } from '../config/secrets.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AdminControl, ApiDeps, Deployments, FleetApiDeps } from '../http/api/deps.js';
import type { Logger } from '../log.js';
import type { CallStats } from '../metrics/callStats.js';
import type { StatsReader } from '../metrics/liveStats.js';
import type { Store } from '../store/open.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { AccessControl } from './accessControl.js';
import { createAdminStore } from './adminStore.js';
import { createConfigEditor } from './configEditor.js';
import { startMetricsSampler, type MetricsSampler } from './metricsSampler.js';

export interface WebWiringOptions {
  store: Store;
  dataDir: string;
  pool: UpstreamPool;
  readStats: StatsReader;
  calls: CallStats;
  gateway: Gateway;
  accessControl: AccessControl;
  control: AdminControl;
  token: string;
  version: string;
  configFile: string | undefined;
  watching: boolean;
  secrets: SecretSource | undefined;
  logger: Logger;
  /** The finest metrics resolution in milliseconds (tests shorten it). */
  metricsIntervalMs?: number;
  fleet: FleetApiDeps;
  pinStatus: ApiDeps['pinStatus'];
  deployments: Deployments;
  /** Runs `fn` when no other change of the config (a reload, a deployment) is under way. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export interface Web {
  readonly api: ApiDeps;
  readonly sampler: MetricsSampler;
  close(): Promise<void>;
}

/** The REST API's and the dashboard's view of the daemon, and the metrics history's timer. */
export function wireWeb(options: WebWiringOptions): Web {
  const { store, pool, accessControl } = options;
  const sampler = startMetricsSampler({
    pool,
    readStats: options.readStats,
    calls: options.calls,
    metrics: store.metrics,
    logger: options.logger,
    ...(options.metricsIntervalMs ? { intervalMs: options.metricsIntervalMs } : {}),
  });
  const admin = createAdminStore({
    store,
    dataDir: options.dataDir,
    servers: () => pool.names(),
    catalogs: () =>
      Object.fromEntries(
        pool.all().map((u) => [
          u.name,
          {
            tools: u.catalog.tools.map((t) => t.name),
            prompts: u.catalog.prompts.map((p) => p.name),
            resources: u.catalog.resources.map((r) => r.uri),
          },
        ]),
      ),
  });
  const api: ApiDeps = {
    version: options.version,
    startedAt: Date.now(),
    pool,
    readStats: options.readStats,
    control: options.control,
    gateway: options.gateway,
    access: accessControl.access,
    calls: options.calls,
    auth: {
      token: options.token,
      authenticate: (authorization, address) => accessControl.authenticate(authorization, address),
      sessions: createSessionStore(),
      limitLogin: createLoginLimiter(),
    },
    store: admin,
    config: createConfigEditor({
      file: options.configFile,
      watching: options.watching,
      secrets: options.secrets,
      storeSecret: (name, value) => admin.secrets.set(name, value),
      reloadFromFile: () => options.control.reloadFromFile(),
      exclusive: options.exclusive,
    }),
    audit: accessControl.audit,
    fleet: options.fleet,
    pinStatus: options.pinStatus,
    deployments: options.deployments,
  };
  return {
    api,
    sampler,
    close: () => sampler.close(),
  };
}
