import { readFileSync } from 'node:fs';
import process from 'node:process';
import type { Command } from 'commander';
import { createParser } from 'eventsource-parser';
import type { StepView, TaskView } from '../batch/views.js';
import { OrchError } from '../errors.js';
import { colorsFor, type Colors } from './colors.js';
import { daemonOptions, withDaemon, type DaemonClient } from './daemonClient.js';
import type { DaemonOptions } from './findDaemon.js';
import { clip, printJson, table } from './output.js';

type BatchOptions = DaemonOptions & { json?: boolean; project?: string };
type RunOptions = BatchOptions & { plan?: string; dryRun?: boolean; wait: boolean };

/** The batch API of the project the options name, reached with the admin token (as the owner of the data dir). */
const base = (options: BatchOptions): string => (options.project ? `/projects/${encodeURIComponent(options.project)}/batch` : '/api/batch');

function paintStatus(colors: Colors, status: string): string {
  if (status === 'succeeded') return colors.green(status);
  if (status === 'failed' || status === 'interrupted') return colors.red(status);
  if (status === 'running' || status === 'planning' || status === 'pending') return colors.yellow(status);
  return colors.gray(status);
}

const seconds = (ms: number | undefined): string =>
  ms === undefined ? '' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;

function stepRows(colors: Colors, steps: StepView[], withResults: boolean): string {
  const rows = steps.map((step) => [
    step.id,
    step.type,
    paintStatus(colors, step.status),
    step.attempts,
    seconds(step.durationMs),
    clip(step.error ?? (withResults && step.result !== undefined ? JSON.stringify(step.result) : ''), 80),
  ]);
  return table(['step', 'type', 'status', 'calls', 'time', withResults ? 'result / error' : 'error'], rows);
}

function printTask(task: TaskView, withResults: boolean): void {
  const colors = colorsFor(process.stdout);
  const head = `task ${task.id}  ${paintStatus(colors, task.status)}${task.durationMs === undefined ? '' : `  in ${seconds(task.durationMs)}`}`;
  const lines = [head, ...(task.request ? [`request: ${task.request}`] : []), ...(task.error ? [`error: ${task.error}`] : [])];
  process.stdout.write(`${lines.join('\n')}\n${task.steps.length ? `${stepRows(colors, task.steps, withResults)}\n` : ''}`);
}

/** A step's change as one line of the live display. */
function printStep(colors: Colors, step: StepView): void {
  const mark = step.status === 'succeeded' ? colors.green('✓') : step.status === 'running' ? colors.yellow('▸') : colors.red('✗');
  if (step.status === 'pending') return;
  const detail = step.status === 'running' ? '' : `  ${seconds(step.durationMs)}${step.error ? `  ${step.error}` : ''}`;
  process.stderr.write(`  ${mark} ${step.id} ${paintStatus(colors, step.status)}${detail}\n`);
}

/** Follows a task's events until `done`, printing each step's change on stderr. */
async function follow(client: DaemonClient, options: BatchOptions, id: string): Promise<void> {
  const response = await client.fetch(`${base(options)}/events/${encodeURIComponent(id)}`);
  if (!response.ok || !response.body) return;
  const colors = colorsFor(process.stderr);
  let done = false;
  // A step's calls (a map's elements, retries) each update it: "running" is shown once.
  const running = new Set<string>();
  const parser = createParser({
    onEvent: (event) => {
      if (event.event === 'step') {
        const step = JSON.parse(event.data) as StepView;
        if (step.status === 'running' && running.has(step.id)) return;
        running.add(step.id);
        printStep(colors, step);
      }
      if (event.event === 'task') process.stderr.write(`task ${id} ${paintStatus(colors, (JSON.parse(event.data) as TaskView).status)}\n`);
      if (event.event === 'done') done = true;
    },
  });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (done) break;
    }
  } catch {
    // the daemon went away: the result request below says so
  }
}

