import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';
import { batchSettingsSchema, llmSettingsSchema } from './batchSchema.js';

/**
 * The config file's schema: the single source of the config types (everything below is z.infer).
 * Objects are loose because other tools (Claude Desktop, Cursor, Cline, VS Code) add keys of their own;
 * load.ts warns about keys it does not know instead of failing.
 */

/** Server names appear in URLs and in namespaced tool names. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The namespace of the gateway's own tools on the unified endpoint (`mcp-orch__plan`): no server may take it. */
export const OWN_SERVER = 'mcp-orch';

/** A Host header value: a name, an IPv4 address or a bracketed IPv6 one, and an optional port. */
export const HOST_PATTERN = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/;

/**
 * How a server is kept alive. Each key may be set per server or, as a default for all, in
 * `orch.defaults`; supervision.ts merges the two with the built-in defaults.
 */
export const supervisionSchema = z.object({
  /** `on-failure`: restart after a crash, a failed start or failed health checks; `always`: after any exit. */
  restart: z.enum(['always', 'on-failure', 'never']),
  /** Restarts allowed within `restartWindowSec` before the server is declared crashed. */
  maxRestarts: z.number().int().min(0).max(1000),
  restartWindowSec: z.number().positive().max(86_400),
  backoff: z.strictObject({
    initialMs: z.number().int().min(0).max(600_000),
    maxMs: z.number().int().min(0).max(3_600_000),
  }),
  /** After this long running, earlier crashes stop counting towards the backoff. */
  stableSec: z.number().positive().max(86_400),
  health: z.strictObject({
    /** 0 turns health checks and CPU/memory sampling off. */
    intervalSec: z.number().min(0).max(3600),
    timeoutSec: z.number().positive().max(600),
    failureThreshold: z.number().int().min(1).max(100),
  }),
  maxCpuPercent: z.number().positive(),
  maxMemoryMb: z.number().positive(),
  /** `warn` logs when a limit is crossed; `restart` also restarts the server. */
  onThreshold: z.enum(['warn', 'restart']),
  /** Start on first use instead of at daemon start. */
  lazy: z.boolean(),
  /** Stop after this many seconds without requests (0: never); the next request starts it again. */
  idleTimeoutSec: z.number().min(0),
  /** stderr lines kept in memory per server. */
  logLines: z.number().int().min(10).max(100_000),
  /** Also append stderr to <dataDir>/logs/<server>.log, rotated at logFileMaxBytes. */
  logFile: z.boolean(),
  logFileMaxBytes: z.number().int().min(1024),
});

export const SUPERVISION_DEFAULTS: z.infer<typeof supervisionSchema> = {
  restart: 'on-failure',
  maxRestarts: 5,
  restartWindowSec: 300,
  backoff: { initialMs: 1000, maxMs: 30_000 },
  stableSec: 60,
  health: { intervalSec: 10, timeoutSec: 5, failureThreshold: 3 },
  maxCpuPercent: 90,
  maxMemoryMb: 1024,
  onThreshold: 'warn',
  lazy: false,
  idleTimeoutSec: 0,
  logLines: 500,
  logFile: false,
  logFileMaxBytes: 10 * 1024 * 1024,
};

/**
 * Response caching, opt-in per server: which answers may be kept, and how long. Keys are per
 * project, server, method, name and canonical arguments; see src/gateway/cache.ts.
 */
export const serverCacheSchema = z.strictObject({
  /** Seconds an answer is kept at most (list_changed, resources/updated, a restart or a config change drop it sooner). */
  ttlSec: z.number().positive().max(86_400).default(60),
  /** Tools whose results are kept: their names, or `readOnly` for those annotated readOnlyHint and idempotentHint. */
  tools: z.union([z.array(z.string().min(1, 'must not be empty')), z.literal('readOnly')]).optional(),
  /** Keep resources/read answers. */
  resources: z.boolean().default(false),
  /** Keep list answers that reach the server (the gateway answers the others from its catalog). */
  lists: z.boolean().default(false),
});

/** Where a server deployed with `mcp-orch deploy` came from (src/deploy/): its repository, the ref it follows, the commit it runs. */
export const serverSourceSchema = z.strictObject({
  git: z.string().min(1),
  ref: z.string().min(1).optional(),
  commit: z.string().regex(/^[0-9a-f]{40}$/, 'expected a full 40-digit commit id'),
});

