import type { AlertEvent, AlertTarget } from '../config/schema.js';

/** One thing worth telling an operator about, before it is shaped for a receiver. */
export interface Alert {
  event: AlertEvent;
  /** The server it is about, if one. */
  server?: string | undefined;
  /** One line for people. */
  summary: string;
  /** Machine-readable particulars (state, cause, counts); never a secret. */
  detail?: Record<string, unknown> | undefined;
  /** Milliseconds since the epoch. */
  at: number;
}

/** Where the alert comes from: the machine and the daemon's address, so that several daemons can share a receiver. */
export interface AlertOrigin {
  host: string;
  url?: string | undefined;
}

const EMOJI: Record<AlertEvent, string> = {
  crashed: ':red_circle:',
  unhealthy: ':warning:',
  restarted: ':arrows_counterclockwise:',
  threshold: ':chart_with_upwards_trend:',
  'auth-failures': ':lock:',
  'tool-changed': ':pushpin:',
};

/** The body POSTed for `alert` in the receiver's format. */
export function alertBody(alert: Alert, format: AlertTarget['format'], origin: AlertOrigin): unknown {
  if (format === 'slack') {
    // Incoming webhooks take {"text": ...} with their own light markup; `<`, `>` and `&` must be escaped.
    const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return { text: `${EMOJI[alert.event]} *mcp-orch* on ${escape(origin.host)}: ${escape(alert.summary)}` };
  }
  return {
    source: 'mcp-orch',
    event: alert.event,
    ...(alert.server === undefined ? {} : { server: alert.server }),
    summary: alert.summary,
    at: new Date(alert.at).toISOString(),
    host: origin.host,
    ...(origin.url ? { daemon: origin.url } : {}),
    ...(alert.detail ? { detail: alert.detail } : {}),
  };
}

/** A receiver's URL as logs and status show it: its origin only, since webhook paths are secrets (Slack's are). */
export function redactedUrl(url: string): string {
  try {
    return `${new URL(url).origin}/…`;
  } catch {
    return '(invalid URL)';
  }
}
