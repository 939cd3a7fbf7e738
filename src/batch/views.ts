import { z } from 'zod';
import type { StepRow, TaskRow } from '../store/batchTasks.js';
import type { StepState } from './executor.js';
import { planSchema, type Plan } from './plan.js';

/**
 * What readers of a task see (REST, MCP, CLI), as zod schemas: the single source of these types and
 * of the API's documentation. Times are ISO 8601 strings.
 */

export const TASK_STATUSES = ['planning', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const FINISHED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

export const stepViewSchema = z.object({
  id: z.string(),
  type: z.enum(['tool', 'map', 'llm']),
  status: z.enum(['pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']),
  attempts: z.number().int(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
  error: z.string().optional(),
  /** In results only. */
  result: z.unknown().optional(),
});

export const taskViewSchema = z.object({
  id: z.string(),
  status: z.enum(TASK_STATUSES),
  project: z.string(),
  /** The visible prefix of the key that submitted it. */
  key: z.string().optional(),
  member: z.string().optional(),
  request: z.string().optional(),
  planner: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  durationMs: z.number().optional(),
  error: z.string().optional(),
  steps: z.array(stepViewSchema),
  /** In results only. */
  plan: planSchema.optional(),
});

/** A dry run's answer: the validated plan and the waves its steps would run in. */
export const dryRunSchema = z.object({
  dryRun: z.literal(true),
  request: z.string().optional(),
  plan: planSchema,
  order: z.array(z.array(z.string())),
});

/** What a live stream of a task carries: the task's status, a step's change, and the end. */
export const taskEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('task'), task: taskViewSchema }),
  z.object({ type: z.literal('step'), step: stepViewSchema }),
  z.object({ type: z.literal('done'), task: taskViewSchema }),
]);

export type StepView = z.infer<typeof stepViewSchema>;
export type TaskView = z.infer<typeof taskViewSchema>;
export type DryRun = z.infer<typeof dryRunSchema>;
export type TaskEvent = z.infer<typeof taskEventSchema>;

const iso = (at: number | null | undefined): string | undefined =>
  at === null || at === undefined ? undefined : new Date(at).toISOString();
const span = (start: number | null | undefined, end: number | null | undefined): number | undefined =>
  start === null || start === undefined || end === null || end === undefined ? undefined : end - start;

function parseJson(text: string | null): unknown {
  return text === null ? undefined : (JSON.parse(text) as unknown);
}

/** A step's state as a row of the store. */
export function stepRow(taskId: string, position: number, state: StepState): StepRow {
  return {
    taskId,
    stepId: state.id,
    position,
    type: state.type,
    status: state.status,
    attempts: state.attempts,
    startedAt: state.startedAt ?? null,
    finishedAt: state.finishedAt ?? null,
    result: state.result === undefined ? null : JSON.stringify(state.result),
    error: state.error ?? null,
  };
}

/** A step as readers see it; `withResult` adds its result. */
export function stepView(state: StepState, withResult: boolean): StepView {
  return {
    id: state.id,
    type: state.type,
    status: state.status,
    attempts: state.attempts,
    ...(state.startedAt === undefined ? {} : { startedAt: iso(state.startedAt) }),
    ...(state.finishedAt === undefined ? {} : { finishedAt: iso(state.finishedAt) }),
    ...(span(state.startedAt, state.finishedAt) === undefined ? {} : { durationMs: span(state.startedAt, state.finishedAt) }),
    ...(state.error === undefined ? {} : { error: state.error }),
    ...(withResult && state.result !== undefined ? { result: state.result } : {}),
  };
}

function stepStateOf(row: StepRow): StepState {
  return {
    id: row.stepId,
    type: row.type as StepState['type'],
    status: row.status as StepState['status'],
    attempts: row.attempts,
    startedAt: row.startedAt ?? undefined,
    finishedAt: row.finishedAt ?? undefined,
    result: parseJson(row.result),
    error: row.error ?? undefined,
  };
}

/** A stored task as readers see it: its status and steps, and with `withResults` its plan and results. */
export function taskView(row: TaskRow, steps: StepRow[], withResults: boolean): TaskView {
  const optional = (key: string, value: unknown): Record<string, unknown> =>
    value === undefined || value === null ? {} : { [key]: value };
  return {
    id: row.id,
    status: row.status as TaskStatus,
    project: row.project,
    ...optional('key', row.keyPrefix),
    ...optional('member', row.member),
    ...optional('request', row.request),
    ...optional('planner', row.planner),
    createdAt: iso(row.createdAt)!,
    ...optional('startedAt', iso(row.startedAt)),
    ...optional('finishedAt', iso(row.finishedAt)),
    ...optional('durationMs', span(row.startedAt, row.finishedAt)),
    ...optional('error', row.error),
    steps: steps.map((step) => stepView(stepStateOf(step), withResults)),
    ...(withResults && row.plan ? { plan: parseJson(row.plan) as Plan } : {}),
  };
}
