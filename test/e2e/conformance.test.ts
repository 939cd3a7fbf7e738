// The official MCP conformance suite (@modelcontextprotocol/conformance, run by
// ../shared/conformance/conformance.sh) against the gateway fronting the suite's reference server.
// The per-server endpoint must score like the server itself; the unified endpoint differs only where
// scenarios use the server's own names and URIs, listed in test/conformance/unified-expected-failures.yml.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const kitDir = resolve(repoRoot, '..', 'shared', 'conformance');
const serverPath = join(kitDir, 'conformance-server.mjs');
const scriptPath = join(kitDir, 'conformance.sh');
const baselinePath = join(repoRoot, 'test', 'conformance', 'unified-expected-failures.yml');

/** The reference server alone scores this on the active suite of 0.1.16. */
const PER_SERVER_SCORE = 'conformance: 40 passed, 0 failed';
/** Checks measured passing on the unified endpoint (the scenarios that do not depend on names). */
const UNIFIED_MIN_PASSED = 10;

/** The first run installs the suite from the npm registry into the cache. */
const RUN_TIMEOUT_MS = 240_000;

interface RunResult {
  code: number | null;
  /** stdout and stderr interleaved, for failure messages. */
  output: string;
  lastLine: string;
}

function runConformance(url: string, args: string[] = []): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [scriptPath, url, ...args], {
      cwd: repoRoot,
      env: { ...process.env, MCP_CONFORMANCE_WAIT: '30' },
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

const report = (result: RunResult) => `exit code ${result.code}; conformance.sh output:\n${result.output}`;

describe('MCP conformance suite through the gateway', () => {
  let daemon: DaemonHandle | undefined;

  beforeAll(async () => {
    if (!existsSync(scriptPath) || !existsSync(serverPath)) {
      throw new Error(
        `conformance kit not found: expected ${scriptPath} and ${serverPath} (../shared/conformance next to the repo)`,
      );
    }
    daemon = await startDaemon({
      config: { mcpServers: { everything: { command: 'node', args: [serverPath] } } },
    });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it(
    'scores like the reference server on the per-server endpoint',
    async () => {
      const result = await runConformance(`${daemon!.url}/servers/everything/mcp`);
      expect(result.lastLine, report(result)).toBe(PER_SERVER_SCORE);
      expect(result.code, report(result)).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'fails on the unified endpoint only where names and URIs are namespaced',
    async () => {
      const result = await runConformance(`${daemon!.url}/mcp`, ['--expected-failures', baselinePath]);
      expect(result.code, report(result)).toBe(0);
      const score = /^conformance: (\d+) passed, (\d+) failed/.exec(result.lastLine);
      expect(score, report(result)).not.toBeNull();
      expect(Number(score![2]), report(result)).toBe(0);
      expect(Number(score![1]), report(result)).toBeGreaterThanOrEqual(UNIFIED_MIN_PASSED);
    },
    RUN_TIMEOUT_MS,
  );
});
