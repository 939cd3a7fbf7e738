import { randomUUID } from 'node:crypto';
import type { CallToolResult, Implementation } from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Access } from '../auth/access.js';
import type { Principal } from '../auth/policy.js';
import type { BatchSettings, LlmSettings } from '../config/batchSchema.js';
import type { SecretResolver } from '../config/secrets.js';
import { OrchError } from '../errors.js';
import type { Caller } from '../gateway/caller.js';
import type { Forwarder } from '../gateway/forward.js';
import { namespacedName } from '../gateway/naming.js';
import type { Peer } from '../gateway/serverRequests.js';
import type { View } from '../gateway/view.js';
import type { Logger } from '../log.js';
import type { BatchRepo, TaskRow } from '../store/batchTasks.js';
import { BatchCatalog } from './catalog.js';
import { execute, type StepState } from './executor.js';
import { providerModel, samplingModel, type Model } from './model.js';
import type { ExecuteRequest, Planner } from './plan.js';
import { planRequest } from './planner.js';
import { Semaphore } from './semaphore.js';
import { validatePlan, type ValidatedPlan } from './validate.js';
import { FINISHED, stepRow, stepView, taskView, type DryRun, type TaskEvent, type TaskView } from './views.js';

export interface BatchServiceDeps {
  forwarder: Forwarder;
  /** The unified view: every server, namespaced, as steps are routed. */
  view: () => View;
  access: Access;
  repo: BatchRepo;
  /** orch.batch and orch.llm as they are now (a reload changes them for the next task). */
  settings: () => { batch: BatchSettings; llm: LlmSettings | undefined };
  separator: string;
  /** Fills in `${secret:NAME}` of orch.llm. */
  secrets: () => SecretResolver | undefined;
  validator: jsonSchemaValidator;
  logger: Logger;
  clock?: () => number;
}

/** Who submitted a task and how: the principal it runs as, and the MCP client it came from, if any. */
export interface Origin {
  principal: Principal;
  address?: string | undefined;
  client?: Implementation | undefined;
  /** The MCP client, for `planner: "client"` (sampling) and the server->client requests of steps. */
  peer?: Peer | undefined;
}

interface Active {
  principal: Principal;
  controller: AbortController;
  listeners: Set<(event: TaskEvent) => void>;
  done: Promise<void>;
}

/** No client to ask: what a step's server->client request (sampling, elicitation) gets from a REST task. */
const NO_PEER: Peer = {
  capabilities: () => undefined,
  request: () => Promise.reject(new OrchError('CLIENT_REQUEST_REFUSED', 'a batch task submitted over REST has no client to ask')),
};

const keyOf = (principal: Principal): string => (principal.keyId === undefined ? `local:${principal.project}` : `key:${principal.keyId}`);

/**
 * Batch tasks: plans (given, or made by a planner model) validated against what the caller may
 * call, run by the executor with every step on the gateway's one forwarding path as the caller,
 * stored as they go so that status and results outlive the daemon, and cancellable.
 */
export class BatchService {
  private readonly active = new Map<string, Active>();
  private readonly serverSlots = new Map<string, Semaphore>();
  private readonly catalog: BatchCatalog;
  private readonly log: Logger;
  private readonly clock: () => number;
  private closing = false;

  constructor(private readonly deps: BatchServiceDeps) {
    this.catalog = new BatchCatalog(deps.view, deps.access);
    this.log = deps.logger.child({ component: 'batch' });
    this.clock = deps.clock ?? Date.now;
  }

  /** Tasks a daemon that is gone left running are marked interrupted, never left running. */
  start(): void {
    const interrupted = this.deps.repo.interruptUnfinished(this.clock());
    if (interrupted > 0) this.log.warn({ tasks: interrupted }, 'tasks left running by a stopped daemon marked interrupted');
  }

