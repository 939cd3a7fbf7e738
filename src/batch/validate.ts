import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { JsonSchemaType, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { z } from 'zod';
import { OrchError } from '../errors.js';
import { planSchema, type Plan, type Step } from './plan.js';
import { parseCondition, RefError, refsIn, refsInValue, soleRef, type Ref } from './refs.js';

/** A tool as the caller may call it, or why it may not (unknown server or tool, outside the key, role). */
export type ToolLookup = (server: string, tool: string) => { tool: Tool } | { error: string };

export interface ValidateOptions {
  lookup: ToolLookup;
  validator: jsonSchemaValidator;
  maxSteps: number;
  maxParallel: number;
  /** Why llm steps cannot run for this task (no model configured, no sampling), or undefined when they can. */
  llmUnavailable: string | undefined;
}

/** A plan that passed every check, and the order its steps can run in: each wave needs only earlier ones. */
export interface ValidatedPlan {
  plan: Plan;
  order: string[][];
  /** The steps each step waits for: those it refers to and those it names in `needs`. */
  deps: Map<string, Set<string>>;
}

/** Every problem of a plan, each naming its step and field: what a person or a planner model needs to fix it. */
export function invalidPlan(errors: string[]): OrchError {
  return new OrchError('INVALID_PLAN', `the plan is not valid: ${errors.join('; ')}`, {
    hint: 'fix the steps named above; nothing was run',
    data: { errors },
  });
}

function zodErrors(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'plan'}: ${issue.message}`);
}

/** The references of a step and where each appears, or the errors of malformed ones. */
function stepRefs(step: Step, errors: string[]): Ref[] {
  const where = `steps.${step.id}`;
  const collect = (field: string, read: () => Ref[]): Ref[] => {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof RefError)) throw error;
      errors.push(`${where}.${field}: ${error.message}`);
      return [];
    }
  };
  const refs: Ref[] = [];
  if (step.when !== undefined) refs.push(...collect('when', () => [parseCondition(step.when!).ref]));
  if (step.type === 'llm') {
    refs.push(...collect('prompt', () => refsIn(step.prompt)));
  } else {
    refs.push(...collect('arguments', () => refsInValue(step.arguments)));
  }
  if (step.type === 'map') {
    const over = collect('over', () => {
      const ref = soleRef(step.over);
      if (ref?.kind !== 'step') throw new RefError(`expected one reference to an earlier step's list, such as "\${steps.ID.result.items}"`);
      return [ref];
    });
    refs.push(...over);
  }
  for (const ref of refs) {
    if (ref.kind !== 'step' && step.type !== 'map') errors.push(`${where}: \${${ref.text}} is allowed only in a map step's arguments`);
  }
  return refs;
}

/** Top-level arguments with no reference in them: what can be checked against the tool's input schema now. */
function checkArguments(step: Extract<Step, { type: 'tool' | 'map' }>, tool: Tool, options: ValidateOptions, errors: string[]): void {
  const filled = Object.keys(step.arguments).filter((key) => refsInValue(step.arguments[key]).length > 0);
  const literal = Object.fromEntries(Object.entries(step.arguments).filter(([key]) => !filled.includes(key)));
  const schema = tool.inputSchema as JsonSchemaType & { required?: string[] };
  const partial = { ...schema, ...(schema.required ? { required: schema.required.filter((key) => !filled.includes(key)) } : {}) };
  const result = options.validator.getValidator(partial)(literal);
  if (!result.valid) errors.push(`steps.${step.id}.arguments: ${result.errorMessage} (input schema of ${step.server}/${step.tool})`);
}

/** One cycle among `remaining`, as "a -> b -> a". */
function findCycle(remaining: Set<string>, deps: Map<string, Set<string>>): string {
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (id: string): string | undefined => {
    if (onPath.has(id)) return [...path.slice(path.indexOf(id)), id].join(' -> ');
    onPath.add(id);
    path.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!remaining.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    onPath.delete(id);
    path.pop();
    return undefined;
  };
  return visit([...remaining][0]!) ?? [...remaining].join(', ');
}

/** Waves of steps in dependency order (Kahn), or the error naming a cycle. */
function orderOf(steps: Step[], deps: Map<string, Set<string>>, errors: string[]): string[][] {
  const remaining = new Set(steps.map((step) => step.id));
  const order: string[][] = [];
  while (remaining.size > 0) {
    const wave = [...remaining].filter((id) => [...(deps.get(id) ?? [])].every((dep) => !remaining.has(dep)));
    if (wave.length === 0) {
      errors.push(`the steps form a cycle: ${findCycle(remaining, deps)}`);
      return order;
    }
    for (const id of wave) remaining.delete(id);
    order.push(wave);
  }
  return order;
}

function stepDeps(refs: Ref[]): string[] {
  return refs.flatMap((ref) => (ref.kind === 'step' ? [ref.step] : []));
}

/**
 * Checks a plan before anything runs: its shape (zod), unique ids, references to steps that exist,
 * no cycles, servers and tools that exist and the caller's key reaches, arguments that fit each
 * tool's input schema where no reference fills them, and limits. Throws INVALID_PLAN with every error.
 */
export function validatePlan(input: unknown, options: ValidateOptions): ValidatedPlan {
  const parsed = planSchema.safeParse(input);
  if (!parsed.success) throw invalidPlan(zodErrors(parsed.error));
  const plan = parsed.data;
  const errors: string[] = [];
  if (plan.steps.length > options.maxSteps)
    errors.push(`plan: ${plan.steps.length} steps, more than orch.batch.maxSteps (${options.maxSteps})`);
  if (plan.maxParallel !== undefined && plan.maxParallel > options.maxParallel) {
    errors.push(`plan.maxParallel: ${plan.maxParallel} is above orch.batch.maxParallel (${options.maxParallel})`);
  }
  const ids = new Set<string>();
  for (const step of plan.steps) {
    if (ids.has(step.id)) errors.push(`steps.${step.id}: the id is used by another step`);
    ids.add(step.id);
  }
  const deps = new Map<string, Set<string>>();
  for (const step of plan.steps) {
    const mine = new Set([...(step.needs ?? []), ...stepDeps(stepRefs(step, errors))]);
    for (const dep of mine) {
      if (dep === step.id) errors.push(`steps.${step.id}: refers to itself`);
      else if (!ids.has(dep)) errors.push(`steps.${step.id}: refers to step "${dep}", which the plan does not have`);
    }
    deps.set(step.id, mine);
    if (step.type === 'llm') {
      if (options.llmUnavailable) errors.push(`steps.${step.id}: llm steps cannot run here: ${options.llmUnavailable}`);
      if (step.schema && step.output !== 'json') errors.push(`steps.${step.id}.schema: needs "output": "json"`);
      continue;
    }
    const found = options.lookup(step.server, step.tool);
    if ('error' in found) errors.push(`steps.${step.id}: ${found.error}`);
    else checkArguments(step, found.tool, options, errors);
  }
  // Cycles are looked for among the steps that exist, so that they are reported beside any other error.
  const known = new Map([...deps].map(([id, mine]) => [id, new Set([...mine].filter((dep) => ids.has(dep) && dep !== id))]));
  const order = orderOf(plan.steps, known, errors);
  if (errors.length) throw invalidPlan(errors);
  return { plan, order, deps: known };
}
