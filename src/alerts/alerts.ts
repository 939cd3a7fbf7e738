import type { AlertEvent, AlertTarget } from '../config/schema.js';
import type { Logger } from '../log.js';
import { nextDelay } from '../supervisor/backoff.js';
import { alertBody, redactedUrl, type Alert, type AlertOrigin } from './payload.js';

/**
 * Alerts to webhooks (`orch.alerts`): `send()` only queues, so supervision never waits on a
 * receiver. Each receiver gets the events it asked for, at most `maxPerMinute` of each kind (a token
 * bucket per kind; what is held back is counted and told in one summary once the kind may send
 * again), one POST at a time in order, each retried with doubling delays up to `retry.attempts`.
 * What could not be delivered is logged, with the receiver's origin only.
 */

export interface AlertTargetStatus {
  /** The receiver's origin; its path is not shown (a webhook's path is its secret). */
  url: string;
  format: AlertTarget['format'];
  events: AlertEvent[];
  sent: number;
  failed: number;
  /** Alerts held back by the rate limit (and told in summaries). */
  suppressed: number;
  /** Alerts waiting to be delivered now. */
  queued: number;
  lastSentAt: string | null;
  lastError: string | null;
}

export interface Alerts {
  send(alert: Alert): void;
  /** New receivers (a reload); one whose settings did not change keeps its counters and queue. */
  setTargets(targets: readonly AlertTarget[]): void;
  status(): AlertTargetStatus[];
  /** Stops every delivery and timer. Idempotent. */
  close(): void;
}

export interface AlertsOptions {
  targets: readonly AlertTarget[];
  /** Read at each alert: the daemon's URL is known once it listens. */
  origin: () => AlertOrigin;
  logger: Logger;
  fetch?: typeof fetch;
  clock?: () => number;
  random?: () => number;
  /** The window of `maxPerMinute`: a minute (tests shorten it). */
  windowMs?: number;
}

/** Alerts waiting per receiver at most; past it the oldest is dropped (a receiver down for long). */
const MAX_QUEUED = 100;

interface Bucket {
  tokens: number;
  at: number;
  held: number;
  servers: Set<string>;
  timer: NodeJS.Timeout | undefined;
}

interface Receiver {
  key: string;
  target: AlertTarget;
  buckets: Map<AlertEvent, Bucket>;
  queue: Alert[];
  delivering: boolean;
  abort: AbortController;
  stats: Omit<AlertTargetStatus, 'url' | 'format' | 'events' | 'queued'>;
}