async function run(client: DaemonClient, options: RunOptions, words: string[]): Promise<void> {
  const request = words.join(' ').trim();
  if (!request === !options.plan) {
    throw new OrchError('BAD_REQUEST', 'give a task in words or --plan FILE, not both or neither', {
      hint: 'mcp-orch batch run "list the open issues" or mcp-orch batch run --plan plan.json',
    });
  }
  let plan: unknown;
  if (options.plan) {
    try {
      plan = JSON.parse(readFileSync(options.plan, 'utf8'));
    } catch (error) {
      throw new OrchError('BAD_REQUEST', `--plan ${options.plan}: ${(error as Error).message}`, { hint: 'the file must hold a JSON plan' });
    }
  }
  const body = { ...(plan === undefined ? { request } : { plan }), dryRun: options.dryRun ?? false };
  const submitted = await client.request<TaskView | { dryRun: true; order: string[][] }>('POST', `${base(options)}/execute`, body);
  if ('dryRun' in submitted) {
    if (options.json) return printJson(submitted);
    process.stdout.write(`${JSON.stringify(submitted, null, 2)}\n`);
    return;
  }
  if (!options.wait) return options.json ? printJson(submitted) : printTask(submitted, false);
  if (!options.json) process.stderr.write(`task ${submitted.id} ${submitted.status} (Ctrl-C cancels it)\n`);
  const cancel = (): void => {
    process.stderr.write(`cancelling ${submitted.id}…\n`);
    void client.request('DELETE', `${base(options)}/cancel/${submitted.id}`).catch(() => undefined);
  };
  process.once('SIGINT', cancel);
  try {
    await follow(client, options, submitted.id);
  } finally {
    process.off('SIGINT', cancel);
  }
  const result = await client.request<TaskView>('GET', `${base(options)}/result/${submitted.id}`);
  if (options.json) printJson(result);
  else {
    printTask(result, true);
    const last = result.steps.at(-1);
    if (last?.result !== undefined) {
      process.stdout.write(`\n${last.id}:\n${typeof last.result === 'string' ? last.result : JSON.stringify(last.result, null, 2)}\n`);
    }
  }
  if (result.status !== 'succeeded') process.exitCode = 1;
}

const show =
  (what: 'status' | 'result' | 'cancel') =>
  async (client: DaemonClient, options: BatchOptions, id: string): Promise<void> => {
    const path = `${base(options)}/${what}/${encodeURIComponent(id)}`;
    const task = await client.request<TaskView>(what === 'cancel' ? 'DELETE' : 'GET', path);
    if (options.json) return printJson(task);
    printTask(task, what === 'result');
    if (what === 'result')
      for (const step of task.steps)
        if (step.result !== undefined) process.stdout.write(`\n${step.id}:\n${JSON.stringify(step.result, null, 2)}\n`);
  };

async function list(client: DaemonClient, options: BatchOptions & { limit: string }): Promise<void> {
  const { tasks } = await client.request<{ tasks: TaskView[] }>('GET', `${base(options)}?limit=${encodeURIComponent(options.limit)}`);
  if (options.json) return printJson(tasks);
  const colors = colorsFor(process.stdout);
  const rows = tasks.map((task) => [
    task.id,
    paintStatus(colors, task.status),
    task.createdAt,
    seconds(task.durationMs),
    clip(task.request ?? '(plan)', 50),
  ]);
  process.stdout.write(`${tasks.length ? table(['task', 'status', 'created', 'time', 'request'], rows) : 'no batch tasks yet'}\n`);
}

const EXAMPLES = `
Examples:
  $ mcp-orch batch run --plan plan.json              # run a plan, steps shown as they finish
  $ mcp-orch batch run "summarise the open issues"   # plan with orch.llm first
  $ mcp-orch batch run --plan plan.json --dry-run    # validate; print the order of execution
  $ mcp-orch batch list
  $ mcp-orch batch result ID --json

A plan is {"steps": [...]}: "tool" steps (server, tool, arguments), "map" steps (a tool per element of
an earlier result: "over": "\${steps.ID.result.items}", "\${item}" in the arguments) and "llm" steps
(a prompt over earlier results). "\${steps.ID.result.path}" refers to an earlier step's result.
The README's "Batch" section has a worked example.`;

export function registerBatchCommands(program: Command): void {
  const batch = program
    .command('batch')
    .description('plans of tool calls run in parallel across servers: run, status, result, cancel, list')
    .addHelpText('after', EXAMPLES);
  const common = (command: Command): Command =>
    daemonOptions(command)
      .option('--project <slug>', 'the project the task runs in (default: the default project)')
      .option('--json', 'print JSON');
  common(batch.command('run'))
    .description('run a plan (--plan FILE) or a task in words (planned by orch.llm); shows each step as it finishes')
    .argument('[request...]', 'the task in words')
    .option('--plan <file>', 'a JSON plan to run instead')
    .option('--dry-run', 'validate and print the plan and its order of execution; run nothing')
    .option('--no-wait', 'print the task id and return at once')
    .action(withDaemon(run));
  common(batch.command('status'))
    .description("a task's status and steps")
    .argument('<id>')
    .action(withDaemon(show('status')));
  common(batch.command('result'))
    .description("a task's steps with their results")
    .argument('<id>')
    .action(withDaemon(show('result')));
  common(batch.command('cancel'))
    .description('cancel a running task')
    .argument('<id>')
    .action(withDaemon(show('cancel')));
  common(batch.command('list'))
    .description('recent tasks, newest first')
    .option('-n, --limit <n>', 'how many', '20')
    .action(withDaemon(list));
}
