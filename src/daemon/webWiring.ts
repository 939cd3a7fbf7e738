import { createLoginLimiter, createSessionStore } from '../auth/sessions.js';
import type { SecretSource } from '../config/secrets.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AdminControl, ApiDeps, BatchApiDeps, Deployments, FleetApiDeps } from '../http/api/deps.js';
import { createRestApi } from '../http/api/restApi.js';
import type { SubApp } from '../http/app.js';
import { createDashboard } from '../http/ui/dashboard.js';
import { createLiveHub } from '../http/ui/live.js';
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
  batch: BatchApiDeps;
  /** Runs `fn` when no other change of the config (a reload, a deployment) is under way. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
}

export interface Web {
  readonly api: ApiDeps;
  /** The REST API's app and the dashboard's, for createApp. */
  readonly rest: SubApp;
  readonly ui: SubApp;
  readonly sampler: MetricsSampler;
  close(): Promise<void>;
}

/** The REST API and the dashboard with their view of the daemon, and the metrics history's timer. */
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
      running: (name) => pool.get(name),
      applied: (name, change, before) => poolApplied(pool, name, change, before),
    }),
    audit: accessControl.audit,
    fleet: options.fleet,
    pinStatus: options.pinStatus,
    deployments: options.deployments,
    batch: options.batch,
  };
  const rest = createRestApi(api);
  const live = createLiveHub({ api, rest, sampler });
  const ui = createDashboard({ api, rest, live });
  return {
    api,
    rest,
    ui,
    sampler,
    async close() {
      live.close();
      await sampler.close();
    },
  };
}

/** How long an edit's answer waits for the file watcher to apply it. */
const APPLY_WAIT_MS = 10_000;

/** Resolves true once the pool shows the change to `name`: a server added, replaced (another object) or removed. */
function poolApplied(pool: UpstreamPool, name: string, change: 'added' | 'changed' | 'removed', before: unknown): Promise<boolean> {
  const done = (): boolean => {
    const now = pool.get(name);
    return change === 'removed' ? now === undefined : now !== undefined && now !== before;
  };
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const finish = (applied: boolean): void => {
      clearTimeout(timer);
      pool.off('changed', check);
      resolve(applied);
    };
    const check = (): void => {
      if (done()) finish(true);
    };
    const timer = setTimeout(() => finish(false), APPLY_WAIT_MS);
    pool.on('changed', check);
  });
}