export function createAlerts(options: AlertsOptions): Alerts {
  const log = options.logger.child({ component: 'alerts' });
  const post = options.fetch ?? fetch;
  const clock = options.clock ?? Date.now;
  const windowMs = options.windowMs ?? 60_000;
  let closed = false;

  const receiverOf = (target: AlertTarget): Receiver => ({
    key: JSON.stringify(target),
    target,
    buckets: new Map(),
    queue: [],
    delivering: false,
    abort: new AbortController(),
    stats: { sent: 0, failed: 0, suppressed: 0, lastSentAt: null, lastError: null },
  });
  let receivers = options.targets.map(receiverOf);

  const stop = (receiver: Receiver): void => {
    receiver.abort.abort();
    for (const bucket of receiver.buckets.values()) clearTimeout(bucket.timer);
  };

  /** Takes a token of the kind's bucket, refilled at maxPerMinute a minute; false when there is none. */
  const take = (receiver: Receiver, bucket: Bucket): boolean => {
    const rate = receiver.target.maxPerMinute / windowMs;
    const now = clock();
    bucket.tokens = Math.min(receiver.target.maxPerMinute, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  /** Once the kind may send again, one alert sums up what was held back. */
  const scheduleSummary = (receiver: Receiver, event: AlertEvent, bucket: Bucket): void => {
    if (bucket.timer) return;
    const waitMs = Math.ceil((1 - bucket.tokens) / (receiver.target.maxPerMinute / windowMs));
    bucket.timer = setTimeout(() => {
      bucket.timer = undefined;
      if (bucket.held === 0 || closed) return;
      if (!take(receiver, bucket)) return scheduleSummary(receiver, event, bucket);
      const servers = [...bucket.servers].sort();
      enqueue(receiver, {
        event,
        summary: `${bucket.held} more "${event}" alert(s) were held back by the rate limit of ${receiver.target.maxPerMinute} a minute${servers.length ? ` (servers: ${servers.join(', ')})` : ''}`,
        detail: { suppressed: bucket.held, servers },
        at: clock(),
      });
      bucket.held = 0;
      bucket.servers.clear();
    }, waitMs);
    bucket.timer.unref();
  };

  const enqueue = (receiver: Receiver, alert: Alert): void => {
    receiver.queue.push(alert);
    if (receiver.queue.length > MAX_QUEUED) {
      receiver.queue.shift();
      receiver.stats.failed++;
      log.warn({ receiver: redactedUrl(receiver.target.url) }, `alert dropped: more than ${MAX_QUEUED} waiting for this receiver`);
    }
    void drain(receiver);
  };

  const drain = async (receiver: Receiver): Promise<void> => {
    if (receiver.delivering) return;
    receiver.delivering = true;
    try {
      for (let alert = receiver.queue.shift(); alert && !receiver.abort.signal.aborted; alert = receiver.queue.shift()) {
        await deliver(receiver, alert);
      }
    } finally {
      receiver.delivering = false;
    }
  };

  const deliver = async (receiver: Receiver, alert: Alert): Promise<void> => {
    const { target } = receiver;
    const body = JSON.stringify(alertBody(alert, target.format, options.origin()));
    let error = '';
    for (let attempt = 0; attempt < target.retry.attempts; attempt++) {
      if (attempt > 0) {
        const delay = nextDelay(attempt - 1, {
          initialMs: target.retry.initialMs,
          maxMs: Math.max(target.retry.initialMs, target.retry.maxMs),
          ...(options.random ? { random: options.random } : {}),
        });
        if (!(await pause(delay, receiver.abort.signal))) return;
      }
      try {
        const response = await post(target.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'mcp-orch', ...target.headers },
          body,
          signal: AbortSignal.any([receiver.abort.signal, AbortSignal.timeout(target.timeoutSec * 1000)]),
          redirect: 'error',
        });
        await response.body?.cancel();
        if (response.ok) {
          receiver.stats.sent++;
          receiver.stats.lastSentAt = new Date(clock()).toISOString();
          return;
        }
        error = `HTTP ${response.status}`;
      } catch (caught) {
        if (receiver.abort.signal.aborted) return;
        error = describe(caught);
      }
    }
    receiver.stats.failed++;
    receiver.stats.lastError = `${alert.event}: ${error}`;
    log.warn(
      { receiver: redactedUrl(target.url), event: alert.event, attempts: target.retry.attempts, err: error },
      `alert not delivered after ${target.retry.attempts} attempt(s): ${error}`,
    );
  };

  return {
    send(alert) {
      if (closed) return;
      for (const receiver of receivers) {
        if (!receiver.target.events.includes(alert.event)) continue;
        let bucket = receiver.buckets.get(alert.event);
        if (!bucket) {
          bucket = { tokens: receiver.target.maxPerMinute, at: clock(), held: 0, servers: new Set(), timer: undefined };
          receiver.buckets.set(alert.event, bucket);
        }
        if (take(receiver, bucket)) {
          enqueue(receiver, alert);
          continue;
        }
        bucket.held++;
        receiver.stats.suppressed++;
        if (alert.server) bucket.servers.add(alert.server);
        scheduleSummary(receiver, alert.event, bucket);
      }
    },
    setTargets(targets) {
      const previous = new Map(receivers.map((receiver) => [receiver.key, receiver]));
      receivers = targets.map((target) => {
        const key = JSON.stringify(target);
        const kept = previous.get(key);
        previous.delete(key);
        return kept ?? receiverOf(target);
      });
      for (const gone of previous.values()) stop(gone);
    },
    status: () =>
      receivers.map((receiver) => ({
        url: redactedUrl(receiver.target.url),
        format: receiver.target.format,
        events: [...receiver.target.events],
        ...receiver.stats,
        queued: receiver.queue.length,
      })),
    close() {
      if (closed) return;
      closed = true;
      for (const receiver of receivers) stop(receiver);
    },
  };
}

/** Waits `ms` unless `signal` aborts first; true when the time passed. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return error.name === 'TimeoutError' ? 'timed out' : `${error.message}${cause}`;
}
