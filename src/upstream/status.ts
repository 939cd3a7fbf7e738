import { z } from 'zod';
import { groupsOf } from '../config/fleet.js';
import { isStdioServer, shapingSchema, type ShapingRules } from '../config/schema.js';
import { LIFECYCLE_STATES } from '../supervisor/lifecycle.js';
import { LEGACY_VERSION, MODERN_VERSION } from './envelope.js';
import type { UpstreamPool } from './pool.js';
import type { Upstream } from './upstream.js';

/** What `list-servers`, `/api/servers` and `/health` say about a server. Never env or headers. */
export const serverStatusSchema = z.object({
  name: z.string(),
  type: z.enum(['stdio', 'streamable-http', 'sse']),
  /** The command line, or the URL without credentials or query. */
  target: z.string(),
  state: z.enum(LIFECYCLE_STATES),
  /**
   * The protocol era the server was probed at on its current connection: '2026-07-28' when it lists
   * it in server/discover, '2025-11-25' otherwise; null while not connected.
   */
  era: z.enum([LEGACY_VERSION, MODERN_VERSION]).nullable(),
  /** The server speaks 2026-07-28 only (connected without initialize). */
  modernOnly: z.boolean(),
  pid: z.number().int().nullable(),
  /** `session`: every client session has an instance of its own, `instances` of them now. */
  isolation: z.enum(['shared', 'session']),
  instances: z.number().int(),
  tools: z.number().int(),
  prompts: z.number().int(),
  resources: z.number().int(),
  error: z.string().nullable(),
  /**
   * What its operator should know though it keeps the server running, from the first time it
   * happened: lines it wrote to stdout that are not JSON-RPC (skipped, and kept in its log).
   */
  warning: z.string().nullable(),
  /** Its groups (`group` in the config). */
  groups: z.array(z.string()),
  /** The servers it waits for at start (`dependsOn`). */
  dependsOn: z.array(z.string()),
  /** What clients see of it: the config's filters and overrides, as given (null: everything, as the server says it). */
  rules: shapingSchema.nullable(),
});
export type ServerStatus = z.infer<typeof serverStatusSchema>;

const SHAPING_KEYS = Object.keys(shapingSchema.shape) as (keyof ShapingRules)[];

/** How much of the first stray line a warning quotes. */
const QUOTED_CHARS = 200;

export function serverStatus(upstream: Upstream): ServerStatus {
  const { config, catalog } = upstream;
  return {
    name: upstream.name,
    type: upstream.transportKind,
    target: isStdioServer(config) ? [config.command, ...config.args].join(' ') : redactUrl(config.url),
    state: upstream.state,
    era: upstream.protocolEra ?? null,
    modernOnly: upstream.modernOnly,
    pid: upstream.pid ?? null,
    isolation: upstream.isolated ? 'session' : 'shared',
    instances: upstream.instanceCount,
    tools: catalog.tools.length,
    prompts: catalog.prompts.length,
    resources: catalog.resources.length,
    error: upstream.error ?? null,
    warning: strayWarning(upstream),
    groups: groupsOf(config),
    dependsOn: config.dependsOn ?? [],
    rules: rulesOf(config),
  };
}

function rulesOf(config: ShapingRules): ShapingRules | null {
  const rules = Object.fromEntries(SHAPING_KEYS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
  return Object.keys(rules).length ? rules : null;
}

function strayWarning({ name, logs }: Upstream): string | null {
  const first = logs.firstStdout;
  if (!first) return null;
  const count = logs.stdoutLines;
  const quoted = first.line.length > QUOTED_CHARS ? `${first.line.slice(0, QUOTED_CHARS)}…` : first.line;
  return (
    `wrote ${count === 1 ? '1 line' : `${count} lines`} to stdout that ${count === 1 ? 'is' : 'are'} not JSON-RPC, ` +
    `skipped and kept in its log (\`mcp-orch logs ${name}\`); the first at ${new Date(first.time).toISOString()}: ` +
    `${JSON.stringify(quoted)}. Servers should log to stderr`
  );
}

export function poolStatus(pool: UpstreamPool): ServerStatus[] {
  return pool.all().map(serverStatus);
}

/** URLs may carry credentials or tokens in their query; show only where they point. */
function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    // Only a url still holding an unfilled ${secret:NAME} (its server is disabled) does not parse: no value in it.
    return raw;
  }
}
