import { z } from 'zod';

/**
 * A plan: the steps of a batch task, as data. These schemas are the single source of the plan's
 * types, of the JSON Schema a planner model is given, and of what the REST API documents. Zod checks
 * the shape; validate.ts checks the rest against the catalog (servers, tools, input schemas, the
 * caller's key) and the graph (references, cycles).
 */

/** Step ids appear in references (`${steps.ID.result}`), so they are plain identifiers. */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const stepId = z.string().regex(STEP_ID_PATTERN, 'use letters, digits and "_", starting with a letter or "_" (at most 64)');

/** A value that may hold references: any JSON, where strings may contain `${...}`. */
const argumentsSchema = z
  .record(z.string(), z.unknown())
  .default({})
  .describe('the tool arguments; any string may contain references such as "${steps.ID.result.field}"');

const common = {
  id: stepId.describe('unique in the plan; later steps refer to its result as ${steps.ID.result}'),
  needs: z.array(stepId).optional().describe('steps that must finish first, besides those the step refers to'),
  when: z
    .string()
    .optional()
    .describe('run only if this reference is truthy, e.g. "${steps.check.result.ok}"; "!${...}" runs only if it is falsy'),
  timeout: z.number().positive().max(3600).optional().describe('seconds each attempt may take'),
  retries: z.number().int().min(0).max(5).optional().describe('attempts after the first, for errors marked retryable'),
};

export const toolStepSchema = z.strictObject({
  type: z.literal('tool'),
  ...common,
  server: z.string().min(1).describe('a server of the gateway'),
  tool: z.string().min(1).describe('the tool as that server names it'),
  arguments: argumentsSchema,
});

export const mapStepSchema = z.strictObject({
  type: z.literal('map'),
  ...common,
  over: z.string().describe('a reference to a list, e.g. "${steps.repos.result.items}"'),
  server: z.string().min(1),
  tool: z.string().min(1),
  arguments: argumentsSchema.describe('the arguments of each call; "${item}" is the element, "${index}" its position'),
  concurrency: z.number().int().min(1).max(1000).optional().describe("calls of this step at once (the task's limit still applies)"),
});

export const llmStepSchema = z.strictObject({
  type: z.literal('llm'),
  ...common,
  prompt: z.string().min(1).describe('the instruction, with references to earlier results'),
  output: z.enum(['text', 'json']).default('text'),
  schema: z.record(z.string(), z.unknown()).optional().describe('a JSON Schema the JSON output must follow'),
});

export const stepSchema = z.discriminatedUnion('type', [toolStepSchema, mapStepSchema, llmStepSchema]);

export const planSchema = z.strictObject({
  steps: z.array(stepSchema).min(1, 'a plan needs at least one step'),
  stopOnError: z.boolean().default(false).describe('cancel the rest of the plan when a step fails'),
  maxParallel: z.number().int().min(1).max(1000).optional().describe('calls at once (at most orch.batch.maxParallel)'),
});

/** Who plans when the task is a request in words: the configured model, or the MCP client's own through sampling. */
export const plannerSchema = z.enum(['server', 'client']);

/** What `POST /batch/execute` (and `mcp-orch__run_plan`) take: a request in words, or a plan. */
export const executeRequestSchema = z
  .strictObject({
    request: z.string().min(1).max(20_000).optional().describe('the task in words, for the planner'),
    plan: z.unknown().optional().describe('a plan; skips the planner'),
    dryRun: z.boolean().default(false).describe('answer the validated plan and its order of execution, and run nothing'),
    planner: plannerSchema.default('server'),
  })
  .refine((body) => (body.request === undefined) !== (body.plan === undefined), {
    error: 'give either "request" (a task in words) or "plan" (a plan), not both',
  });

export type Plan = z.infer<typeof planSchema>;
export type PlanInput = z.input<typeof planSchema>;
export type Step = z.infer<typeof stepSchema>;
export type ToolStep = z.infer<typeof toolStepSchema>;
export type MapStep = z.infer<typeof mapStepSchema>;
export type LlmStep = z.infer<typeof llmStepSchema>;
export type Planner = z.infer<typeof plannerSchema>;
export type ExecuteRequest = z.infer<typeof executeRequestSchema>;

/** The plan's JSON Schema, as a planner model is given it. */
export function planJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(planSchema, { io: 'input' }) as Record<string, unknown>;
}
