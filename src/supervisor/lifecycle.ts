import { EventEmitter } from 'node:events';
import type { Supervision } from '../config/schema.js';
import { isOrchError } from '../errors.js';
import type { Logger } from '../log.js';
import { nextDelay } from './backoff.js';
import { sampleProcessTree, type TreeSample } from './stats.js';

/** Every state of a server's life, in the order a dashboard lists them. */
export const LIFECYCLE_STATES = ['starting', 'running', 'unhealthy', 'restarting', 'stopping', 'stopped', 'crashed', 'disabled'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

/** What the lifecycle drives: for mcp-orch, one upstream MCP server. */
export interface LifecycleUnit {
  /** Brings the unit up; rejects with the reason it could not. */
  start(): Promise<void>;
  /** Takes it down; resolves when it is down, never rejects. */
  stop(): Promise<void>;
  /** One health probe (an MCP ping); rejects on failure or timeout. */
  ping(timeoutMs: number): Promise<void>;
  pid(): number | undefined;
}

export interface Transition {
  from: LifecycleState;
  to: LifecycleState;
  cause: string;
  at: number;
}

export interface Stats {
  cpuPercent: number;
  memoryBytes: number;
  sampledAt: number;
}

interface LifecycleEvents {
  state: [LifecycleState, Transition];
  /** A CPU or memory limit was crossed (once per crossing), with what was measured. */
  threshold: [string, Stats];
}

export interface LifecycleDeps {
  logger: Logger;
  sample?: (pid: number) => Promise<TreeSample | undefined>;
  random?: () => number;
}

export interface FailureOptions {
  clean?: boolean;
  permanent?: boolean;
}

const HISTORY = 50;
const MB = 1024 * 1024;

/**
 * One server's life: start, health checks, CPU/memory sampling, and restarts by policy with
 * exponential backoff; gives up (`crashed`) after `maxRestarts` within `restartWindowSec`. Every
 * transition is logged with its cause and kept in a short history. Knows nothing of MCP: the unit
 * it drives supplies start, stop and ping.
 */
export class Lifecycle extends EventEmitter<LifecycleEvents> {
  private _state: LifecycleState = 'stopped';
  private readonly _history: Transition[] = [];
  // Stryker disable next-line ArrayDeclaration: start() empties it before any use
  private restartTimes: number[] = [];
  private attempt = 0;
  private _restarts = 0;
  private _startedAt: number | undefined;
  private _lastError: string | undefined;
  private _stats: Stats | undefined;
  private healthFailures = 0;
  /** Health rounds in a row whose CPU sample was over the limit, this run. */
  private cpuOverRounds = 0;
  /** Crossings already reported this run: one warning per crossing, not one per sample. */
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: launch() sets it before any sample
  private overLimit = { cpu: false, memory: false };
  private timers = new Set<NodeJS.Timeout>();
  private healthTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private failing = false;
  /** Bumped by every start/stop, so that a late result of an earlier attempt is ignored. */
  private generation = 0;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    private readonly unit: LifecycleUnit,
    private policy: Supervision,
    private readonly deps: LifecycleDeps,
  ) {
    super();
    this.setMaxListeners(0);
    this.log = deps.logger.child({ component: 'lifecycle', server: name });
  }

  get state(): LifecycleState {
    return this._state;
  }
  /** Resolves once the state satisfies `done`, or after `timeoutMs`, whichever comes first; never rejects. */
  waitFor(done: (state: LifecycleState) => boolean, timeoutMs: number): Promise<void> {
    if (done(this._state)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
        resolve();
      };
      const onState = (state: LifecycleState): void => {
        if (done(state)) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.on('state', onState);
    });
  }

  get history(): readonly Transition[] {
    return this._history;
  }
  get restarts(): number {
    return this._restarts;
  }
  /** When the current run reached `running`. */
  get startedAt(): number | undefined {
    return this._startedAt;
  }
  get lastError(): string | undefined {
    return this._lastError;
  }
  get stats(): Stats | undefined {
    return this._stats;
  }

  /** Starts the unit (from stopped, crashed or disabled). Resolves when this attempt has settled. */
  start(cause = 'start requested'): Promise<void> {
    if (this.starting) return this.starting;
    if (this._state === 'running' || this._state === 'unhealthy') return Promise.resolve();
    this.clearTimers();
    // Stryker disable next-line ArrayDeclaration: a non-number is filtered out as outside the window at once
    this.restartTimes = [];
    this.attempt = 0;
    return this.launch('starting', cause);
  }

  private launch(state: 'starting', cause: string): Promise<void> {
    const generation = ++this.generation;
    this.transition(state, cause);
    const attempt = (async () => {
      try {
        await this.unit.start();
      } catch (error) {
        if (generation !== this.generation) return;
        this.starting = undefined;
        await this.failed(`failed to start: ${(error as Error).message}`, { permanent: isConfigError(error) });
        return;
      }
      if (generation !== this.generation) return;
      this._startedAt = Date.now();
      this._lastError = undefined;
      // Each run is judged afresh: health and limits describe the process just started.
      this.healthFailures = 0;
      this.cpuOverRounds = 0;
      // Stryker disable next-line ObjectLiteral: absent reads as false
      this.overLimit = { cpu: false, memory: false };
      this.transition('running', 'started');
      this.scheduleHealth(generation);
      this.later(() => {
        // A stable run forgives earlier crashes: the next one starts the backoff from the beginning.
        // Stryker disable next-line ConditionalExpression,LogicalOperator: a failure or stop clears this timer; the check is a second guard
        if (generation === this.generation && this._state === 'running') this.attempt = 0;
      }, this.policy.stableSec * 1000);
    })().finally(() => {
      // By identity, not generation: a failure reported mid-start bumps the generation, and a
      // stale promise left here would make every later start() a no-op.
      if (this.starting === attempt) this.starting = undefined;
    });
    this.starting = attempt;
    return attempt;
  }

  /**
   * The unit died or misbehaved. The policy decides: restart after a backoff delay, or give up.
   * `clean` is a voluntary exit with status 0, which `on-failure` does not restart; `permanent` is a
   * failure no retry can fix (a command that does not exist), which gives up at once.
   */
  async failed(reason: string, options: FailureOptions = {}): Promise<void> {
    if (this._state === 'stopping' || this._state === 'stopped' || this._state === 'disabled' || this._state === 'crashed') return;
    // One death is often reported twice (the exit, then the closed connection): the first, more
    // specific report is handled and later ones are dropped.
    if (this._state === 'restarting' || this.failing) return;
    this.failing = true;
    try {
      await this.handleFailure(reason, options);
    } finally {
      this.failing = false;
    }
  }

  private async handleFailure(reason: string, options: FailureOptions): Promise<void> {
    const generation = ++this.generation;
    this.starting = undefined;
    this._lastError = reason;
    this._stats = undefined;
    this.clearTimers();
    // Stryker disable next-line all: log wording; the transition below records the reason
    this.log.warn({ reason }, 'server failed');
    await this.unit.stop();
    if (generation !== this.generation) return;

    const { restart, maxRestarts, restartWindowSec } = this.policy;
    if (restart === 'never' || (restart === 'on-failure' && options.clean) || options.permanent) {
      this.transition(options.clean ? 'stopped' : 'crashed', reason);
      return;
    }
    const now = Date.now();
    this.restartTimes = this.restartTimes.filter((t) => now - t < restartWindowSec * 1000);
    if (this.restartTimes.length >= maxRestarts) {
      this._lastError = `gave up after ${maxRestarts} restarts within ${restartWindowSec}s; last: ${reason}`;
      this.transition('crashed', this._lastError);
      return;
    }
    const delay = nextDelay(this.attempt, { ...this.policy.backoff, ...(this.deps.random ? { random: this.deps.random } : {}) });
    this.attempt++;
    this.restartTimes.push(now);
    this.transition('restarting', `${reason}; restarting in ${delay} ms`);
    this.later(() => {
      // Stryker disable next-line ConditionalExpression: a stop or a new failure clears this timer; the check is a second guard
      if (generation !== this.generation) return;
      this._restarts++;
      void this.launch('starting', `restart ${this._restarts} after: ${reason}`);
    }, delay);
  }

  /** A restart asked for by a person or a config change; does not count against maxRestarts. */
  async restart(cause = 'restart requested'): Promise<void> {
    // Already stopped on the way to a restart (a group restart stops dependents first).
    if (this._state !== 'restarting') await this.stop(cause, 'restarting');
    this._restarts++;
    await this.start(cause);
  }

  /** Stops the unit; `to` is `stopped` (or `disabled`, or `restarting` on the way to a restart). */
  async stop(cause = 'stop requested', to: 'stopped' | 'disabled' | 'restarting' = 'stopped'): Promise<void> {
    ++this.generation;
    this.starting = undefined;
    this.clearTimers();
    if (this._state !== 'stopped' && this._state !== 'crashed' && this._state !== 'disabled') {
      this.transition('stopping', cause);
      await this.unit.stop();
    }
    this._startedAt = undefined;
    // CPU and memory describe a running process; a stopped server has none.
    this._stats = undefined;
    this.transition(to, cause);
  }

  /** New supervision settings (a config reload that changed only them) apply from the next check on. */
  updatePolicy(policy: Supervision): void {
    this.policy = policy;
  }

  private scheduleHealth(generation: number): void {
    const intervalMs = this.policy.health.intervalSec * 1000;
    if (intervalMs <= 0) return;
    this.healthTimer = setTimeout(() => {
      this.timers.delete(this.healthTimer!);
      void this.check(generation).finally(() => {
        if (generation === this.generation) this.scheduleHealth(generation);
      });
    }, intervalMs);
    this.healthTimer.unref();
    this.timers.add(this.healthTimer);
  }

  /** One round: an MCP ping, then a CPU/memory sample of the process tree. */
  private async check(generation: number): Promise<void> {
    const { health } = this.policy;
    try {
      await this.unit.ping(health.timeoutSec * 1000);
      // Stryker disable next-line ConditionalExpression: a late pass only zeroes a count the next run zeroes anyway, and sample() checks again
      if (generation !== this.generation) return;
      this.healthFailures = 0;
    } catch (error) {
      if (generation !== this.generation) return;
      this.healthFailures++;
      const reason = `health check failed ${this.healthFailures} time(s): ${(error as Error).message}`;
      // Stryker disable next-line ObjectLiteral: log fields; the transition records the reason
      this.log.warn({ failures: this.healthFailures }, reason);
      if (this.healthFailures >= health.failureThreshold) {
        this.transition('unhealthy', reason);
        await this.failed(reason);
        return;
      }
    }
    await this.sample(generation);
  }

  private async sample(generation: number): Promise<void> {
    const pid = this.unit.pid();
    if (pid === undefined) return;
    const sample = await (this.deps.sample ?? sampleProcessTree)(pid);
    if (!sample || generation !== this.generation) return;
    this._stats = { cpuPercent: sample.cpuPercent, memoryBytes: sample.memoryBytes, sampledAt: Date.now() };
    const { maxCpuPercent, maxMemoryMb, onThreshold } = this.policy;
    const breaches: string[] = [];
    // CPU is a rate, and a start or one heavy call is a burst (pidusage's first sample averages over
    // the whole life of a process just started): it is over the limit once it stays there for
    // failureThreshold rounds in a row. Memory is a level and counts at once.
    this.cpuOverRounds = sample.cpuPercent > maxCpuPercent ? this.cpuOverRounds + 1 : 0;
    const cpuOver = this.cpuOverRounds >= this.policy.health.failureThreshold;
    const memoryOver = sample.memoryBytes > maxMemoryMb * MB;
    if (cpuOver && !this.overLimit.cpu) breaches.push(`CPU ${sample.cpuPercent.toFixed(0)}% over the limit of ${maxCpuPercent}%`);
    if (memoryOver && !this.overLimit.memory)
      breaches.push(`memory ${(sample.memoryBytes / MB).toFixed(0)} MB over the limit of ${maxMemoryMb} MB`);
    this.overLimit = { cpu: cpuOver, memory: memoryOver };
    if (breaches.length === 0) return;
    const reason = breaches.join(', ');
    // Stryker disable next-line ObjectLiteral: log fields; the threshold event carries the stats
    this.log.warn({ cpuPercent: sample.cpuPercent, memoryBytes: sample.memoryBytes }, reason);
    this.emit('threshold', reason, this._stats);
    if (onThreshold === 'restart') await this.failed(reason);
  }

  private transition(to: LifecycleState, cause: string): void {
    const from = this._state;
    if (from === to && to !== 'starting') return;
    const transition: Transition = { from, to, cause, at: Date.now() };
    this._state = to;
    this._history.push(transition);
    if (this._history.length > HISTORY) this._history.shift();
    const level = to === 'crashed' || to === 'unhealthy' ? 'error' : 'info';
    // Stryker disable next-line StringLiteral: log wording; the fields say the same
    this.log[level]({ from, to, cause }, `${this.name}: ${from} -> ${to}`);
    this.emit('state', to, transition);
  }

  private later(fn: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private clearTimers(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.healthTimer = undefined;
  }
}

/** A start failure that only a config change can fix: an OrchError CONFIG_* anywhere in the cause chain. */
function isConfigError(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (isOrchError(cause) && cause.code.startsWith('CONFIG_')) return true;
  }
  return false;
}
