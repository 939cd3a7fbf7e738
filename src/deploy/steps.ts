import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { OrchError } from '../errors.js';
import type { DeployLog } from './log.js';

export interface Step {
  command: string;
  /** Passed as they are, never through a shell. */
  args: string[];
  /** What to call the step in messages (`npm ci`, `git clone`). */
  what: string;
  timeoutMs: number;
  /** The message when the command is not installed. */
  missing?: string;
}

export interface StepContext {
  cwd: string;
  /** The whole environment of the step: nothing of the daemon's own is inherited besides it. */
  env: Record<string, string>;
  log: DeployLog;
  /** Aborted when the daemon stops: the step's process group is killed. */
  signal?: AbortSignal | undefined;
}

const TAIL_LINES = 8;

/**
 * Runs one step of a deployment (git, npm, uv) as a child process in a process group of its own:
 * arguments as an array, output line by line into the deployment's log, bounded in time (the whole
 * group is killed past it). Resolves with its stdout; a failure is DEPLOY_FAILED with the last lines
 * it printed and where the rest is.
 */
export function runStep(step: Step, context: StepContext): Promise<string> {
  const { log } = context;
  log.line(`$ ${step.command} ${step.args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(step.command, step.args, {
      cwd: context.cwd,
      env: context.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let timedOut = false;
    const output: string[] = [];
    const keep = (line: string): void => {
      log.line(line);
      output.push(line);
      if (output.length > TAIL_LINES) output.shift();
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    createInterface({ input: child.stdout }).on('line', keep);
    createInterface({ input: child.stderr }).on('line', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, step.timeoutMs);
    const abort = (): void => killGroup(child.pid);
    context.signal?.addEventListener('abort', abort, { once: true });
    const fail = (message: string, hint: string): void => {
      clearTimeout(timer);
      context.signal?.removeEventListener('abort', abort);
      log.line(`! ${message}`);
      reject(new OrchError('DEPLOY_FAILED', message, { hint, data: { step: step.what } }));
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        fail(step.missing ?? `${step.command} is not installed (not found in PATH)`, `install ${step.command}, then deploy again`);
      else fail(`${step.what} could not run: ${error.message}`, `see ${log.file}`);
    });
    child.once('close', (code, signal) => {
      if (timedOut) return fail(`${step.what} did not finish within ${Math.round(step.timeoutMs / 1000)}s`, `see ${log.file}`);
      if (context.signal?.aborted) return fail(`${step.what} was stopped: mcp-orch is shutting down`, 'deploy again once it runs');
      if (code === 0) {
        clearTimeout(timer);
        context.signal?.removeEventListener('abort', abort);
        return resolve(stdout);
      }
      const tail = output.length ? `: ${output.join(' | ')}` : '';
      fail(`${step.what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})${tail}`, `the whole output is in ${log.file}`);
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