  /** The model of a task, or why there is none: the configured one, or the client's through sampling. */
  private model(planner: Planner, peer: Peer | undefined): { model: Model } | { unavailable: string } {
    const { llm } = this.deps.settings();
    if (planner === 'client') {
      if (peer?.capabilities()?.sampling) return { model: samplingModel(peer, llm?.maxOutputTokens ?? 8192) };
      return {
        unavailable:
          'planner "client" uses the MCP client\'s model through sampling: call mcp-orch__run_plan from a client that declares sampling',
      };
    }
    if (!llm)
      return { unavailable: 'no model is configured: set orch.llm (provider, model, key), or use planner "client" from an MCP client' };
    return { model: providerModel(llm, this.deps.secrets()) };
  }

  private validate(principal: Principal, plan: unknown, model: ReturnType<BatchService['model']>): ValidatedPlan {
    const { batch } = this.deps.settings();
    return validatePlan(plan, {
      lookup: this.catalog.lookup(principal),
      validator: this.deps.validator,
      maxSteps: batch.maxSteps,
      maxParallel: batch.maxParallel,
      llmUnavailable: 'unavailable' in model ? model.unavailable : undefined,
    });
  }

  /** A plan for a request in words, validated, for review: nothing runs. */
  async plan(origin: Origin, request: string, planner: Planner, signal: AbortSignal): Promise<ValidatedPlan> {
    const model = this.model(planner, origin.peer);
    if ('unavailable' in model) throw new OrchError('BAD_REQUEST', `cannot plan: ${model.unavailable}`);
    await this.catalog.ready();
    const { validated, repairs } = await planRequest({
      request,
      tools: this.catalog.tools(origin.principal),
      model: model.model,
      validate: (plan) => this.validate(origin.principal, plan, model),
      repairs: this.deps.settings().batch.repairs,
      llmSteps: true,
      signal,
    });
    if (repairs > 0) this.log.info({ repairs, model: model.model.label }, 'the planner needed repairs');
    return validated;
  }

  /** Validates (and with a request, plans) a task and starts it; a dry run answers the plan and its order. */
  async submit(origin: Origin, body: ExecuteRequest): Promise<DryRun | TaskView> {
    const model = this.model(body.planner, origin.peer);
    if (body.plan !== undefined) {
      await this.catalog.ready();
      const validated = this.validate(origin.principal, body.plan, model);
      if (body.dryRun) return { dryRun: true, plan: validated.plan, order: validated.order };
      return this.launch(origin, body, model, validated);
    }
    const request = body.request!;
    if (body.dryRun) {
      const validated = await this.plan(origin, request, body.planner, AbortSignal.timeout(10 * 60_000));
      return { dryRun: true, request, plan: validated.plan, order: validated.order };
    }
    if ('unavailable' in model) throw new OrchError('BAD_REQUEST', `cannot plan: ${model.unavailable}`);
    return this.launch(origin, body, model, undefined);
  }

  /** Refuses a task past the limits of running tasks (the daemon's, the key's). */
  private admit(principal: Principal): void {
    const { batch } = this.deps.settings();
    if (this.closing)
      throw new OrchError('SHUTTING_DOWN', 'mcp-orch is shutting down', { hint: 'submit the task again once it has restarted' });
    if (this.active.size >= batch.maxRunning) {
      throw new OrchError('LIMIT_REACHED', `${batch.maxRunning} batch tasks are running, the most the daemon runs at once`, {
        hint: 'wait for some to finish, or raise orch.batch.maxRunning',
        retryAfterSec: 5,
      });
    }
    const own = [...this.active.values()].filter((task) => keyOf(task.principal) === keyOf(principal)).length;
    if (own >= batch.maxRunningPerKey) {
      throw new OrchError('RATE_LIMITED', `this key has ${own} batch tasks running, the most it may have at once`, {
        hint: 'wait for one to finish, or raise orch.batch.maxRunningPerKey',
        retryAfterSec: 5,
      });
    }
  }