/** Partial at every level: a config states only what differs. */
const supervisionOverrides = supervisionSchema
  .extend({ backoff: supervisionSchema.shape.backoff.partial(), health: supervisionSchema.shape.health.partial() })
  .partial();

/** Tool names as MCP allows them: what an override may rename a tool or prompt to. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

/** Globs (`*` any run of characters, `?` one) over names, or over URIs for resources. */
const globs = z.array(z.string().min(1, 'must not be empty'));

/**
 * Which of a server's tools, prompts or resources clients see: `allow` (only these) and `deny`
 * (never these; deny wins). A bare list is `allow`, as GitHub Copilot's `"tools": ["*"]` is.
 */
export const filterSchema = z
  .union([globs, z.strictObject({ allow: globs.optional(), deny: globs.optional() })], {
    error: 'expected a list of name patterns, or {"allow": [...], "deny": [...]}',
  })
  .transform((filter) => (Array.isArray(filter) ? { allow: filter } : filter));

const exposedName = z.string().regex(TOOL_NAME_PATTERN, 'use letters, digits, "_", "-" and "." (at most 128)');

/** What clients are told of a prompt instead of what the server says; `name` renames it (calls still reach it). */
export const promptOverrideSchema = z.strictObject({
  name: exposedName.optional(),
  title: z.string().optional(),
  description: z.string().optional(),
});

/** The same for a tool, whose annotations are merged over the server's. */
export const toolOverrideSchema = promptOverrideSchema.extend({
  annotations: z.record(z.string(), z.unknown()).optional(),
});

/**
 * What clients see of a server, keyed by the server's own names: filters and overrides. Set in the
 * config per server, and per project in the database (`mcp-orch projects rules`), the project's
 * applied over the config's. A change applies at once, without restarting the server.
 */
export const shapingSchema = z.object({
  tools: filterSchema.optional(),
  prompts: filterSchema.optional(),
  /** Globs over resource URIs and template URIs. */
  resources: filterSchema.optional(),
  overrides: z.record(z.string(), toolOverrideSchema).optional(),
  promptOverrides: z.record(z.string(), promptOverrideSchema).optional(),
});

const groupName = z.string().regex(SERVER_NAME_PATTERN, 'group names use letters, digits, "_", "-" and "."');

/**
 * The keys of a server that shape what clients see and how it runs among the others: all of them
 * apply on reload without restarting it.
 */
export const fleetKeys = {
  ...shapingSchema.shape,
  /** A group (or several) for `start|stop|restart --group`, `list-servers --group` and `/api/servers?group=`. */
  group: z
    .union([groupName, z.array(groupName).min(1)], {
      error: 'expected a group name or a list of them',
    })
    .optional(),
  /** Servers that must be running before this one starts; it stops before them. */
  dependsOn: z.array(z.string().regex(SERVER_NAME_PATTERN, 'expected a server name')).optional(),
};

/** The per-server keys applied without a restart (see fleetKeys). */
export const LIVE_SERVER_KEYS = Object.keys(fleetKeys) as (keyof typeof fleetKeys)[];

const common = {
  disabled: z.boolean().optional(),
  /** Seconds allowed for connect + initialize, and for each forwarded request. */
  timeout: z.number().positive().max(3600).default(30),
  /**
   * `shared` (default): one instance serves every client. `session`: one instance per downstream
   * session (and per 2026-07-28 request), for servers that sample, elicit, use roots or keep state
   * per client.
   */
  isolation: z.enum(['shared', 'session']).default('shared'),
  /** With `isolation: "session"`, instances running at once at most. */
  maxInstances: z.number().int().min(1).max(1000).default(20),
  /**
   * Directories (or file:// URIs) the gateway offers a shared server as its roots; clients' own roots
   * never reach a shared server. Without it, no roots are offered. Relative paths are from `cwd`.
   */
  roots: z.array(z.string().min(1, 'must not be empty')).optional(),
  cache: serverCacheSchema.optional(),
  ...supervisionOverrides.shape,
  ...fleetKeys,
};

export const stdioServerSchema = z.looseObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  source: serverSourceSchema.optional(),
  ...common,
});

