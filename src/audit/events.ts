import type { AuditRepo, AuditRow } from '../store/audit.js';
import { redactArguments } from './redact.js';

/**
 * What the audit log records, as a typed union: the gateway, the HTTP layer and the CLI build
 * these; `toAuditRow` turns one into a row of the store. Keys appear only by their visible prefix.
 */

export type AuditOutcome = 'ok' | 'error' | 'denied' | 'rate-limited';
export const AUDIT_OUTCOMES: readonly AuditOutcome[] = ['ok', 'error', 'denied', 'rate-limited'];

/** Who: the principal's project, member and key prefix (the owner of the data dir has no key). */
export interface AuditActor {
  project?: string | undefined;
  member?: string | undefined;
  keyPrefix?: string | undefined;
}

/** How the client came in. */
export interface AuditConnection {
  /** `rest`: a tool called over the REST API; `batch`: a step of a batch task, run for the key that submitted it. */
  transport: 'streamable-http' | 'sse' | 'stdio' | 'websocket' | 'rest' | 'batch';
  /** The MCP revision; null for a REST call or a batch step. */
  era: '2025-11-25' | '2026-07-28' | null;
  /** What the client said it is. */
  client?: { name: string; version: string } | undefined;
  address?: string | undefined;
  /** The 2025-11-25 session id, or the id of a 2026-07-28 request. */
  session?: string | undefined;
}

export interface SessionEvent extends AuditActor, AuditConnection {
  type: 'session.opened' | 'session.closed';
  /** The endpoint: a server's name, or "unified". */
  endpoint?: string | undefined;
}

export interface RequestEvent extends AuditActor, AuditConnection {
  type: 'tools/call' | 'prompts/get' | 'resources/read';
  server: string;
  /** The tool or prompt name, or the resource URI, as the server knows it. */
  name: string;
  outcome: AuditOutcome;
  durationMs: number;
  /** Why it failed or was refused: a message for people, never a credential. */
  error?: string | undefined;
  /** Kept only with `orch.audit.arguments: true`, and then redacted. */
  arguments?: unknown;
  /** The batch task the call was a step of. */
  task?: string | undefined;
  /** Answered from the response cache, without reaching the server. */
  cached?: boolean | undefined;
}

export interface AuthFailedEvent {
  type: 'auth.failed';
  /** missing, malformed, unknown, expired, revoked. */
  reason: string;
  keyPrefix?: string | undefined;
  address?: string | undefined;
  transport?: AuditConnection['transport'] | undefined;
  /** The project the request's path named. */
  project?: string | undefined;
}

