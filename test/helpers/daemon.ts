/**
 * Runs the built CLI (`bin/mcp-orch.js serve`) as a real child process on port 0 with a temp config
 * and data dir, and knows it is ready when its pino log on stderr says "listening". The CLI must be
 * built to dist/ first (`npm test` does so).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { testHome } from './home.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const binPath = join(repoRoot, 'bin', 'mcp-orch.js');
const START_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

export interface StartDaemonOptions {
  /** Written as JSON to a temp mcp-config.json. */
  config: object;
  /** Appended after the standard `serve --config ... --port 0 --data-dir ...`. */
  args?: string[];
  /** Added to the test process's environment. */
  env?: Record<string, string>;
  /** Reuse a data dir (for restart and persistence tests); it is then left in place by stop(). */
  dataDir?: string;
  /**
   * Require API keys, as `serve` does by default; the first run's key is then `key`. Without it the
   * daemon runs with `--no-auth`, the way the tests of everything but access control talk to it.
   */
  auth?: boolean;
}

export interface DaemonHandle {
  url: string;
  port: number;
  configPath: string;
  dataDir: string;
  process: ChildProcess;
  /** Every stderr line so far (pino JSON lines and anything else), growing while it runs. */
  stderrLines: string[];
  /** Replaces the config file, for hot-reload tests. */
  writeConfig(config: object): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after 10 s; resolves once it has exited with code 0 and rejects, with its
   * stderr's tail, if it needed the SIGKILL or exited otherwise. Safe to call more than once.
   */
  stop(): Promise<void>;
  /** A request to the admin API (`/api/...`) with the admin token the daemon wrote to its data dir. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** With `auth`: the key the first run printed (the default project's admin), once it has. */
  firstRunKey(): Promise<string>;
}

const KEY = /mcpo_[A-Za-z0-9]{32,}/;

export async function startDaemon(options: StartDaemonOptions): Promise<DaemonHandle> {
  const tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-test-'));
  const configPath = join(tempDir, 'mcp-config.json');
  const dataDir = options.dataDir ?? join(tempDir, 'data');
  const writeConfig = (config: object) => writeFile(configPath, JSON.stringify(config, null, 2));
  await writeConfig(options.config);

  const child = spawn(
    process.execPath,
    [
      binPath,
      'serve',
      '--config',
      configPath,
      '--port',
      '0',
      '--data-dir',
      dataDir,
      ...(options.auth ? [] : ['--no-auth']),
      ...(options.args ?? []),
    ],
    { cwd: repoRoot, env: { ...process.env, HOME: testHome, ...options.env }, stdio: ['ignore', 'inherit', 'pipe'] },
  );
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const stderrLines: string[] = [];

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      // A daemon that already exited was ended by the test itself, which checks how.
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let killed = false;
      const killTimer = setTimeout(() => {
        killed = true;
        child.kill('SIGKILL');
      }, STOP_GRACE_MS);
      const { code, signal } = await exited;
      clearTimeout(killTimer);
      if (killed || code !== 0 || signal !== null) {
        const how = killed ? `was still running ${STOP_GRACE_MS} ms after SIGTERM` : `exited with code ${code}, signal ${signal}`;
        throw new Error(`mcp-orch serve ${how} on SIGTERM, not cleanly; stderr tail:\n${stderrLines.slice(-20).join('\n')}`);
      }
    })().finally(() => rm(tempDir, { recursive: true, force: true }));
    return stopping;
  };

  try {
    const url = await waitForListening(child, stderrLines);
    return {
      url,
      port: Number(new URL(url).port),
      configPath,
      dataDir,
      process: child,
      stderrLines,
      writeConfig,
      stop,
      firstRunKey: async () => {
        const deadline = Date.now() + START_TIMEOUT_MS;
        for (;;) {
          const found = KEY.exec(stderrLines.join('\n'));
          if (found) return found[0];
          if (Date.now() > deadline) throw new Error(`no first-run key printed; stderr:\n${stderrLines.join('\n')}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      },
      api: async (path, init = {}) => {
        const token = (await readFile(join(dataDir, 'admin-token'), 'utf8').catch(() => '')).trim();
        const headers = new Headers(init.headers);
        if (token) headers.set('authorization', `Bearer ${token}`);
        return fetch(`${url}${path}`, { ...init, headers });
      },
    };
  } catch (error) {
    await stop().catch(() => undefined); // the error that stopped the start says more
    throw error;
  }
}

/** Resolves with the `url` of the first `{"msg":"listening"}` line; rejects on early exit or timeout. */
function waitForListening(child: ChildProcess, stderrLines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stderr! });
    const fail = (reason: string) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      reject(new Error(`mcp-orch serve ${reason}; stderr:\n${stderrLines.join('\n')}`));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      // Let readline deliver the last lines first: they usually say why it exited.
      setImmediate(() => fail(`exited before listening (code ${code}, signal ${signal})`));
    const timer = setTimeout(() => fail(`did not log "listening" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);

    lines.on('line', (line) => {
      stderrLines.push(line);
      const url = listeningUrl(line);
      if (url !== undefined) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(url);
      }
    });
    child.once('exit', onExit);
    child.once('error', (error) => fail(`could not start: ${error.message}`));
  });
}

function listeningUrl(line: string): string | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
    return entry.msg === 'listening' && typeof entry.url === 'string' ? entry.url : undefined;
  } catch {
    return undefined;
  }
}
