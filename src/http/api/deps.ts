import type { z } from '@hono/zod-openapi';
import type { AuditSink } from '../../audit/writer.js';
import type { Access } from '../../auth/access.js';
import type { AuthResult } from '../../auth/authenticate.js';
import type { BatchService } from '../../batch/service.js';
import type { Deployer } from '../../deploy/deployer.js';
import type { SessionStore } from '../../auth/sessions.js';
import type { RateLimit, ShapingRules } from '../../config/schema.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { CallStats } from '../../metrics/callStats.js';
import type { StatsReader } from '../../metrics/liveStats.js';
import type { PinStatus } from '../../pinning/guard.js';
import type { PinReview } from '../../pinning/review.js';
import type { UpstreamPool } from '../../upstream/pool.js';
import type {
  auditEntrySchema,
  fleetOverviewSchema,
  explanationSchema,
  keySchema,
  membershipSchema,
  metricSampleSchema,
  projectSchema,
  reloadReportSchema,
  secretInfoSchema,
  serverChangeSchema,
  serverConfigSchema,
} from './schemas.js';

/**
 * What the REST API and the dashboard ask of the rest of the daemon, in the API's own shapes. The
 * daemon supplies it (the composition root is the one place that knows the store); the HTTP layer
 * never touches SQLite, files or processes itself.
 */

export type ControlAction = 'start' | 'stop' | 'restart';
export const CONTROL_ACTIONS: readonly ControlAction[] = ['start', 'stop', 'restart'];
export type ReloadReport = z.infer<typeof reloadReportSchema>;

export interface AdminControl {
  /** Starts, stops or restarts one server of the pool; resolves when the action has settled. */
  control(name: string, action: ControlAction): Promise<void>;
  /** The same for several, in dependency order (dependents stop first). */
  controlMany(names: readonly string[], action: ControlAction): Promise<void>;
  /** Re-reads the config file; rejects with the config error (and keeps the running config) when it is invalid. */
  reloadFromFile(): Promise<ReloadReport>;
}

export type ProjectView = z.infer<typeof projectSchema>;
export type MembershipView = z.infer<typeof membershipSchema>;
export type KeyView = z.infer<typeof keySchema>;
export type KeyExplanationView = z.infer<typeof explanationSchema>;
export type AuditEntryView = z.infer<typeof auditEntrySchema>;
export type MetricSampleView = z.infer<typeof metricSampleSchema>;
export type ServerChange = z.infer<typeof serverChangeSchema>;
export type ServerConfigView = z.infer<typeof serverConfigSchema>;
export type Role = KeyView['role'];

export interface AuditQuery {
  project?: string | undefined;
  server?: string | undefined;
  member?: string | undefined;
  name?: string | undefined;
  outcome?: string | undefined;
  type?: string | undefined;
  /** Only the calls of a batch task's steps. */
  task?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Only rows older than this id (the cursor of the previous page). */
  beforeId?: number | undefined;
  /** Only rows newer than this id, oldest first (a live tail). */
  afterId?: number | undefined;
  limit: number;
}

/** Projects, members, keys, secrets, the audit log and the metrics history; errors are OrchErrors (404, 409, 400). */
export interface AdminStore {
  projects: {
    list(): ProjectView[];
    require(slug: string): ProjectView;
    create(input: { slug: string; name?: string | undefined; servers?: string[] | undefined }): ProjectView;
    delete(slug: string): void;
    setServer(slug: string, server: string, enabled: boolean): ProjectView;
    setLimits(slug: string, limits: { perKey?: RateLimit | null; perProject?: RateLimit | null }): ProjectView;
  };
  members: {
    list(project: string): MembershipView[];
    add(project: string, input: { name: string; email?: string | undefined; role: Role }): MembershipView;
    setRole(project: string, member: string, role: Role): MembershipView;
    remove(project: string, member: string): { keysRemoved: number };
  };
  keys: {
    list(project: string): KeyView[];
    create(
      project: string,
      input: { member?: string | undefined; name: string; expiresAt: number | null; servers: string[] | null; readOnly: boolean },
    ): { key: string; record: KeyView };
    /** A key of `project` by its prefix (or the key itself); NOT_FOUND for a key of another project. */
    find(project: string, reference: string): KeyView;
    rotate(project: string, reference: string, graceMs: number): { key: string; record: KeyView };
    revoke(project: string, reference: string): KeyView;
    explain(project: string, reference: string): KeyExplanationView;
  };
  secrets: {
    list(): z.infer<typeof secretInfoSchema>[];
    set(name: string, value: string): void;
    delete(name: string): void;
  };
  audit: { query(query: AuditQuery): AuditEntryView[] };
  metrics: {
    query(query: { resolution: 10 | 300; server?: string | undefined; since: number; until?: number | undefined }): MetricSampleView[];
  };
}

