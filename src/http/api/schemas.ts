import { z } from '@hono/zod-openapi';
import { CLIENTS } from '../../auth/clientConfigs.js';
import { PINNING_MODES, rateLimitSchema, SERVER_NAME_PATTERN } from '../../config/schema.js';
import { LIFECYCLE_STATES } from '../../supervisor/lifecycle.js';
import { serverStatusSchema } from '../../upstream/status.js';

/**
 * The REST API's shapes: the zod schemas that validate requests, type the handlers' answers and
 * make the OpenAPI document, so none of the three can drift from the others.
 */

export const errorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'UNKNOWN_SERVER' }),
      message: z.string().openapi({ example: 'unknown server "gihtub"' }),
      hint: z.string().optional().openapi({ example: 'configured servers: github, memory' }),
    }),
  })
  .openapi('Error');

const role = z.enum(['viewer', 'member', 'admin']);
const time = z.number().int().openapi({ description: 'milliseconds since the epoch' });
const nullableTime = time.nullable();

export const serverNameParam = z
  .string()
  .regex(SERVER_NAME_PATTERN)
  .openapi({ param: { name: 'name', in: 'path' }, example: 'memory' });
export const projectParam = z
  .string()
  .min(1)
  .openapi({ param: { name: 'project', in: 'path' }, example: 'default' });

export const transitionSchema = z.object({
  from: z.enum(LIFECYCLE_STATES),
  to: z.enum(LIFECYCLE_STATES),
  cause: z.string(),
  at: time,
});

export const adminServerSchema = serverStatusSchema
  .extend({
    uptimeSec: z.number().int().nullable(),
    restarts: z.number().int(),
    cpuPercent: z.number().nullable(),
    memoryBytes: z.number().nullable(),
    lastError: z.string().nullable(),
    history: z.array(transitionSchema),
    callsPerMinute: z.number().int().openapi({ description: 'tools/call requests over the last minute' }),
    errorRate: z.number().nullable().openapi({ description: 'share of those calls that failed, 0 to 1' }),
    pinning: z
      .object({ changed: z.array(z.string()), held: z.array(z.string()) })
      .openapi({ description: 'definition pinning: tools whose definition changed since approved, and those withheld for it' }),
    toolList: z.array(z.object({ name: z.string(), description: z.string().optional() })).optional(),
  })
  .openapi('Server');
export type AdminServerStatus = z.infer<typeof adminServerSchema>;

/** Catalog entries as the server sent them; their fields are MCP's. */
const toolSchema = z.looseObject({ name: z.string(), description: z.string().optional(), inputSchema: z.looseObject({}) }).openapi('Tool');
const promptSchema = z.looseObject({ name: z.string(), description: z.string().optional() }).openapi('Prompt');
const resourceSchema = z.looseObject({ uri: z.string(), name: z.string() }).openapi('Resource');
const templateSchema = z.looseObject({ uriTemplate: z.string(), name: z.string() }).openapi('ResourceTemplate');

export const logLineSchema = z.object({ time, line: z.string() }).openapi('LogLine');

export const serverDetailSchema = adminServerSchema
  .extend({
    catalog: z.object({
      tools: z.array(toolSchema),
      prompts: z.array(promptSchema),
      resources: z.array(resourceSchema),
      resourceTemplates: z.array(templateSchema),
    }),
    stderr: z.array(logLineSchema),
  })
  .openapi('ServerDetail');

export const reloadReportSchema = z
  .object({
    file: z.string(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    unchanged: z.array(z.string()),
    updated: z.array(z.string()).openapi({ description: 'servers whose change applied without a restart' }),
    restartRequired: z.array(z.string()),
  })
  .openapi('ReloadReport');

export const serverConfigSchema = z
  .object({
    name: z.string(),
    file: z.string(),
    format: z.enum(['json', 'yaml']),
    config: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'the entry as written in the file; env and header values that are not ${...} references are masked' }),
  })
  .openapi('ServerConfig');

export const serverEditSchema = z
  .object({
    config: z.record(z.string(), z.unknown()).openapi({
      description:
        'the server\'s entry as mcp-config.json has it ({"command": ..., "args": [...]} or {"url": ...}); a masked value ("••••••") keeps the current one',
      example: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-memory'] },
    }),
    secrets: z
      .record(z.string(), z.string())
      .optional()
      .openapi({ description: 'values to store in the secret store first, by name; reference them in the config as ${secret:NAME}' }),
  })
  .openapi('ServerEdit');

