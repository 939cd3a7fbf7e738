import type { AuditEvent } from '../audit/events.js';
import type { AlertEvent } from '../config/schema.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream, UpstreamState } from '../upstream/upstream.js';
import type { Alert } from './payload.js';

/**
 * Where alerts come from: the servers' lifecycle transitions (crashed, unhealthy, restarting) and
 * crossed CPU or memory limits, as the pool reports them, and failed authentications and changed
 * tool definitions, as the audit log records them. Listening only: nothing here waits.
 */

const STATE_EVENTS: Partial<Record<UpstreamState, AlertEvent>> = {
  crashed: 'crashed',
  unhealthy: 'unhealthy',
  restarting: 'restarted',
};

/** Causes carry a server's last stderr lines: enough to act on, not a whole log. */
const MAX_CAUSE = 500;
const clip = (text: string): string => (text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text);

export interface AlertSources {
  pool: UpstreamPool;
  /** The audit log's feed of recorded events. */
  audit: { onRecord(listener: (event: AuditEvent) => void): () => void };
  send(alert: Alert): void;
  clock?: () => number;
}

/** Starts turning fleet events into alerts; returns the way to stop. */
export function watchForAlerts(sources: AlertSources): () => void {
  const { pool, send } = sources;
  const clock = sources.clock ?? Date.now;

  const onState = (upstream: Upstream, state: UpstreamState): void => {
    const event = STATE_EVENTS[state];
    // A session's own instance (isolation: "session") comes and goes with its client.
    if (!event || upstream.owner !== undefined) return;
    const transition = upstream.lifecycle.history.at(-1);
    const cause = clip(transition?.cause ?? '');
    const verb = { crashed: 'crashed', unhealthy: 'is unhealthy', restarted: 'is restarting' }[event as 'crashed'];
    send({
      event,
      server: upstream.name,
      summary: `server "${upstream.name}" ${verb}${cause ? `: ${cause}` : ''}`,
      detail: { state, from: transition?.from, cause, restarts: upstream.lifecycle.restarts },
      at: clock(),
    });
  };

  const onThreshold = (upstream: Upstream, reason: string): void => {
    if (upstream.owner !== undefined) return;
    const stats = upstream.lifecycle.stats;
    send({
      event: 'threshold',
      server: upstream.name,
      summary: `server "${upstream.name}": ${reason} (onThreshold: ${upstream.supervision.onThreshold})`,
      detail: { reason, cpuPercent: stats?.cpuPercent, memoryBytes: stats?.memoryBytes, onThreshold: upstream.supervision.onThreshold },
      at: clock(),
    });
  };

  const onAudit = (event: AuditEvent): void => {
    if (event.type === 'auth.failed') {
      const who = event.keyPrefix ? `key ${event.keyPrefix}` : 'no key';
      send({
        event: 'auth-failures',
        summary: `failed authentication (${event.reason}, ${who}) from ${event.address ?? 'an unknown address'}${event.project ? ` to project "${event.project}"` : ''}`,
        detail: {
          reason: event.reason,
          keyPrefix: event.keyPrefix,
          address: event.address,
          project: event.project,
          transport: event.transport,
        },
        at: clock(),
      });
    } else if (event.type === 'tool.changed' || event.type === 'tool.held') {
      const held = event.type === 'tool.held';
      send({
        event: 'tool-changed',
        server: event.server,
        summary:
          `tool "${event.tool}" of server "${event.server}" changed its ${(event.fields ?? ['definition']).join(', ')}` +
          (held ? '; withheld from clients until approved' : '') +
          ` (mcp-orch tools diff ${event.server})`,
        detail: { tool: event.tool, held, hash: event.hash, previous: event.previous, fields: event.fields },
        at: clock(),
      });
    }
  };

  pool.on('state', onState);
  pool.on('threshold', onThreshold);
  const stopAudit = sources.audit.onRecord(onAudit);
  return () => {
    pool.off('state', onState);
    pool.off('threshold', onThreshold);
    stopAudit();
  };
}
