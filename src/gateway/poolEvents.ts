import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import type { CatalogKind } from '../upstream/catalog.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream, UpstreamState } from '../upstream/upstream.js';
import { LIST_CHANGED } from './constants.js';
import type { LogLevelRegistry } from './logLevels.js';
import type { ServerRequestRouter } from './serverRequests.js';
import type { SessionRegistry } from './sessionRegistry.js';
import type { SubscriptionRegistry } from './subscriptions.js';

export interface PoolEventsDeps {
  pool: UpstreamPool;
  sessions: SessionRegistry;
  subscriptions: SubscriptionRegistry;
  logLevels: LogLevelRegistry;
  router: ServerRequestRouter;
  log: Logger;
}

/**
 * What the servers say, to the sessions it is for: list changes to the sessions that see a server
 * (every unified one when a server comes or goes), renewed subscriptions and log levels after a
 * restart, and each notification where it belongs. Returns the unwiring.
 */
export function routePoolEvents(deps: PoolEventsDeps): () => void {
  const { pool, sessions, subscriptions, logLevels, router, log } = deps;
  const onCatalog = (upstream: Upstream, kind: CatalogKind): void => {
    for (const session of sessions.seeing(upstream)) session.notify({ method: LIST_CHANGED[kind] });
  };
  // A server appearing or disappearing changes what the unified endpoint lists; a restarted one
  // needs the subscriptions and log levels its sessions hold.
  const visible = new Map<string, boolean>();
  const onState = (upstream: Upstream, state: UpstreamState): void => {
    if (state === 'running') {
      void subscriptions.resubscribe(upstream);
      void logLevels.restarted(upstream);
    }
    if (upstream.owner !== undefined) return; // a session's own instance changes no list
    const now = upstream.available;
    if ((visible.get(upstream.name) ?? false) === now) return;
    visible.set(upstream.name, now);
    for (const session of sessions.all()) {
      if (!session.view.followsMembership) continue;
      for (const method of new Set(Object.values(LIST_CHANGED))) session.notify({ method });
    }
  };

  /**
   * Log messages go to the sessions that set a log level on a shared server (or to the session
   * owning its instance), resource updates to their subscribers, a URL elicitation's completion and
   * a task's status to the client that started them, anything else from a session's own instance to
   * that session. A shared server cannot say which client anything else is for: it goes nowhere.
   */
  const onNotification = (upstream: Upstream, notification: Notification): void => {
    const params = (notification.params ?? {}) as Record<string, unknown>;
    const owner = sessions.owner(upstream);
    switch (notification.method) {
      case 'notifications/message':
        for (const session of sessions.seeing(upstream)) session.logMessage(upstream, params);
        return;
      case 'notifications/resources/updated':
        subscriptions.notify(upstream, String(params.uri));
        return;
      case 'notifications/elicitation/complete':
        if (!router.deliver(upstream, `elicitation:${String(params.elicitationId)}`, notification)) owner?.notify(notification);
        return;
      case 'notifications/tasks/status':
        if (!router.deliver(upstream, `task:${String(params.taskId)}`, notification)) owner?.notify(notification);
        return;
      case 'notifications/subscriptions/acknowledged': // of the gateway's own listen stream to a 2026 server
        return;
      default:
        if (notification.method.endsWith('/list_changed')) return; // announced after the catalog refresh
        if (owner && !owner.view.followsMembership) {
          owner.notify(notification);
          return;
        }
        // Stryker disable next-line ObjectLiteral,StringLiteral: a debug log's fields and wording; nothing depends on them
        log.debug({ server: upstream.name, method: notification.method }, 'notification of a shared server not forwarded');
    }
  };

  pool.on('catalog', onCatalog);
  pool.on('state', onState);
  pool.on('notification', onNotification);
  return () => {
    pool.off('catalog', onCatalog);
    pool.off('state', onState);
    pool.off('notification', onNotification);
  };
}
