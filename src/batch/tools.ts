import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { OrchError } from '../errors.js';
import type { OwnTool, OwnToolContext } from '../gateway/ownTools.js';
import { executeRequestSchema, planSchema, plannerSchema } from './plan.js';
import type { BatchService, Origin } from './service.js';
import type { TaskView } from './views.js';

/** The arguments as clients see them documented: the plan with its full schema. */
const runPlanArguments = z.object({
  plan: planSchema.optional().describe('the plan to run; or give "request"'),
  request: z.string().optional().describe('the task in words, for the planner; or give "plan"'),
  planner: plannerSchema.default('server').describe('"client": plan (and run llm steps) with your own model through sampling'),
  dryRun: z.boolean().default(false),
});
const planArguments = z.object({ request: z.string().min(1), planner: plannerSchema.default('server') });

const inputSchema = (schema: z.ZodType): { type: 'object'; [key: string]: unknown } =>
  z.toJSONSchema(schema, { io: 'input' }) as { type: 'object'; [key: string]: unknown };

function answer(value: unknown, isError = false): CallToolResult {
  return {
    content: [{ type: 'text', text: JSON.stringify(value, null, 2) }],
    structuredContent: value as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}

function parse<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'arguments'}: ${issue.message}`);
  throw new OrchError('INVALID_PARAMS', `invalid arguments: ${problems.join('; ')}`);
}

const originOf = (context: OwnToolContext): Origin => ({
  principal: context.caller.principal,
  address: context.caller.address,
  client: context.caller.client,
  peer: context.peer,
});

/** Runs a task to its end for an MCP call: progress after each step, cancelled with the call. */
async function runToEnd(batch: BatchService, context: OwnToolContext, task: TaskView): Promise<CallToolResult> {
  const { principal } = context.caller;
  const total = (): number => batch.status(principal, task.id).steps.length;
  let finished = 0;
  const { stop } = batch.follow(principal, task.id, (event) => {
    if (event.type === 'step' && !['pending', 'running'].includes(event.step.status)) {
      finished++;
      context.progress({ progress: finished, total: total(), message: `step ${event.step.id} ${event.step.status}` });
    }
  });
  const onAbort = (): void => void batch.cancel(principal, task.id).catch(() => undefined);
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const result = await batch.wait(principal, task.id);
    return answer(result, result.status !== 'succeeded');
  } finally {
    stop?.();
    context.signal.removeEventListener('abort', onAbort);
  }
}

/** `mcp-orch__plan` and `mcp-orch__run_plan`: batch tasks from any MCP client on the unified endpoint. */
export function batchTools(batch: BatchService): OwnTool[] {
  return [
    {
      name: 'plan',
      definition: {
        title: 'Plan tool calls',
        description:
          'Turns a task in words into a plan of tool calls across the servers behind this gateway, validated against ' +
          'the tools your key may call, for review; nothing runs. Run it with mcp-orch__run_plan.',
        inputSchema: inputSchema(planArguments),
        annotations: { readOnlyHint: true },
      },
      async call(args, context) {
        const { request, planner } = parse(planArguments, args);
        const validated = await batch.plan(originOf(context), request, planner, context.signal);
        return answer({ plan: validated.plan, order: validated.order });
      },
    },
    {
      name: 'run_plan',
      definition: {
        title: 'Run a plan of tool calls',
        description:
          'Runs a plan of tool calls (or plans a task in words first), independent steps in parallel, and answers ' +
          'every step\'s result in one round trip, with progress after each step. References: "${steps.ID.result.path}"; ' +
          'in a map step "${item}" and "${index}".',
        inputSchema: inputSchema(runPlanArguments),
      },
      async call(args, context) {
        const body = parse(executeRequestSchema, args);
        const submitted = await batch.submit(originOf(context), body);
        if ('dryRun' in submitted) return answer(submitted);
        return runToEnd(batch, context, submitted);
      },
    },
  ];
}
