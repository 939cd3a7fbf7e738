import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { healthAnswers, readDaemonInfo, type DaemonInfo } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';

const READY_TIMEOUT_MS = 30_000;
export const DAEMON_LOG_FILE = 'mcp-orch.log';

/** The last lines of a file, to explain why a detached daemon did not come up. */
function tail(file: string, lines = 15): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * `serve --daemon`: runs this same command again without --daemon, detached, its output appended to
 * `<dataDir>/mcp-orch.log`, and resolves once it has written daemon.json and answers /health.
 */
export async function detachServe(dataDir: string, argv: string[]): Promise<DaemonInfo & { logFile: string }> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const logFile = path.join(dataDir, DAEMON_LOG_FILE);
  const out = fs.openSync(logFile, 'a', 0o600);
  const args = argv.filter((arg) => arg !== '--daemon');
  // Node's own flags of this command (an inspector port, a profiler) are left out: a second
  // inspector on the same port would stop the daemon. NODE_OPTIONS in the environment still applies.
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env: process.env });
  fs.closeSync(out);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `was killed by ${signal}` : `exited with code ${String(code)}`));
  child.once('error', (error) => (exited = `could not start: ${error.message}`));
  child.unref();

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exited !== undefined) {
      const why = tail(logFile);
      throw new OrchError('INTERNAL', `the daemon ${exited} before it was ready${why ? `; ${logFile} ends with:\n${why}` : ''}`, {
        hint: `run the same command without --daemon to see it in the foreground`,
      });
    }
    const info = readDaemonInfo(dataDir);
    if (info && info.pid === child.pid && (await healthAnswers(info.url))) return { ...info, logFile };
    if (Date.now() > deadline) {
      throw new OrchError('INTERNAL', `the daemon (pid ${child.pid}) was not ready within ${READY_TIMEOUT_MS / 1000}s`, {
        hint: `see ${logFile}`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
