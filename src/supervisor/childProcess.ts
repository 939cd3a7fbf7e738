import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { Logger } from '../log.js';
import { describeSpawnError, resolveCommand } from './command.js';
import { defaultEnvironment } from './environment.js';
import { createLineSplitter, createLogBuffer, type LogBuffer } from './logBuffer.js';
import { readProcessTable } from './stats.js';

/**
 * One stdio child: spawn, stderr capture, and the stop sequence (stdin EOF -> SIGTERM -> SIGKILL) applied
 * to its whole process group, because `npx foo` is really npx -> sh -> node and signalling only the
 * leader leaves the server itself running.
 */

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the child never ran (command not found, not executable, bad cwd) or would not die. */
  error?: string;
}

export interface SpawnChildOptions {
  name: string;
  command: string;
  args: string[];
  /** Added to (and overriding) the safe inherited base of defaultEnvironment(). */
  env: Record<string, string>;
  cwd?: string;
  logger: Logger;
  /** How long a child has after SIGTERM before SIGKILL. */
  stopGraceMs: number;
  logBuffer?: LogBuffer;
  spawnImpl?: typeof spawn;
}

export interface ChildHandle {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly logs: LogBuffer;
  /** Resolves when the child's leader process has exited (or failed to start); never rejects. */
  readonly exited: Promise<ExitInfo>;
  readonly running: boolean;
  /** Idempotent. Resolves once the leader has exited and no member of its process group is left. */
  stop(): Promise<ExitInfo>;
  /** Returns the unsubscribe function. */
  onExit(cb: (info: ExitInfo) => void): () => void;
}

/** How long after SIGKILL we still wait for an exit before giving up (a process stuck in the kernel). */
const KILL_WAIT_MS = 5000;
/** Group members are not our children, so no event tells us they are gone: we poll at this interval. */
const GROUP_POLL_MS = 50;

/** Children whose process group may still be alive, for killAllChildrenSync. */
const live = new Set<number>();

/** SIGKILLs every live child's process group. Synchronous, for `process.on('exit')`. */
export function killAllChildrenSync(): void {
  for (const pid of live) {
    // Stryker disable next-line ConditionalExpression: the group's SIGKILL reached its leader too; a second one to the leader changes nothing
    if (!signalGroup(pid, 'SIGKILL')) signalPid(pid, 'SIGKILL');
  }
  live.clear();
}

function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  // Stryker disable next-line all: the tests run on Linux
  if (process.platform === 'win32') return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined, as falsy as false */ {
    return false; // ESRCH: no such group (all gone, or spawned without detached)
  }
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function delay(ms: number): { promise: Promise<false>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  // Stryker disable next-line ArrowFunction: a timer left running only resolves a promise nobody awaits any more
  return { promise, cancel: () => clearTimeout(timer) };
}

/** True if `done` settled within `ms`. */
export async function within(done: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = delay(ms);
  try {
    return await Promise.race([done.then(() => true as const), timeout.promise]);
  } finally /* Stryker disable next-line BlockStatement: see delay(): cancelling only frees the timer early */ {
    timeout.cancel();
  }
}

/**
 * Whether any member of the group still runs. kill(-pgid, 0) alone also counts zombies: orphans are
 * reaped by PID 1, which in containers may do so late or never, and a zombie holds nothing but its pid.
 */
async function groupAlive(pgid: number): Promise<boolean> {
  // Stryker disable next-line ConditionalExpression: the scan below finds no member either; this saves it
  if (!signalGroup(pgid, 0)) return false;
  const table = await readProcessTable();
  // Stryker disable next-line BooleanLiteral,ConditionalExpression,LogicalOperator,EqualityOperator,StringLiteral: true only without /proc (macOS); the rest count zombie members as alive, which only makes a wait last until PID 1 reaps them, or run out with a warning where it never does (no test can keep an unreaped zombie in the group: its parent would have to be outside it)
  return table ? table.some((p) => p.pgid === pgid && p.state !== 'Z') : true;
}

async function groupGoneWithin(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await groupAlive(pgid)) {
    // Stryker disable next-line EqualityOperator: the same millisecond either way
    if (Date.now() >= deadline) return false;
    const tick = delay(GROUP_POLL_MS);
    await tick.promise;
  }
  return true;
}

