/** Runs the built CLI (`bin/mcp-orch.js`) as a person would, to its end, bounded in time. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testHome } from './home.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const binPath = join(repoRoot, 'bin', 'mcp-orch.js');
const CLI_TIMEOUT_MS = 20_000;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed (otherwise stdin is empty). */
  input?: string;
  /** Node's own flags, before the script (`node --no-deprecation bin/mcp-orch.js ...`). */
  nodeArgs?: string[];
}

/** Runs `mcp-orch <args>` to its end (SIGKILLed after the timeout, which rejects). */
export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  const timeoutMs = options.timeoutMs ?? CLI_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), binPath, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, HOME: testHome, ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.end(options.input);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mcp-orch ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr:\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
