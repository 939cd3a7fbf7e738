import { z } from 'zod';
import { LOG_LEVELS } from '../log.js';

/**
 * The config file's schema: the single source of the config types (everything below is z.infer).
 * Objects are loose because other tools (Claude Desktop, Cursor, Cline, VS Code) add keys of their own;
 * load.ts warns about keys it does not know instead of failing.
 */

/** Server names appear in URLs and in namespaced tool names. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const common = {
  disabled: z.boolean().optional(),
  /** Seconds allowed for connect + initialize, and for each forwarded request. */
  timeout: z.number().positive().max(3600).default(30),
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
  /** Extra Origin values allowed on HTTP transports, besides localhost ones. */
  allowedOrigins: z.array(z.string()).default([]),
  /** Largest accepted request body. */
  maxBodyBytes: z.number().int().positive().default(4 * 1024 * 1024),
  /** Seconds a stdio child gets to exit after SIGTERM before SIGKILL. */
  stopGraceSec: z.number().positive().max(300).default(5),
});

export const configSchema = z.looseObject({
  mcpServers: z
    .record(z.string().regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "."'), serverSchema)
    .default({}),
  orch: orchSchema.default(orchSchema.parse({})),
});

export type StdioServerConfig = z.infer<typeof stdioServerSchema>;
export type RemoteServerConfig = z.infer<typeof remoteServerSchema>;
export type ServerConfig = z.infer<typeof serverSchema>;
export type OrchSettings = z.infer<typeof orchSchema>;
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