/** Servers in mcp-config.json, edited in place; the file watcher (or a reload) applies each edit. */
export interface ConfigEditor {
  /** The config file, or undefined when the daemon was started without one (edits are refused). */
  readonly file: string | undefined;
  /** The entry as written, secrets masked. */
  read(name: string): ServerConfigView;
  add(name: string, entry: Record<string, unknown>, secrets: Record<string, string>): Promise<ServerChange>;
  replace(name: string, entry: Record<string, unknown>, secrets: Record<string, string>): Promise<ServerChange>;
  remove(name: string): Promise<ServerChange>;
}

/** How a request proves who it is: the admin token, an API key, or a dashboard session. */
export interface ApiAuth {
  /** The daemon's admin token (what the CLI sends). */
  token: string;
  /** An `Authorization` header to a key's principal; failures are audited by the daemon. */
  authenticate(authorization: string | undefined, address: string | undefined): AuthResult;
  sessions: SessionStore;
  /** Throws RATE_LIMITED when an address tries logging in too fast. */
  limitLogin(address: string | undefined): void;
}

/** What the deployments routes ask of the daemon: its Deployer. */
export type Deployments = Pick<Deployer, 'deploy' | 'update' | 'rollback' | 'remove' | 'list' | 'get' | 'rotateWebhookSecret' | 'webhook'>;

/** The pinning mode, each alert target with its deliveries, and the groups with their servers. */
export type FleetOverview = z.infer<typeof fleetOverviewSchema>;

/** Definition pinning, alerts, groups and each project's rules, as the daemon keeps them. */
export interface FleetApiDeps {
  overview(): FleetOverview;
  pins(server: string | undefined, changedOnly: boolean): PinReview[];
  /** Approves what a server offers now (one tool, or every changed one); audited as the API's. */
  approve(server: string, tool: string | undefined): string[];
  /** A project's rules by server; UNKNOWN_PROJECT for none. */
  rules(project: string): Record<string, ShapingRules>;
  /** Replaces (or with null removes) a server's rules in a project. */
  setRules(project: string, server: string, rules: ShapingRules | null): Record<string, ShapingRules>;
}

/** What the batch routes ask of the daemon: its batch service (bodies are bounded before the REST API, in http/app.ts). */
export interface BatchApiDeps {
  service: Pick<BatchService, 'submit' | 'status' | 'result' | 'cancel' | 'list' | 'follow'>;
}

export interface ApiDeps {
  version: string;
  /** When the daemon started, milliseconds since the epoch. */
  startedAt: number;
  pool: UpstreamPool;
  readStats: StatsReader;
  control: AdminControl;
  gateway: Pick<Gateway, 'callTool' | 'sessionCounts'>;
  access: Pick<Access, 'reaches' | 'refresh'>;
  calls: Pick<CallStats, 'recent' | 'perSecond'>;
  auth: ApiAuth;
  store: AdminStore;
  config: ConfigEditor;
  /** Where every change made through the API is recorded. */
  audit: AuditSink;
  fleet: FleetApiDeps;
  /** Each server's tools whose definition changed since approved, and those withheld for it. */
  pinStatus(server: string): PinStatus;
  deployments: Deployments;
  batch: BatchApiDeps;
}
