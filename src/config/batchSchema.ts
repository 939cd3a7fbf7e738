import { z } from 'zod';

/** `orch.batch`: what batch tasks may make the daemon do and hold. */
export const batchSettingsSchema = z.strictObject({
  /** Calls one task makes at once (a plan may ask for fewer). */
  maxParallel: z.number().int().min(1).max(1000).default(10),
  /** Calls one server gets from all tasks at once, unless `servers` sets its own. */
  perServer: z.number().int().min(1).max(1000).default(10),
  /** A server's own limit on calls at once from batch tasks, by name. */
  servers: z.record(z.string(), z.number().int().min(1).max(1000)).default({}),
  /** Tasks running at once across the daemon; more are refused with 503. */
  maxRunning: z.number().int().min(1).max(10_000).default(20),
  /** Tasks running at once per key. */
  maxRunningPerKey: z.number().int().min(1).max(10_000).default(5),
  maxSteps: z.number().int().min(1).max(10_000).default(200),
  maxMapItems: z.number().int().min(1).max(100_000).default(1000),
  /** The largest result one step keeps, as JSON. */
  maxResultBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Finished tasks kept in the database; the oldest go first. */
  retainTasks: z.number().int().min(1).default(1000),
  /** Times an invalid plan from a planner is sent back with its errors before the task fails. */
  repairs: z.number().int().min(0).max(5).default(2),
});

/**
 * `orch.llm`: the model that plans tasks and runs llm steps. Credentials may be `${VAR}` or
 * `${secret:NAME}`; secrets are read when the model is first needed.
 */
export const llmSettingsSchema = z.strictObject({
  /** `openai` also serves any OpenAI-compatible endpoint (vLLM, Ollama, LM Studio) given as `endpoint`. */
  provider: z.enum(['openai', 'anthropic', 'bedrock', 'azure']),
  model: z.string().min(1),
  /** The API's base URL: an OpenAI-compatible server's `/v1`, a proxy, an Azure resource's `/openai` URL. */
  endpoint: z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' }).optional(),
  apiKey: z.string().optional(),
  /** Azure: the resource name, when no endpoint is given; and the API version. */
  resourceName: z.string().optional(),
  apiVersion: z.string().optional(),
  /** Bedrock: the region and credentials (otherwise the AWS_* environment variables). */
  region: z.string().optional(),
  accessKeyId: z.string().optional(),
  secretAccessKey: z.string().optional(),
  sessionToken: z.string().optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** Seconds one model call may take. */
  timeoutSec: z.number().positive().max(3600).default(120),
  maxOutputTokens: z.number().int().min(1).max(1_000_000).default(8192),
});

export type BatchSettings = z.infer<typeof batchSettingsSchema>;
export type LlmSettings = z.infer<typeof llmSettingsSchema>;