export const REMOTE_TYPES = ['streamable-http', 'http', 'sse'] as const;

export const remoteServerSchema = z.looseObject({
  /** `http` is the name VS Code and Claude Code use for Streamable HTTP. Absent: try it, fall back to SSE. */
  type: z.enum(REMOTE_TYPES).optional(),
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  ...common,
});

// No message of its own: issues.ts tells a server that fits neither shape by the shape it meant.
export const serverSchema = z.union([stdioServerSchema, remoteServerSchema]);

/** A token bucket: requests per minute on average, and how many may come at once. 0 per minute: no limit. */
export const rateLimitSchema = z.strictObject({
  requestsPerMinute: z.number().int().min(0).max(1_000_000),
  burst: z.number().int().min(1).max(1_000_000),
});

export const PINNING_MODES = ['off', 'warn', 'enforce'] as const;

/** What an alert may be about. */
export const ALERT_EVENTS = ['crashed', 'unhealthy', 'restarted', 'threshold', 'auth-failures', 'tool-changed'] as const;

/** One receiver of alerts: a webhook that gets a POST per event. */
export const alertSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }),
  /** The events sent there (default: all). */
  events: z
    .array(z.enum(ALERT_EVENTS))
    .min(1)
    .default([...ALERT_EVENTS]),
  /** `json`: mcp-orch's own body; `slack`: `{"text": ...}`, as Slack's (and Mattermost's, Discord's /slack) incoming webhooks take. */
  format: z.enum(['json', 'slack']).default('json'),
  headers: z.record(z.string(), z.string()).default({}),
  /** At most this many alerts of one kind a minute; the rest are counted and summed up in the next. */
  maxPerMinute: z.number().int().min(1).max(600).default(6),
  /** Delivery: attempts in all, each bounded by timeoutSec, with doubling delays between them. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(20).default(4),
      initialMs: z.number().int().min(0).max(600_000).default(1000),
      maxMs: z.number().int().min(0).max(3_600_000).default(30_000),
    })
    .prefault({}),
  timeoutSec: z.number().positive().max(300).default(10),
});

export const orchSchema = z.looseObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8000),
  dataDir: z.string().min(1).optional(),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Between server and tool/prompt name on unified endpoints. `__` fits every model API's tool-name rules. */
  namespaceSeparator: z
    .string()
    .min(1)
    .max(4)
    .regex(/^[A-Za-z0-9_.\-:/]+$/, 'use characters such as "__", ".", "-" or ":"')
    .default('__'),
  /** Extra Origin values allowed on HTTP transports, besides the daemon's own (its names on its port). */
  allowedOrigins: z.array(z.string()).default([]),
  /**
   * Host header values answered besides the loopback names (and the bound address): how a daemon
   * reached by another name works while a DNS-rebinding page is refused. `name` allows any port,
   * `name:port` that one; `*` turns the check off.
   */
  allowedHosts: z
    .array(
      z.string().refine((host) => host === '*' || HOST_PATTERN.test(host), {
        error: 'expected a host name or address, optionally with :port (mcp.example.com, 192.168.1.5:8000, [fd00::1]), or "*"',
      }),
    )
    .default([]),
  /** Largest accepted request body. */
  maxBodyBytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /**
   * HTTP sessions idle this long (no request, none in flight, no stream open) are closed; clients
   * that vanish without DELETE leave them behind. 0: never.
   */
  sessionIdleSec: z.number().min(0).default(1800),
  /** Seconds a stdio child gets to exit after SIGTERM before SIGKILL. */
  stopGraceSec: z.number().positive().max(300).default(5),
  /** Supervision settings for every server that does not set its own. */
  defaults: supervisionOverrides.default({}),
  /** What clients may make the daemon hold; past a per-client limit 429, past a total one 503. */
  limits: z
    .strictObject({
      sessions: z.number().int().min(1).default(1000),
      sessionsPerClient: z.number().int().min(1).default(100),
      streams: z.number().int().min(1).default(2000),
      streamsPerClient: z.number().int().min(1).default(200),
      inFlight: z.number().int().min(1).default(64),
      batch: z.number().int().min(1).max(10_000).default(64),
      streamBufferBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .default(16 * 1024 * 1024),
    })
    // prefault: an absent block is parsed as {}, so the defaults above are written once.
    .prefault({}),
  /** The audit log: every session, call and management action, in <dataDir>/mcp-orch.db. */
  audit: z
    .strictObject({
      /** Keep tool and prompt arguments, with the values of keys such as token, password and secret redacted. */
      arguments: z.boolean().default(false),
      /** Rows older than this many days are deleted; 0 keeps them forever. */
      retainDays: z.number().min(0).default(90),
      /** At most this many rows are kept, the oldest deleted first; 0: no limit. */
      maxRows: z.number().int().min(0).default(0),
    })
    .prefault({}),
  /**
   * Definition pinning: each tool's definition is recorded when first seen. `warn` logs and flags a
   * tool whose definition changed since; `enforce` also withholds it until approved (`mcp-orch tools
   * approve`); `off` records nothing.
   */
  pinning: z.enum(PINNING_MODES).default('warn'),
  /** Where to POST word of crashes, failed health checks, restarts, crossed limits and failed authentications. */
  alerts: z.array(alertSchema).default([]),
  /** Requests each API key, and each project, may make; a project may set its own (`mcp-orch projects limits`). */
  rateLimit: z
    .strictObject({
      perKey: rateLimitSchema.default({ requestsPerMinute: 600, burst: 60 }),
      perProject: rateLimitSchema.default({ requestsPerMinute: 6000, burst: 600 }),
    })
    .prefault({}),
  /** Batch tasks (plans of tool calls) and the model that plans them: batchSchema.ts. */
  batch: batchSettingsSchema.prefault({}),
  llm: llmSettingsSchema.optional(),
  /** The response cache of all servers together: least recently used answers go first past maxMb. */
  cache: z.strictObject({ maxMb: z.number().positive().max(65_536).default(64) }).prefault({}),
});

