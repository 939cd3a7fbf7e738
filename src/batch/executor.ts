import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LlmStep, MapStep, Step } from './plan.js';
import { describeError, isRetryable, StepTimeout, toolErrorText, valueOf } from './outcome.js';
import { evaluate, parseCondition, RefError, resolveString, resolveValue, soleRef, truthy, type Scope } from './refs.js';
import { Semaphore } from './semaphore.js';
import type { ValidatedPlan } from './validate.js';

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'interrupted';
export type TaskOutcome = 'succeeded' | 'failed' | 'cancelled';

/** A step as it stands: what status, result and error the task's readers see. */
export interface StepState {
  id: string;
  type: Step['type'];
  status: StepStatus;
  /** Calls made, retries included (for a map step: all of its items' calls). */
  attempts: number;
  startedAt?: number | undefined;
  finishedAt?: number | undefined;
  result?: unknown;
  error?: string | undefined;
}

/** How a step reaches the world: the gateway's forwarding path, and a model. */
export interface StepCalls {
  callTool(server: string, tool: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  llm(
    step: { prompt: string; output: LlmStep['output']; schema?: Record<string, unknown> | undefined },
    signal: AbortSignal,
  ): Promise<unknown>;
}

export interface ExecuteOptions {
  validated: ValidatedPlan;
  calls: StepCalls;
  /** Calls of this task at once. */
  maxParallel: number;
  /** A server's own limit on calls at once, shared by every task. */
  serverSlots: (server: string) => Semaphore;
  /** Elements a map step may run over. */
  maxMapItems: number;
  /** The largest result a step may keep, as JSON. */
  maxResultBytes: number;
  /** Aborting it cancels the task: waiting steps do not start, running calls are cancelled upstream. */
  signal: AbortSignal;
  /** Told of every change of a step. */
  onStep: (state: StepState) => void;
  clock?: () => number;
  /** The first retry's delay; each further one doubles it (with jitter), up to 30 times it. */
  retryBaseMs?: number;
}

const TERMINAL: ReadonlySet<StepStatus> = new Set(['succeeded', 'failed', 'skipped', 'cancelled', 'interrupted']);

class StepFailure extends Error {}

/** Waits `ms`, or rejects when the signal aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs a validated plan: every step whose dependencies have finished starts at once, and its calls
 * wait for a place among the task's `maxParallel` and the server's own limit. A step's failure fails
 * its dependants and nothing else, unless the plan says stopOnError. Resolves when every step has
 * finished, with the task's outcome; the steps' states went to `onStep` as they changed.
 */
export async function execute(options: ExecuteOptions): Promise<{ outcome: TaskOutcome; steps: StepState[] }> {
  const { plan, deps } = options.validated;
  const clock = options.clock ?? Date.now;
  const retryBaseMs = options.retryBaseMs ?? 250;
  const taskSlots = new Semaphore(Math.min(plan.maxParallel ?? options.maxParallel, options.maxParallel));
  const stop = new AbortController();
  const taskSignal = AbortSignal.any([options.signal, stop.signal]);
  const states = new Map<string, StepState>(
    plan.steps.map((step) => [step.id, { id: step.id, type: step.type, status: 'pending', attempts: 0 }]),
  );
  const results = new Map<string, unknown>();

  const update = (id: string, change: Partial<StepState>): void => {
    const state = Object.assign(states.get(id)!, change);
    options.onStep({ ...state });
  };
  const finish = (id: string, status: StepStatus, change: Partial<StepState> = {}): void =>
    update(id, { status, finishedAt: clock(), ...change });

  const scope = (extra: Partial<Scope> = {}): Scope => ({
    result: (id) => {
      if (!results.has(id)) throw new RefError(`step "${id}" has no result (it ${states.get(id)?.status ?? 'does not exist'})`);
      return results.get(id);
    },
    ...extra,
  });

  /** One call with its retries, holding a place of the task and of the server while it runs. */
  const attempt = async <T>(
    id: string,
    server: string | undefined,
    step: Step,
    run: (signal: AbortSignal) => Promise<T>,
    signal: AbortSignal = taskSignal,
  ): Promise<T> => {
    for (let retry = 0; ; retry++) {
      const releaseTask = await taskSlots.acquire(signal);
      let releaseServer: (() => void) | undefined;
      try {
        releaseServer = server === undefined ? undefined : await options.serverSlots(server).acquire(signal);
        update(id, { attempts: states.get(id)!.attempts + 1 });
        const timeout = step.timeout === undefined ? undefined : AbortSignal.timeout(step.timeout * 1000);
        try {
          return await run(timeout ? AbortSignal.any([signal, timeout]) : signal);
        } catch (error) {
          if (timeout?.aborted && !signal.aborted) throw new StepTimeout(step.timeout!);
          throw error;
        }
      } catch (error) {
        if (signal.aborted || retry >= (step.retries ?? 0) || !isRetryable(error)) throw error;
      } finally {
        releaseServer?.();
        releaseTask();
      }
      const backoff = Math.min(retryBaseMs * 2 ** retry, retryBaseMs * 30);
      await delay(backoff * (0.8 + Math.random() * 0.4), signal);
    }
  };

  const callTool = async (id: string, step: Extract<Step, { server: string }>, args: unknown, within = taskSignal): Promise<unknown> => {
    const result = await attempt(
      id,
      step.server,
      step,
      (callSignal) => options.calls.callTool(step.server, step.tool, args as Record<string, unknown>, callSignal),
      within,
    );
    if (result.isError === true) throw new StepFailure(toolErrorText(result));
    return valueOf(result);
  };

  const runMap = async (step: MapStep): Promise<unknown[]> => {
    const list = evaluate(soleRef(step.over)!, scope());
    if (!Array.isArray(list)) throw new StepFailure(`over: "${step.over}" is ${list === null ? 'null' : typeof list}, not a list`);
    if (list.length > options.maxMapItems) {
      throw new StepFailure(`over: ${list.length} elements, more than orch.batch.maxMapItems (${options.maxMapItems})`);
    }
    const items = new Semaphore(Math.max(1, step.concurrency ?? list.length));
    // The first element that fails ends the step: the others' calls are cancelled.
    const failed = new AbortController();
    const within = AbortSignal.any([taskSignal, failed.signal]);
    return Promise.all(
      list.map(async (item, index) => {
        const release = await items.acquire(within);
        try {
          return await callTool(step.id, step, resolveValue(step.arguments, scope({ item, index })), within);
        } catch (error) {
          failed.abort();
          throw new StepFailure(`item ${index}: ${describeError(error)}`);
        } finally {
          release();
        }
      }),
    );
  };

  const runStep = async (step: Step): Promise<unknown> => {
    switch (step.type) {
      case 'tool':
        return callTool(step.id, step, resolveValue(step.arguments, scope()));
      case 'map':
        return runMap(step);
      case 'llm': {
        const prompt = String(resolveString(step.prompt, scope()));
        return attempt(step.id, undefined, step, (callSignal) =>
          options.calls.llm({ prompt, output: step.output, schema: step.schema }, callSignal),
        );
      }
    }
  };

  const run = async (step: Step): Promise<void> => {
    update(step.id, { status: 'running', startedAt: clock() });
    try {
      const value = await runStep(step);
      const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
      if (bytes > options.maxResultBytes) {
        throw new StepFailure(`the result has ${bytes} bytes, more than orch.batch.maxResultBytes (${options.maxResultBytes})`);
      }
      results.set(step.id, value);
      finish(step.id, 'succeeded', { result: value });
    } catch (error) {
      if (taskSignal.aborted) {
        finish(step.id, 'cancelled', { error: options.signal.aborted ? 'the task was cancelled' : 'stopped: another step failed' });
        return;
      }
      finish(step.id, 'failed', { error: describeError(error) });
      if (plan.stopOnError) stop.abort(new Error('stopOnError'));
    }
  };

  /** What a pending step whose dependencies have all finished does: run, or finish without running. */
  const decide = (step: Step): 'run' | 'done' => {
    if (taskSignal.aborted) {
      finish(step.id, 'cancelled', { error: options.signal.aborted ? 'the task was cancelled' : 'stopped: another step failed' });
      return 'done';
    }
    for (const dep of deps.get(step.id) ?? []) {
      const status = states.get(dep)!.status;
      if (status === 'failed' || status === 'cancelled') {
        finish(step.id, 'failed', { error: `not run: it needs step "${dep}", which ${status === 'failed' ? 'failed' : 'was cancelled'}` });
        return 'done';
      }
      if (status === 'skipped') {
        finish(step.id, 'skipped', { error: `not run: it needs step "${dep}", which was skipped` });
        return 'done';
      }
    }
    if (step.when !== undefined) {
      try {
        const { ref, negated } = parseCondition(step.when);
        if (truthy(evaluate(ref, scope())) === negated) {
          finish(step.id, 'skipped', { error: `not run: when "${step.when}" is false` });
          return 'done';
        }
      } catch (error) {
        finish(step.id, 'failed', { error: `when: ${describeError(error)}` });
        return 'done';
      }
    }
    return 'run';
  };

  await new Promise<void>((resolve) => {
    let running = 0;
    const launch = (): void => {
      let progressed = true;
      while (progressed) {
        progressed = false;
        for (const step of plan.steps) {
          if (states.get(step.id)!.status !== 'pending') continue;
          if (![...(deps.get(step.id) ?? [])].every((dep) => TERMINAL.has(states.get(dep)!.status))) continue;
          progressed = true;
          if (decide(step) === 'done') continue;
          running++;
          void run(step).finally(() => {
            running--;
            launch();
          });
        }
      }
      if (running === 0) resolve();
    };
    // A cancel reaches pending steps at once, without waiting for a running one to finish.
    taskSignal.addEventListener('abort', launch, { once: true });
    launch();
  });

  const steps = plan.steps.map((step) => ({ ...states.get(step.id)! }));
  const outcome: TaskOutcome = options.signal.aborted
    ? 'cancelled'
    : steps.some((step) => step.status === 'failed')
      ? 'failed'
      : 'succeeded';
  return { outcome, steps };
}