export function spawnChild(options: SpawnChildOptions): ChildHandle {
  const { name, command, args, stopGraceMs } = options;
  if (!(stopGraceMs >= 0)) throw new RangeError(`stopGraceMs must be >= 0, got ${stopGraceMs}`);
  // Stryker disable next-line StringLiteral: log fields
  const log = options.logger.child({ component: 'supervisor', server: name });
  const logs = options.logBuffer ?? createLogBuffer();
  const env = { ...defaultEnvironment(), ...options.env };
  const cwd = options.cwd ?? process.cwd();

  let resolveExited!: (info: ExitInfo) => void;
  const exited = new Promise<ExitInfo>((resolve) => {
    resolveExited = resolve;
  });
  let exitInfo: ExitInfo | undefined;
  // Stryker disable next-line BooleanLiteral: set on every path below before anyone can read it
  let running = false;
  let child: ChildProcess | undefined;

  const fail = (error: string) => {
    // Stryker disable next-line all: a log line; exited carries the error
    log.error({ command, error }, 'child failed to start');
    finish({ code: null, signal: null, error });
  };

  const finish = (info: ExitInfo) => {
    // Stryker disable next-line ConditionalExpression: a second report would only resolve a settled promise again and log
    if (exitInfo) return;
    exitInfo = info;
    running = false;
    // Stryker disable next-line all: a log line
    if (!info.error) log.info({ pid: child?.pid, code: info.code, signal: info.signal }, 'child exited');
    resolveExited(info);
    // Orphans of a crashed leader would otherwise outlive it; stop() awaits the same cleanup.
    void reapGroup();
  };

  let reaping: Promise<void> | undefined;
  const reapGroup = () =>
    (reaping ??= (async () => {
      const pgid = child?.pid;
      // Stryker disable next-line ConditionalExpression: kill(-NaN) fails, so the next check returns too
      if (pgid === undefined) return;
      try {
        // Stryker disable next-line ConditionalExpression: signals to a gone group fail and the wait ends at once; this saves them
        if (!(await groupAlive(pgid))) return;
        // Stryker disable next-line ObjectLiteral: log fields
        log.debug({ pgid }, 'leader exited; stopping the rest of its process group');
        // Stryker disable next-line StringLiteral: process.kill reads an empty signal name as SIGTERM
        signalGroup(pgid, 'SIGTERM');
        // Stryker disable next-line ConditionalExpression: a SIGKILL to a gone group fails and the wait ends at once
        if (await groupGoneWithin(pgid, stopGraceMs)) return;
        signalGroup(pgid, 'SIGKILL');
        // Stryker disable next-line all: a process that survives SIGKILL (stuck in the kernel) cannot be made in a test
        if (!(await groupGoneWithin(pgid, KILL_WAIT_MS))) log.warn({ pgid }, 'process group still present after SIGKILL');
      } finally /* Stryker disable next-line BlockStatement: a stale entry matters only if its pid is reused before the daemon exits */ {
        live.delete(pgid);
      }
    })());

  const cwdOk = (() => {
    try {
      return statSync(cwd).isDirectory();
    } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined, as falsy as false */ {
      return false;
    }
  })();
  const resolved = cwdOk ? resolveCommand(command, env, cwd) : { error: `working directory not found: ${cwd}` };

  if ('error' in resolved) {
    fail(resolved.error);
  } else {
    try {
      child = (options.spawnImpl ?? spawn)(resolved.file, args, {
        cwd,
        env,
        // Stryker disable next-line ArrayDeclaration: pipes are spawn's default too
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own process group, so stop() can signal the whole tree. Not unref'd: we own its lifetime.
        detached: true,
        // Stryker disable next-line BooleanLiteral: Windows only
        windowsHide: true,
      });
    } catch (err) {
      // spawn throws synchronously for invalid arguments (say, a NUL byte in env); report, do not crash.
      fail(describeSpawnError(err as NodeJS.ErrnoException, command));
    }
  }

  if (child) {
    const proc = child;
    if (proc.pid !== undefined) {
      running = true;
      live.add(proc.pid);
      // Arguments at debug only: some servers take tokens on the command line.
      // Stryker disable next-line all: a log line
      log.info({ pid: proc.pid, command }, 'child started');
      // Stryker disable next-line all: a log line
      log.debug({ pid: proc.pid, args }, 'child arguments');
    }
    proc.on('error', (err: NodeJS.ErrnoException) => {
      // Before a pid this is a spawn failure; after, a failed kill(), which the exit path handles.
      // Stryker disable next-line ConditionalExpression: we never call child.kill(), the only source of an error after spawn
      if (proc.pid === undefined) fail(describeSpawnError(err, command));
      else /* Stryker disable next-line BlockStatement: see above */ {
        // Stryker disable next-line all: see above
        log.warn({ err }, 'child process error');
      }
    });
    proc.on('exit', (code, signal) => finish({ code, signal }));
    // A dead child makes writes to stdin fail with EPIPE; unhandled, that 'error' would crash us.
    for (const stream of [proc.stdin, proc.stdout, proc.stderr]) {
      // Stryker disable next-line OptionalChaining,ObjectLiteral,StringLiteral: with pipes all three streams exist; log fields and wording
      stream?.on('error', (err) => log.debug({ err }, 'child stdio error'));
    }
    // Stryker disable next-line ConditionalExpression: with pipes stderr exists
    if (proc.stderr) {
      const splitter = createLineSplitter((line) => {
        logs.push(line);
        log.debug({ stderr: line });
      });
      // Stryker disable next-line StringLiteral: an empty encoding name means utf8 as well
      proc.stderr.setEncoding('utf8');
      proc.stderr.on('data', (chunk: string) => splitter.write(chunk));
      proc.stderr.on('end', () => splitter.end());
    }
  }

  const stdin: Writable = child?.stdin ?? new PassThrough();
  const stdout: Readable = child?.stdout ?? new PassThrough().end();

  let stopping: Promise<ExitInfo> | undefined;
  const stopSequence = async (): Promise<ExitInfo> => {
    const pid = child?.pid;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: running implies a pid, and for an exited child the waits below end at once
    if (running && pid !== undefined) {
      // Well-behaved MCP servers exit on EOF and get to clean up; signals come only if they do not.
      stdin.end();
      // Stryker disable next-line MethodExpression,ArithmeticOperator: how long stdin EOF is given only changes when SIGTERM comes
      if (!(await within(exited, Math.min(1000, stopGraceMs / 2)))) {
        // Stryker disable next-line all: a log line
        log.debug({ pid }, 'no exit after stdin EOF; SIGTERM');
        // Stryker disable next-line StringLiteral,BooleanLiteral,ConditionalExpression: an empty signal name is SIGTERM; a second SIGTERM to the leader, which the group's reached, changes nothing
        if (!signalGroup(pid, 'SIGTERM')) signalPid(pid, 'SIGTERM');
        // Stryker disable next-line ConditionalExpression: for an exited child only a log line and a signal to a gone group follow
        if (!(await within(exited, stopGraceMs))) {
          // Stryker disable next-line ObjectLiteral: log fields
          log.warn({ pid, stopGraceMs }, 'no exit after SIGTERM; SIGKILL');
          // Stryker disable next-line BooleanLiteral,ConditionalExpression: a second SIGKILL to the leader changes nothing
          if (!signalGroup(pid, 'SIGKILL')) signalPid(pid, 'SIGKILL');
          // Stryker disable next-line all: a process that survives SIGKILL (stuck in the kernel) cannot be made in a test
          if (!(await within(exited, KILL_WAIT_MS))) {
            // Stryker disable next-line all: see above
            log.error({ pid }, 'child did not exit after SIGKILL');
            // Stryker disable next-line all: see above
            return { code: null, signal: null, error: `process ${pid} did not exit after SIGKILL` };
          }
        }
      }
    }
    const info = await exited;
    await reapGroup();
    return info;
  };

  return {
    get pid() {
      return child?.pid;
    },
    stdin,
    stdout,
    logs,
    exited,
    get running() {
      return running;
    },
    stop() {
      return (stopping ??= stopSequence());
    },
    onExit(cb) {
      let active = true;
      void exited.then((info) => {
        if (!active) return;
        try {
          cb(info);
        } catch (err) {
          // Stryker disable next-line StringLiteral: log wording
          log.error({ err }, 'onExit callback threw');
        }
      });
      return () => {
        active = false;
      };
    },
  };
}