  private launch(
    origin: Origin,
    body: ExecuteRequest,
    model: ReturnType<BatchService['model']>,
    validated: ValidatedPlan | undefined,
  ): TaskView {
    const { principal } = origin;
    this.admit(principal);
    const now = this.clock();
    const row: TaskRow = {
      id: randomUUID(),
      project: principal.project,
      keyId: principal.keyId ?? null,
      keyPrefix: principal.keyPrefix ?? null,
      member: principal.member ?? null,
      request: body.request ?? null,
      planner: body.request === undefined ? null : body.planner,
      plan: validated ? JSON.stringify(validated.plan) : null,
      status: validated ? 'running' : 'planning',
      error: null,
      createdAt: now,
      startedAt: validated ? now : null,
      finishedAt: null,
    };
    this.deps.repo.createTask(row);
    this.deps.repo.prune(this.deps.settings().batch.retainTasks);
    const controller = new AbortController();
    const active: Active = { principal, controller, listeners: new Set(), done: Promise.resolve() };
    this.active.set(row.id, active);
    active.done = this.run(row.id, origin, body, model, validated, active).finally(() => this.active.delete(row.id));
    this.log.info({ task: row.id, project: row.project, key: row.keyPrefix, status: row.status }, 'batch task started');
    return this.view(row.id, false);
  }

  private async run(
    id: string,
    origin: Origin,
    body: ExecuteRequest,
    model: ReturnType<BatchService['model']>,
    given: ValidatedPlan | undefined,
    active: Active,
  ): Promise<void> {
    const { repo } = this.deps;
    const emit = (event: TaskEvent): void => {
      for (const listener of active.listeners) listener(event);
    };
    try {
      let validated = given;
      if (!validated) {
        validated = await this.plan(origin, body.request!, body.planner, active.controller.signal);
        repo.updateTask(id, { plan: JSON.stringify(validated.plan), status: 'running', startedAt: this.clock() });
        emit({ type: 'task', task: this.view(id, false) });
      }
      const positions = new Map(validated.plan.steps.map((step, index) => [step.id, index]));
      const save = (state: StepState): void => repo.saveStep(stepRow(id, positions.get(state.id)!, state));
      for (const step of validated.plan.steps) save({ id: step.id, type: step.type, status: 'pending', attempts: 0 });
      const { batch } = this.deps.settings();
      const { outcome } = await execute({
        validated,
        calls: this.calls(id, origin, 'model' in model ? model.model : undefined),
        maxParallel: batch.maxParallel,
        serverSlots: (server) => this.slots(server, batch),
        maxMapItems: batch.maxMapItems,
        maxResultBytes: batch.maxResultBytes,
        signal: active.controller.signal,
        clock: this.clock,
        onStep: (state) => {
          save(state);
          emit({ type: 'step', step: stepView(state, false) });
        },
      });
      const status = this.closing ? 'interrupted' : outcome;
      repo.updateTask(id, {
        status,
        finishedAt: this.clock(),
        ...(status === 'interrupted' ? { error: 'the daemon stopped while the task was running' } : {}),
      });
    } catch (error) {
      const cancelled = active.controller.signal.aborted;
      const status = this.closing ? 'interrupted' : cancelled ? 'cancelled' : 'failed';
      const message = cancelled
        ? 'the task was cancelled while planning'
        : error instanceof OrchError
          ? error.describe()
          : (error as Error).message;
      repo.updateTask(id, { status, error: message, finishedAt: this.clock() });
    } finally {
      // An isolated server's instance of this task goes with it.
      for (const upstream of this.deps.view().upstreams()) void upstream.releaseInstance(id);
      const task = this.view(id, false);
      this.log.info({ task: id, status: task.status }, 'batch task finished');
      emit({ type: 'done', task });
      active.listeners.clear();
    }
  }