export const serverAddSchema = serverEditSchema
  .extend({ name: z.string().regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "."') })
  .openapi('ServerAdd');

export const serverChangeSchema = z
  .object({
    name: z.string(),
    file: z.string(),
    change: z.enum(['added', 'changed', 'removed']),
    /** How the running daemon picks the edit up. */
    appliedBy: z.enum(['watcher', 'reload']),
    applied: z.boolean().openapi({ description: 'whether the running daemon had applied the edit when it answered (it waits up to 10 s)' }),
    warnings: z.array(z.string()),
  })
  .openapi('ServerChange');

export const toolsOfServerSchema = z
  .object({ server: z.string(), state: z.enum(LIFECYCLE_STATES), tools: z.array(toolSchema) })
  .openapi('ServerTools');
export const promptsOfServerSchema = z.object({ server: z.string(), prompts: z.array(promptSchema) });
export const resourcesOfServerSchema = z.object({
  server: z.string(),
  resources: z.array(resourceSchema),
  resourceTemplates: z.array(templateSchema),
});

export const toolArgumentsSchema = z
  .record(z.string(), z.unknown())
  .openapi('ToolArguments', { description: "the tool's arguments by name, checked against its inputSchema" });

export const toolResultSchema = z
  .looseObject({
    content: z.array(z.looseObject({ type: z.string() })),
    structuredContent: z.record(z.string(), z.unknown()).optional(),
    isError: z.boolean().optional(),
  })
  .openapi('ToolResult', { description: 'the result as an MCP client receives it; a tool error is isError: true with HTTP 200' });

export const limitsSchema = z.object({ perKey: rateLimitSchema.optional(), perProject: rateLimitSchema.optional() });

export const projectSchema = z
  .object({
    id: z.number().int(),
    slug: z.string(),
    name: z.string(),
    allServers: z.boolean(),
    servers: z.record(z.string(), z.boolean()).openapi({ description: 'servers turned on or off by name; the others follow allServers' }),
    exposed: z.array(z.string()).openapi({ description: 'the config servers the project exposes now' }),
    limits: limitsSchema,
    createdAt: time,
  })
  .openapi('Project');

export const projectCreateSchema = z
  .object({
    slug: z.string().openapi({ example: 'team-a' }),
    name: z.string().optional(),
    servers: z.array(z.string()).optional().openapi({ description: 'expose only these servers; all when absent' }),
  })
  .openapi('ProjectCreate');

export const membershipSchema = z
  .object({
    project: z.string(),
    member: z.object({ id: z.number().int(), name: z.string(), email: z.string().nullable(), createdAt: time }),
    role,
    addedAt: time,
  })
  .openapi('Member');

export const memberAddSchema = z.object({ name: z.string().min(1), email: z.email().optional(), role }).openapi('MemberAdd');

export const keySchema = z
  .object({
    id: z.number().int(),
    project: z.string(),
    member: z.string(),
    role,
    name: z.string(),
    prefix: z.string().openapi({ example: 'mcpo_AbCd1234' }),
    servers: z.array(z.string()).nullable(),
    readOnly: z.boolean(),
    state: z.enum(['active', 'retiring', 'expired', 'revoked']),
    createdAt: time,
    expiresAt: nullableTime,
    lastUsedAt: nullableTime,
    revokedAt: nullableTime,
    replacedBy: z.number().int().nullable(),
  })
  .openapi('Key');

export const keyCreateSchema = z
  .object({
    member: z
      .string()
      .optional()
      .openapi({ description: "whose key it is (name or email); default: the project's only member or only admin" }),
    name: z.string().min(1).max(100).optional(),
    expiresInDays: z.number().positive().max(3650).optional(),
    servers: z.array(z.string()).optional().openapi({ description: 'reach only these servers' }),
    readOnly: z.boolean().optional(),
  })
  .openapi('KeyCreate');

export const clientConfigSchema = z.object({
  client: z.enum(CLIENTS),
  title: z.string(),
  /** What to paste: the client's config file entry, and the command where there is one. */
  text: z.string(),
});

export const issuedKeySchema = z
  .object({
    key: z.string().openapi({ description: 'shown once: only its hash is kept' }),
    record: keySchema,
    url: z.string().openapi({ description: "the project's MCP endpoint" }),
    clients: z.array(clientConfigSchema),
  })
  .openapi('IssuedKey');

export const explanationSchema = z
  .object({
    prefix: z.string(),
    name: z.string(),
    project: z.string(),
    member: z.string(),
    role,
    readOnly: z.boolean(),
    narrowedTo: z.array(z.string()).nullable(),
    state: z.enum(['active', 'retiring', 'expired', 'revoked']),
    expiresAt: nullableTime,
    worksUntil: nullableTime,
    servers: z.array(
      z.object({
        server: z.string(),
        reachable: z.boolean(),
        allowed: z.array(z.string()),
        denied: z.array(z.object({ action: z.string(), reason: z.string(), hint: z.string() })),
      }),
    ),
    unknownServers: z.array(z.string()),
  })
  .openapi('KeyExplanation');

export const secretInfoSchema = z.object({ name: z.string(), createdAt: time, updatedAt: time }).openapi('Secret');

export const auditEntrySchema = z
  .object({
    id: z.number().int(),
    at: time,
    type: z.string(),
    project: z.string().nullable(),
    member: z.string().nullable(),
    keyPrefix: z.string().nullable(),
    server: z.string().nullable(),
    method: z.string().nullable(),
    name: z.string().nullable(),
    outcome: z.string().nullable(),
    durationMs: z.number().nullable(),
    transport: z.string().nullable(),
    era: z.string().nullable(),
    clientName: z.string().nullable(),
    clientVersion: z.string().nullable(),
    address: z.string().nullable(),
    session: z.string().nullable(),
    detail: z.string().nullable(),
    task: z.string().nullable().openapi({ description: 'the batch task the call was a step of' }),
  })
  .openapi('AuditEntry');

export const metricSampleSchema = z
  .object({
    server: z.string(),
    resolution: z.union([z.literal(10), z.literal(300)]),
    at: time,
    cpuPercent: z.number().nullable(),
    memoryBytes: z.number().nullable(),
    calls: z.number().int(),
    errors: z.number().int(),
    p50Ms: z.number().nullable(),
    p95Ms: z.number().nullable(),
  })
  .openapi('MetricSample');

export const daemonStatusSchema = z
  .object({
    version: z.string(),
    startedAt: time,
    uptimeSec: z.number().int(),
    sessions: z.record(z.string(), z.number().int()).openapi({ description: 'open MCP sessions by transport' }),
    callsPerSecond: z.number(),
    servers: z.record(z.string(), z.number().int()).openapi({ description: 'servers by state' }),
    you: z.object({
      via: z.enum(['token', 'key', 'session']),
      operator: z.boolean(),
      project: z.string(),
      role,
      member: z.string().nullable(),
      keyPrefix: z.string().nullable(),
    }),
  })
  .openapi('DaemonStatus');

/** `{"ok": true}`-style answers of actions that return nothing else. */
export const doneSchema = z.object({ done: z.literal(true) }).openapi('Done');

const alertTargetSchema = z.object({
  url: z.string().openapi({ description: "the receiver's origin (a webhook's path is its secret)" }),
  format: z.string(),
  events: z.array(z.string()),
  sent: z.number().int(),
  failed: z.number().int(),
  suppressed: z.number().int(),
  queued: z.number().int(),
  lastSentAt: z.string().nullable(),
  lastError: z.string().nullable(),
});

export const fleetOverviewSchema = z
  .object({
    pinning: z.object({ mode: z.enum(PINNING_MODES) }),
    alerts: z.array(alertTargetSchema),
    groups: z.record(z.string(), z.array(z.string())).openapi({ description: 'group name -> its servers' }),
  })
  .openapi('Fleet');

export const pinSchema = z
  .object({
    server: z.string(),
    tool: z.string(),
    hash: z.string(),
    approvedAt: z.string(),
    pending: z
      .object({ hash: z.string(), seenAt: z.string(), changes: z.array(z.object({ field: z.string(), diff: z.array(z.string()) })) })
      .optional(),
  })
  .openapi('Pin');
