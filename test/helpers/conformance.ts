/**
 * Runs the official conformance suite (@modelcontextprotocol/conformance, pinned as the dev
 * dependencies mcp-conformance-0.1 and mcp-conformance-0.2) against a URL, counts the checks it saved
 * (test/conformance/checks.ts), and keeps its whole output for failure messages. Everything it needs
 * is inside the repository: the reference servers are vendored in test/conformance/.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countChecks, readBaseline, summarize, type Tally } from '../conformance/checks.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const conformanceDir = join(repoRoot, 'test', 'conformance');

/** The suite versions the tests pin, by the package alias that holds each. */
const SUITES = { '0.1.16': 'mcp-conformance-0.1', '0.2.0-alpha.12': 'mcp-conformance-0.2' } as const;
export type SuiteVersion = keyof typeof SUITES;

/** The reference servers of test/conformance/, by file. */
export type ReferenceServer = 'conformance-server.mjs' | 'conformance-server-2026.mjs';
export const referenceServer = (file: ReferenceServer): string => join(conformanceDir, file);

/** A run takes seconds; the bound is for a machine under heavy load. */
export const RUN_TIMEOUT_MS = 240_000;

export interface RunOptions {
  suite?: SuiteVersion;
  /** More options for `conformance server` (`--requirements 2026-07-28`, `--scenario NAME`). */
  args?: string[];
  /** An --expected-failures file: its scenarios' failed checks are counted as skipped. */
  baseline?: string;
}

export interface RunResult {
  /** The suite's exit code (0: clean, or failures match the baseline), 1 when nothing produced results. */
  code: number | null;
  /** The suite's stdout and stderr, then the count, for failure messages. */
  output: string;
  /** `conformance: N passed, M failed[, K skipped]`. */
  lastLine: string;
  tally: Tally;
}

/** Node 20 cannot load the suite's CLI without test/conformance/node20-globsync.mjs (see the README there). */
function nodeArgs(): string[] {
  const major = Number(process.versions.node.split('.')[0]);
  return major < 22 ? ['--import', join(conformanceDir, 'node20-globsync.mjs')] : [];
}

export async function runConformance(url: string, options: RunOptions = {}): Promise<RunResult> {
  const cli = join(repoRoot, 'node_modules', SUITES[options.suite ?? '0.1.16'], 'dist', 'index.js');
  const resultsDir = await mkdtemp(join(tmpdir(), 'mcp-orch-conformance-'));
  const args = [...(options.args ?? []), ...(options.baseline ? ['--expected-failures', options.baseline] : [])];
  try {
    const { code, output } = await run([...nodeArgs(), cli, 'server', '--url', url, '-o', resultsDir, ...args]);
    const tally = countChecks(resultsDir, output, options.baseline ? readBaseline(options.baseline) : undefined);
    const lines = summarize(tally, resultsDir);
    return {
      code: tally.scenarios === 0 && code === 0 ? 1 : code,
      output: `${output}\n${lines.join('\n')}`,
      lastLine: lines.at(-1)!,
      tally,
    };
  } finally {
    await rm(resultsDir, { recursive: true, force: true });
  }
}

/** Runs node with `args` to its end (SIGKILLed shortly before RUN_TIMEOUT_MS). */
function run(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS - 10_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
