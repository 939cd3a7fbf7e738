// A newcomer's first hour, on a fresh clone of this repository in a folder of its own (no sibling
// folders of the developers' machines beside it, a home of its own): the conformance tests pass there, and the README's quick
// start works as written, after which `mcp-orch status`, `logs`, `keys` and `stop-daemon` find the daemon
// without flags. The clone is of the committed HEAD; its node_modules is a link to this checkout's,
// standing in for `npm ci` (same lock file, no network).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { waitFor } from '../helpers/clients.js';
import { processRunning } from '../helpers/process.js';

const STEP_TIMEOUT_MS = 240_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let scratch: string;
let clone: string;
let home: string;

/** The environment of a person at a shell: none of this test run's own variables (vitest's, npm's). */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(VITEST|TEST$|NODE_ENV$|npm_)/.test(key)));
  return { ...env, HOME: home, ...extra };
}

/** Runs a command to its end, bounded in time. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = shellEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), STEP_TIMEOUT_MS - 10_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const report = (result: Run): string => `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mcp-orch-clone-'));
  home = join(scratch, 'home');
  clone = join(scratch, 'projects', 'mcp-orch');
  await mkdir(home);
  await mkdir(join(scratch, 'projects'));
  const cloned = await run('git', ['clone', '--quiet', repoRoot, clone], scratch);
  expect(cloned.code, report(cloned)).toBe(0);
  await symlink(join(repoRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
}, STEP_TIMEOUT_MS);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('a fresh clone in a folder of its own', () => {
  it('has nothing that reaches outside it', async () => {
    // The developers' machines had a kit in a sibling folder "shared"; a clone has no such thing.
    const sibling = ['..', 'shared'];
    expect(existsSync(join(clone, ...sibling))).toBe(false);
    const found = await run('git', ['grep', '-n', '-F', '-e', sibling.join('/'), '--', '.'], clone);
    expect(found.stdout).toBe('');
    expect(found.code).toBe(1); // git grep: no match
  });

  it(
    'passes the conformance tests',
    async () => {
      const built = await run('npm', ['run', 'build'], clone);
      expect(built.code, report(built)).toBe(0);
      const files = ['test/e2e/conformance.test.ts', 'test/e2e/era2026.test.ts', 'test/e2e/eras-mixed.test.ts'];
      const tested = await run(process.execPath, [join('node_modules', 'vitest', 'vitest.mjs'), 'run', ...files], clone);
      expect(tested.code, report(tested)).toBe(0);
      const summary = stripVTControlCharacters(tested.stdout);
      expect(summary).toMatch(/Test Files +3 passed \(3\)/);
      // Every test ran and passed: none skipped.
      expect(summary).toMatch(/Tests +(\d+) passed \(\1\)/);
    },
    STEP_TIMEOUT_MS,
  );

  describe("the README's quick start, then the daemon commands without flags", () => {
    let started: ChildProcess | undefined;

    afterAll(async () => {
      // `npm start` runs npm -> sh -> node in a process group of its own: end what is left of it.
      if (started?.pid !== undefined && started.exitCode === null) process.kill(-started.pid, 'SIGKILL');
    });

    it(
      'serves the example, and status, logs, keys and stop-daemon find it from another folder',
      async () => {
        const readme = await readFile(join(clone, 'README.md'), 'utf8');
        const quickStart = /```bash\n([^\n]*)/.exec(readme)?.[1] ?? '';
        expect(quickStart).toMatch(/^npm ci && npm start\b/);

        // npm ci is the linked node_modules; npm start as written. Port 0 through MCP_ORCH_PORT, so
        // that no test depends on port 8000 being free (the README's Troubleshooting says so).
        started = spawn('npm', ['start'], {
          cwd: clone,
          env: shellEnv({ MCP_ORCH_PORT: '0', PWD: clone }),
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        });
        const exited = new Promise<number | null>((resolve) => started!.once('exit', resolve));
        const lines: string[] = [];
        createInterface({ input: started.stderr! }).on('line', (line) => lines.push(line));
        started.stdout!.resume();
        await waitFor(() => lines.some((line) => line.startsWith('Control it')), { timeoutMs: 60_000 });
        const banner = lines.filter((line) => !line.startsWith('{')).join('\n');
        expect(banner).toContain(`serving ${join(clone, 'mcp-config.json.example')}`);
        expect(banner).toMatch(/^ {2}everything +http:\/\/127\.0\.0\.1:\d+\/servers\/everything\/mcp$/m);

        const mcpOrch = (args: string[]): Promise<Run> => run(process.execPath, [join(clone, 'bin', 'mcp-orch.js'), ...args], home);
        const rows = await waitFor(
          async () => {
            const status = await mcpOrch(['status']);
            const running = status.stdout.match(/^(everything|memory|filesystem) +running +\d+/gm) ?? [];
            return status.code === 0 && running.length === 3 ? status : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        expect(rows.stdout).toContain(`data dir ${join(clone, '.mcp-orch')}`);
        const pids = [...rows.stdout.matchAll(/^\w+ +running +(\d+)/gm)].map((match) => Number(match[1]));

        const logs = await mcpOrch(['logs']);
        expect(logs.code, report(logs)).toBe(0);
        expect(logs.stdout).toMatch(/^memory +running +mcp-orch logs memory$/m);

        // The database commands find the daemon's data dir as status does: no config here names it.
        const key = await mcpOrch(['keys', 'create', '--name', 'laptop']);
        expect(key.code, report(key)).toBe(0);
        expect(key.stderr).toMatch(/^created key mcpo_\w+ "laptop" for admin in project "default"/m);
        expect(key.stdout).toMatch(/^mcpo_\w+$/m);
        const keys = await mcpOrch(['keys', 'list']);
        expect(keys.stdout).toMatch(/^mcpo_\w+ +first run +default +admin /m);
        expect(existsSync(join(home, '.mcp-orch', 'mcp-orch.db'))).toBe(false);

        const stopped = await mcpOrch(['stop-daemon']);
        expect(stopped.code, report(stopped)).toBe(0);
        expect(stopped.stdout).toMatch(/^stopped mcp-orch \(pid \d+, data dir /);
        expect(await exited).toBe(0);
        await waitFor(() => pids.every((pid) => !processRunning(pid)), { timeoutMs: 5000 });
      },
      STEP_TIMEOUT_MS,
    );
  });
});