export interface ManageEvent extends AuditActor {
  type: 'manage';
  /** What was done, such as `keys.create`, `members.set-role`, `projects.servers.disable`. */
  action: string;
  /** `cli` (with the operating system user) or `api`. */
  via: 'cli' | 'api';
  /** What it was done to: a member, a key prefix, a server, a secret's name. */
  target?: string | undefined;
  user?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

/**
 * Definition pinning: a tool whose definition differs from the approved one (`tool.changed`; with
 * `orch.pinning: "enforce"`, `tool.held`: withheld from clients for it), was approved
 * (`tool.approved`), or is offered as approved again (`tool.reverted`).
 */
export interface ToolPinEvent {
  type: 'tool.changed' | 'tool.held' | 'tool.approved' | 'tool.reverted';
  server: string;
  tool: string;
  /** The hash of the definition offered now (changed, held) or approved (approved). */
  hash?: string | undefined;
  /** The hash approved before. */
  previous?: string | undefined;
  /** Which parts of the definition differ: description, inputSchema, ... */
  fields?: string[] | undefined;
  /** Who approved: `cli` (with the operating-system user) or `api`. */
  via?: 'cli' | 'api' | undefined;
  user?: string | undefined;
}

/** A delivery to `POST /hooks/git/{name}`: refused (unsigned, mis-signed, unknown), ignored or acted on. */
export interface WebhookEvent {
  type: 'webhook';
  /** The deployment the hook's path names. */
  target: string;
  outcome: 'ok' | 'denied';
  /** Why refused, or what was done. */
  reason: string;
  /** The sender's event type (`X-GitHub-Event`: push, ping). */
  event?: string | undefined;
  address?: string | undefined;
}

export type AuditEvent = SessionEvent | RequestEvent | AuthFailedEvent | ManageEvent | ToolPinEvent | WebhookEvent;

const MAX_TEXT = 1000;
const clipText = (text: string | undefined): string | undefined => (text && text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text);

/** The keys that are set, as JSON (which leaves undefined ones out); null when none is. */
function json(value: Record<string, unknown>): string | null {
  for (const key in value) if (value[key] !== undefined) return JSON.stringify(value);
  return null;
}

/** The columns every event has: when, what, and who (as far as known). */
function base(event: Exclude<AuditEvent, ToolPinEvent | WebhookEvent>, at: number): AuditRow {
  return { at, type: event.type, project: event.project, keyPrefix: event.keyPrefix, member: 'member' in event ? event.member : undefined };
}

/** The row for an event; arguments are kept only when `keepArguments`, and then redacted. */
export function toAuditRow(event: AuditEvent, at: number, keepArguments: boolean): AuditRow {
  switch (event.type) {
    case 'session.opened':
    case 'session.closed':
      return callerRow(event, undefined, at, keepArguments);
    case 'tools/call':
    case 'prompts/get':
    case 'resources/read':
      return callerRow(event, event, at, keepArguments);
    case 'auth.failed':
      return {
        ...base(event, at),
        outcome: 'denied',
        transport: event.transport,
        address: event.address,
        detail: json({ reason: event.reason }),
      };
    case 'tool.changed':
    case 'tool.held':
    case 'tool.approved':
    case 'tool.reverted':
      return {
        at,
        type: event.type,
        server: event.server,
        name: event.tool,
        outcome: event.type === 'tool.held' ? 'denied' : 'ok',
        transport: event.via,
        detail: json({ hash: event.hash, previous: event.previous, fields: event.fields, user: event.user }),
      };
    case 'webhook':
      return {
        at,
        type: event.type,
        server: event.target,
        name: event.target,
        outcome: event.outcome,
        address: event.address,
        detail: json({ reason: event.reason, event: event.event }),
      };
    case 'manage': {
      const detail = redactArguments(event.detail ?? {});
      return {
        ...base(event, at),
        method: event.action,
        name: event.target,
        outcome: 'ok',
        transport: event.via,
        detail: json({ user: event.user, ...(typeof detail === 'object' ? detail : { detail }) }),
      };
    }
  }
}

/**
 * The row of a session opened or closed, or (`request`, the same event) of a forwarded request:
 * one literal with every column, built for every call, where spreads would cost map transitions;
 * the detail only when there is one.
 */
function callerRow(event: SessionEvent | RequestEvent, request: RequestEvent | undefined, at: number, keepArguments: boolean): AuditRow {
  const kept = keepArguments && request?.arguments !== undefined;
  const detail =
    request === undefined || (request.error === undefined && !request.cached && !kept)
      ? undefined
      : json({
          error: clipText(request.error),
          cached: request.cached || undefined,
          arguments: kept ? redactArguments(request.arguments) : undefined,
        });
  return {
    at,
    type: event.type,
    project: event.project,
    keyPrefix: event.keyPrefix,
    member: event.member,
    server: request ? request.server : (event as SessionEvent).endpoint,
    method: request?.type,
    name: request?.name,
    outcome: request?.outcome,
    durationMs: request && Math.round(request.durationMs * 1000) / 1000,
    transport: event.transport,
    era: event.era,
    clientName: event.client?.name,
    clientVersion: event.client?.version,
    address: event.address,
    session: event.session,
    task: request?.task,
    detail,
  };
}

/** Writes one event at once: for the CLI's management actions, whose process ends right after. */
export function recordNow(audit: Pick<AuditRepo, 'append'>, event: AuditEvent, at: number = Date.now()): void {
  audit.append([toAuditRow(event, at, false)]);
}