export const configSchema = z
  .looseObject({
    mcpServers: z
      .record(
        z
          .string()
          .regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "."')
          .refine((name) => name !== OWN_SERVER, `"${OWN_SERVER}" names the gateway's own tools on /mcp; give this server another name`),
        serverSchema,
      )
      .default({}),
    orch: orchSchema.default(orchSchema.parse({})),
  })
  .superRefine(({ mcpServers, orch }, ctx) => {
    // `<server><sep><name>` must say where the server's name ends: with separator "__", servers "a_"
    // and "a" would both list a tool as "a___0" (tools "0" and "_0"), and one would take the other's calls.
    const separator = orch.namespaceSeparator;
    for (const name of Object.keys(mcpServers)) {
      if (`${name}${separator}`.indexOf(separator) === name.length) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['mcpServers', name],
        params: { whole: true },
        message: `invalid name: "${name}" contains or ends like the namespace separator "${separator}", so its tools' names on /mcp would not say where the server's name ends; rename the server or change orch.namespaceSeparator`,
      });
    }
  });

export type Supervision = z.infer<typeof supervisionSchema>;
export type SupervisionOverrides = z.infer<typeof supervisionOverrides>;
export type StdioServerConfig = z.infer<typeof stdioServerSchema>;
export type RemoteServerConfig = z.infer<typeof remoteServerSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type OrchSettings = z.infer<typeof orchSchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;
export type AuditSettings = OrchSettings['audit'];
export type ServerCache = z.infer<typeof serverCacheSchema>;
export type ServerSource = z.infer<typeof serverSourceSchema>;
export type Config = z.infer<typeof configSchema>;
export type ShapingRules = z.infer<typeof shapingSchema>;
export type NameFilter = z.infer<typeof filterSchema>;
export type ToolOverride = z.infer<typeof toolOverrideSchema>;
export type PinningMode = (typeof PINNING_MODES)[number];
export type AlertEvent = (typeof ALERT_EVENTS)[number];
export type AlertTarget = z.infer<typeof alertSchema>;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server && typeof server.command === 'string';
}

/** Keys each object understands, for the unknown-key warnings in load.ts. */
export const KNOWN_KEYS = {
  root: Object.keys(configSchema.shape),
  orch: Object.keys(orchSchema.shape),
  stdio: Object.keys(stdioServerSchema.shape),
  remote: Object.keys(remoteServerSchema.shape),
} as const;
