import os from 'node:os';
import { createAlerts, type Alerts } from '../alerts/alerts.js';
import { watchForAlerts } from '../alerts/sources.js';
import type { AuditLog } from '../audit/writer.js';
import { groupsOf } from '../config/fleet.js';
import type { Config, OrchSettings } from '../config/schema.js';
import { unknownServer } from '../gateway/view.js';
import type { FleetApiDeps } from '../http/fleetApi.js';
import type { Logger } from '../log.js';
import { createPinGuard, type PinGuard } from '../pinning/guard.js';
import { approvePins, reviewPins } from '../pinning/review.js';
import type { Store } from '../store/open.js';
import type { UpstreamPool } from '../upstream/pool.js';

/**
 * The daemon's watch over its fleet: definition pinning (the guard that withholds changed tools),
 * alerts to webhooks, and the admin API's operations on them and on each project's rules. Settings
 * follow reloads.
 */
export interface Fleet {
  readonly pins: PinGuard;
  readonly alerts: Alerts;
  readonly api: FleetApiDeps;
  /** The daemon's URL, for alerts to say where they come from. */
  listening(url: string): void;
  /** A reloaded config's `orch.pinning` and `orch.alerts`. */
  apply(orch: OrchSettings): void;
  close(): void;
}

export interface FleetOptions {
  pool: UpstreamPool;
  store: Store;
  audit: AuditLog;
  logger: Logger;
  /** The config in force. */
  config: () => Config;
}

export function createFleet(options: FleetOptions): Fleet {
  const { pool, store, audit, logger } = options;
  const orch = options.config().orch;
  const pins = createPinGuard({ pool, pins: store.pins, audit, logger, mode: orch.pinning });
  // An approval (this daemon's API, or the CLI in another process) may bring held tools back.
  const stopWatchingStore = store.onChange(() => pins.refresh());
  let url: string | undefined;
  const alerts = createAlerts({ targets: orch.alerts, origin: () => ({ host: os.hostname(), url }), logger });
  const stopAlerts = watchForAlerts({ pool, audit, send: alerts.send });

  const api: FleetApiDeps = {
    overview() {
      const groups: Record<string, string[]> = {};
      for (const [name, server] of Object.entries(options.config().mcpServers)) {
        for (const group of groupsOf(server)) (groups[group] ??= []).push(name);
      }
      return { pinning: { mode: pins.mode }, alerts: alerts.status(), groups };
    },
    pins: (server, changedOnly) => reviewPins(store.pins, server, { changedOnly }),
    approve: (server, tool) => approvePins(store.pins, audit, server, tool, { via: 'api' }),
    rules: (project) => store.projects.require(project).rules,
    setRules(project, server, rules) {
      const { mcpServers } = options.config();
      if (!mcpServers[server]) throw unknownServer(server, Object.keys(mcpServers));
      const updated = store.projects.setRules(project, server, rules);
      audit.record({
        type: 'manage',
        via: 'api',
        action: rules ? 'projects.rules.set' : 'projects.rules.clear',
        project,
        target: server,
        ...(rules ? { detail: { rules } } : {}),
      });
      return updated.rules;
    },
  };

  return {
    pins,
    alerts,
    api,
    listening(at) {
      url = at;
    },
    apply(next) {
      pins.setMode(next.pinning);
      alerts.setTargets(next.alerts);
    },
    close() {
      stopAlerts();
      stopWatchingStore();
      pins.close();
      alerts.close();
    },
  };
}