  /** How the task's steps reach their servers (as the task's caller, on the one forwarding path) and its model. */
  private calls(id: string, origin: Origin, model: Model | undefined): Parameters<typeof execute>[0]['calls'] {
    let principal = origin.principal;
    const base = {
      id,
      era: '2025-11-25',
      transport: 'batch',
      endpoint: 'batch',
      address: origin.address,
      client: origin.client,
      task: id,
    } as const;
    let caller: Caller = { ...base, principal };
    return {
      callTool: async (server, tool, args, signal) => {
        // A key revoked or narrowed while the task runs counts from its next call.
        const current = this.deps.access.refresh(principal);
        if (!current) {
          throw new OrchError('FORBIDDEN', 'the key that submitted this task no longer works (revoked, expired or its member removed)');
        }
        if (current !== principal) caller = { ...base, principal: (principal = current) };
        const params = { name: namespacedName(server, tool, this.deps.separator), arguments: args };
        return (await this.deps.forwarder.forward(caller, this.deps.view(), 'tools/call', params, {
          signal,
          peer: origin.peer ?? NO_PEER,
        })) as CallToolResult;
      },
      llm: async ({ prompt, output, schema }, signal) => {
        if (!model) throw new OrchError('BAD_REQUEST', 'no model for llm steps');
        const system = 'You are one step of an automated task: answer the instruction from the data it contains.';
        const answer = await model.generate({
          system,
          messages: [{ role: 'user', content: prompt }],
          schema: output === 'json' ? (schema ?? {}) : undefined,
          signal,
        });
        return output === 'json' ? answer.json : answer.text;
      },
    };
  }

  /** A server's own limit on calls at once, shared by every task. */
  private slots(server: string, batch: BatchSettings): Semaphore {
    const limit = batch.servers[server] ?? batch.perServer;
    let slots = this.serverSlots.get(server);
    // A changed limit takes effect for calls that start from now on.
    if (slots?.limit !== limit) this.serverSlots.set(server, (slots = new Semaphore(limit)));
    return slots;
  }

  /** The task if `principal` may see it: a key sees its own tasks, an admin every task of the project. */
  private visible(principal: Principal, id: string): TaskRow {
    const row = this.deps.repo.getTask(id);
    const mine = row && row.project === principal.project && (principal.role === 'admin' || row.keyId === (principal.keyId ?? null));
    if (!mine) throw new OrchError('NOT_FOUND', `no batch task "${id}"`, { hint: 'list your tasks with GET /batch (mcp-orch batch list)' });
    return row;
  }

  private view(id: string, withResults: boolean): TaskView {
    return taskView(this.deps.repo.getTask(id)!, this.deps.repo.steps(id), withResults);
  }

  status(principal: Principal, id: string): TaskView {
    return this.view(this.visible(principal, id).id, false);
  }

  result(principal: Principal, id: string): TaskView {
    return this.view(this.visible(principal, id).id, true);
  }

  /** Waits for a task to finish and answers its results. */
  async wait(principal: Principal, id: string): Promise<TaskView> {
    this.visible(principal, id);
    await this.active.get(id)?.done;
    return this.result(principal, id);
  }

  /** Cancels a running task: waiting steps never start, running calls are cancelled upstream. Resolves once it has stopped. */
  async cancel(principal: Principal, id: string): Promise<TaskView> {
    const row = this.visible(principal, id);
    const active = this.active.get(id);
    if (!active) {
      if (FINISHED.has(row.status)) return this.view(id, false);
      throw new OrchError('CONFLICT', `batch task "${id}" is ${row.status} and not run by this daemon`);
    }
    active.controller.abort(new OrchError('BAD_REQUEST', 'the task was cancelled'));
    await active.done;
    return this.view(id, false);
  }

  list(principal: Principal, limit: number): TaskView[] {
    const keyId = principal.role === 'admin' ? undefined : (principal.keyId ?? null);
    return this.deps.repo.listTasks({ project: principal.project, keyId, limit }).map((row) => taskView(row, [], false));
  }

  /**
   * Follows a task: `listener` hears each change until the `done` event. Returns the task as it is
   * and the unsubscribe function, or no function when the task has already finished.
   */
  follow(principal: Principal, id: string, listener: (event: TaskEvent) => void): { task: TaskView; stop?: () => void } {
    this.visible(principal, id);
    const active = this.active.get(id);
    const task = this.view(id, false);
    if (!active) return { task };
    active.listeners.add(listener);
    return { task, stop: () => active.listeners.delete(listener) };
  }

  /** Stops every running task; they are marked interrupted. */
  async close(): Promise<void> {
    this.closing = true;
    const running = [...this.active.values()];
    for (const task of running) task.controller.abort(new OrchError('SHUTTING_DOWN', 'mcp-orch is shutting down'));
    await Promise.all(running.map((task) => task.done));
  }
}
