/**
 * Runs the official conformance suite through ../shared/conformance/conformance.sh against a URL and
 * keeps its last line ("conformance: N passed, M failed") and its whole output for failure messages.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const kitDir = resolve(repoRoot, '..', 'shared', 'conformance');
const scriptPath = join(kitDir, 'conformance.sh');

/** The first run installs the suite from the npm registry into the cache. */
export const RUN_TIMEOUT_MS = 240_000;

export interface RunResult {
  code: number | null;
  /** stdout and stderr interleaved, for failure messages. */
  output: string;
  lastLine: string;
}

/** Fails with a clear message when the kit beside the project is missing, rather than skipping. */
export function requireKit(file: string): string {
  const path = join(kitDir, file);
  if (!existsSync(path)) throw new Error(`conformance kit not found: expected ${path} (the shared/ folder beside the project)`);
  return path;
}

export function runConformance(url: string, args: string[] = [], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [scriptPath, url, ...args], {
      cwd: repoRoot,
      env: { ...process.env, MCP_CONFORMANCE_WAIT: '30', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS - 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      resolvePromise({ code, output, lastLine: lines.at(-1) ?? '' });
    });
  });
}
