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

/** Partial at every level: a config states only what differs. */
const supervisionOverrides = supervisionSchema
  .extend({ backoff: supervisionSchema.shape.backoff.partial(), health: supervisionSchema.shape.health.partial() })
  .partial();

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
  ...supervisionOverrides.shape,
};

export const stdioServerSchema = z.looseObject({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
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

export const serverSchema = z.union([stdioServerSchema, remoteServerSchema], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? 'expected a stdio server ({"command": ..., "args": [...]}) or a remote server ({"url": "https://..."})'
      : undefined,
});

/** A token bucket: requests per minute on average, and how many may come at once. 0 per minute: no limit. */
export const rateLimitSchema = z.strictObject({
  requestsPerMinute: z.number().int().min(0).max(1_000_000),
  burst: z.number().int().min(1).max(1_000_000),
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
  /** HTTP sessions idle this long are closed; clients that vanish without DELETE leave them behind. 0: never. */
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
});

export const configSchema = z.looseObject({
  mcpServers: z
    .record(z.string().regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "."'), serverSchema)
    .default({}),
  orch: orchSchema.default(orchSchema.parse({})),
});

export type Supervision = z.infer<typeof supervisionSchema>;
export type SupervisionOverrides = z.infer<typeof supervisionOverrides>;
export type StdioServerConfig = z.infer<typeof stdioServerSchema>;
export type RemoteServerConfig = z.infer<typeof remoteServerSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type OrchSettings = z.infer<typeof orchSchema>;
export type RateLimit = z.infer<typeof rateLimitSchema>;
export type AuditSettings = OrchSettings['audit'];
export type Config = z.infer<typeof configSchema>;

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
