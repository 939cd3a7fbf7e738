import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import { NotJson, type Model, type ModelMessage } from './model.js';
import { planJsonSchema } from './plan.js';
import type { ValidatedPlan } from './validate.js';

/** A tool as the planner is shown it: what a caller may reach, with the server it belongs to. */
export interface PlannerTool {
  server: string;
  tool: Tool;
}

export interface PlanOptions {
  request: string;
  tools: PlannerTool[];
  model: Model;
  /** Checks a plan the model proposed (throws INVALID_PLAN with its errors). */
  validate: (plan: unknown) => ValidatedPlan;
  /** Times an invalid plan is sent back with its errors. */
  repairs: number;
  /** Whether llm steps are allowed in this task. */
  llmSteps: boolean;
  signal: AbortSignal;
}

function toolLines(tools: PlannerTool[]): string {
  return tools
    .map(({ server, tool }) =>
      JSON.stringify({ server, tool: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema }),
    )
    .join('\n');
}

function systemPrompt(tools: PlannerTool[], llmSteps: boolean): string {
  return `You plan tool calls for mcp-orch, a gateway in front of MCP servers. Turn the user's task into a plan:
a JSON object {"steps": [...]} whose steps run in parallel wherever they do not depend on each other.

Step types:
- {"type": "tool", "id": "repos", "server": "...", "tool": "...", "arguments": {...}}: one call of a tool listed below.
- {"type": "map", "id": "issues", "over": "\${steps.repos.result.items}", "server": "...", "tool": "...",
   "arguments": {"repo": "\${item.name}"}}: the tool once per element of an earlier step's list ("\${index}" is the position).
${llmSteps ? '- {"type": "llm", "id": "report", "prompt": "Summarise: ${steps.issues.result}", "output": "text" | "json"}: a text or JSON made from earlier results.\n' : ''}
References: "\${steps.ID.result}" is the result of step ID (a tool's structured content, or its text parsed as
JSON when it is JSON, or its text); follow paths with .name, [0] or ["key"]. A string that is exactly one
reference becomes that value; inside other text it is written in. A step runs after every step it refers to.
Optional per step: "needs": [ids] (extra ordering), "when": "\${steps.ID.result.ok}" (run only if truthy),
"timeout": seconds, "retries": 0-5.

Use only these tools (one JSON object per line), with arguments that follow their input schemas:
${toolLines(tools)}`;
}

function problemsOf(error: unknown): string[] | undefined {
  if (error instanceof NotJson) return [error.message];
  if (error instanceof OrchError && error.code === 'INVALID_PLAN') return (error.data?.errors as string[] | undefined) ?? [error.message];
  return undefined;
}

/**
 * Asks the model for a plan and validates it; an invalid one goes back to the model with its
 * errors, at most `repairs` times, then the planning fails naming what was still wrong.
 */
export async function planRequest(options: PlanOptions): Promise<{ validated: ValidatedPlan; repairs: number }> {
  const system = systemPrompt(options.tools, options.llmSteps);
  const messages: ModelMessage[] = [{ role: 'user', content: options.request }];
  const schema = planJsonSchema();
  for (let repair = 0; ; repair++) {
    let problems: string[];
    let answer = '';
    try {
      const generated = await options.model.generate({ system, messages, schema, signal: options.signal });
      answer = generated.text;
      return { validated: options.validate(generated.json), repairs: repair };
    } catch (error) {
      const found = problemsOf(error);
      if (!found) {
        if (error instanceof OrchError) throw error;
        throw new OrchError('PLANNER_FAILED', `the planner (${options.model.label}) failed: ${(error as Error).message}`, {
          hint: 'check orch.llm (provider, model, endpoint, key) and that the model is reachable',
          cause: error,
        });
      }
      problems = found;
      if (error instanceof NotJson) answer = error.text;
    }
    if (repair >= options.repairs) {
      throw new OrchError(
        'PLANNER_FAILED',
        `the planner (${options.model.label}) gave no valid plan after ${repair} repair${repair === 1 ? '' : 's'}: ${problems.join('; ')}`,
        { hint: 'say the task more precisely, or give a plan yourself ("plan" instead of "request")', data: { errors: problems } },
      );
    }
    messages.push(
      { role: 'assistant', content: answer || '(no answer)' },
      { role: 'user', content: `That plan is not valid:\n- ${problems.join('\n- ')}\nAnswer with the whole corrected plan.` },
    );
  }
}
