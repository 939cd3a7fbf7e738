import process from 'node:process';
import type { Command } from 'commander';
import { readDaemonInfo, processAlive } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import type { AdminServerStatus, ReloadReport } from '../http/adminApi.js';
import type { LogLine } from '../supervisor/logBuffer.js';
import { reportError, resolveDataDir, type ConfigOptions } from './context.js';
import { connectDaemon, noDaemon, type DaemonClient } from './daemonClient.js';
import { clip, printJson, table } from './output.js';

type DaemonOptions = Pick<ConfigOptions, 'config' | 'dataDir'>;

const STOP_TIMEOUT_SEC = 30;

function daemonOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'config file, to find orch.dataDir (default: ./mcp-config.json, else ~/.mcp.json)')
    .option('--data-dir <dir>', 'the data dir of the daemon to talk to (default: ~/.mcp-orch or $MCP_ORCH_DATA_DIR)');
}

/**
 * Runs a command's body with the daemon of its data dir; any error is printed and exits 1. Commander
 * calls an action with the arguments, then the options, then the command itself.
 */
function withDaemon<O extends DaemonOptions, A extends unknown[]>(
  body: (client: DaemonClient, options: O, ...args: A) => Promise<void>,
): (...args: [...A, O, Command]) => Promise<void> {
  return async (...args) => {
    const options = args[args.length - 2] as O;
    try {
      const client = await connectDaemon(resolveDataDir(options));
      await body(client, options, ...(args.slice(0, -2) as A));
    } catch (error) {
      reportError(error);
    }
  };
}

export function formatUptime(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86_400)}d${Math.floor((seconds % 86_400) / 3600)}h`;
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-';
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** The status table of `status` and `monitor`. */
export function statusTable(servers: AdminServerStatus[], width = 200): string {
  const rows = servers.map((s) => [
    s.name,
    s.state,
    s.pid ?? '-',
    formatUptime(s.uptimeSec),
    s.restarts,
    s.cpuPercent === null ? '-' : `${s.cpuPercent.toFixed(1)}%`,
    formatBytes(s.memoryBytes),
    s.tools,
    clip(s.lastError ?? '', Math.max(20, width - 90)),
  ]);
  return table(['server', 'state', 'pid', 'uptime', 'restarts', 'cpu', 'memory', 'tools', 'last error'], rows);
}

interface ServersBody {
  servers: AdminServerStatus[];
}

function registerStatus(program: Command): void {
  daemonOptions(program.command('status'))
    .description("the running daemon's servers: state, pid, uptime, restarts, CPU, memory, tools, last error")
    .option('--json', 'print JSON')
    .action(
      withDaemon(async (client, options: DaemonOptions & { json?: boolean }) => {
        const { servers } = await client.request<ServersBody>('GET', '/api/servers');
        if (options.json) return printJson({ daemon: client.info, servers });
        process.stdout.write(`mcp-orch ${client.info.version} at ${client.info.url} (pid ${client.info.pid})\n`);
        process.stdout.write(`${statusTable(servers, process.stdout.columns ?? 200)}\n`);
      }),
    );

  daemonOptions(program.command('monitor'))
    .description('a live view of the status table, redrawn every second until Ctrl-C (like top)')
    .option('--interval <seconds>', 'seconds between redraws', '1')
    .option('--once', 'draw once and exit')
    .action(
      withDaemon(async (client, options: DaemonOptions & { interval: string; once?: boolean }) => {
        const intervalMs = Math.max(0.2, Number(options.interval) || 1) * 1000;
        const draw = async (): Promise<void> => {
          let body: string;
          try {
            const { servers } = await client.request<ServersBody>('GET', '/api/servers');
            const now = new Date().toLocaleTimeString();
            body = `mcp-orch at ${client.info.url} (pid ${client.info.pid})  ${now}\n\n${statusTable(servers, process.stdout.columns ?? 200)}\n`;
          } catch (error) {
            body = `mcp-orch at ${client.info.url}: ${error instanceof Error ? error.message : String(error)}\n`;
          }
          const clear = options.once || !process.stdout.isTTY ? '' : '\x1b[2J\x1b[H';
          process.stdout.write(`${clear}${body}${options.once ? '' : '\n(Ctrl-C to quit)\n'}`);
        };
        await draw();
        if (options.once) return;
        await new Promise<void>((resolve) => {
          let drawing = false;
          const timer = setInterval(() => {
            if (drawing) return;
            drawing = true;
            void draw().finally(() => (drawing = false));
          }, intervalMs);
          process.once('SIGINT', () => {
            clearInterval(timer);
            resolve();
          });
        });
      }),
    );
}

async function controlAll(client: DaemonClient, action: string): Promise<void> {
  const { servers } = await client.request<ServersBody>('POST', `/api/servers/${action}-all`);
  process.stdout.write(`${statusTable(servers)}\n`);
}

function registerControl(program: Command): void {
  const verbs = { start: 'start', stop: 'stop', restart: 'restart' } as const;
  for (const action of Object.values(verbs)) {
    daemonOptions(program.command(action))
      .description(`${action} one server of the running daemon, or all with --all`)
      .argument('[server]', 'the server to ' + action)
      .option('--all', `${action} every server`)
      .action(
        withDaemon(async (client, options: DaemonOptions & { all?: boolean }, server: string | undefined) => {
          if (options.all && server) throw new OrchError('BAD_REQUEST', `give a server name or --all, not both`);
          if (options.all) return controlAll(client, action);
          if (!server) {
            throw new OrchError('BAD_REQUEST', `which server? \`mcp-orch ${action} SERVER\`, or \`mcp-orch ${action} --all\``);
          }
          const result = await client.request<{ server: AdminServerStatus }>(
            'POST',
            `/api/servers/${encodeURIComponent(server)}/${action}`,
          );
          const s = result.server;
          const pid = s.pid === null ? '' : ` (pid ${s.pid})`;
          process.stdout.write(`${s.name}: ${s.state}${pid}${s.lastError && s.state !== 'running' ? `: ${s.lastError}` : ''}\n`);
          if (action !== 'stop' && s.state !== 'running') process.exitCode = 1;
        }),
      );
  }

  daemonOptions(program.command('reload'))
    .description('re-read the config file now: start added servers, stop removed ones, restart changed ones')
    .option('--json', 'print JSON')
    .action(
      withDaemon(async (client, options: DaemonOptions & { json?: boolean }) => {
        const report = await client.request<ReloadReport>('POST', '/api/reload');
        if (options.json) return printJson(report);
        const list = (names: string[]) => (names.length ? names.join(', ') : 'none');
        process.stdout.write(
          `reloaded ${report.file}\n  added: ${list(report.added)}\n  removed: ${list(report.removed)}\n  changed: ${list(report.changed)}\n`,
        );
        if (report.restartRequired.length) {
          process.stdout.write(`  these settings take effect when the daemon restarts: ${report.restartRequired.join(', ')}\n`);
        }
      }),
    );
}

function printLogLine(entry: LogLine): void {
  process.stdout.write(`${entry.line}\n`);
}

/** Reads Server-Sent Events of log lines until the stream ends or the process is interrupted. */
async function followLogs(response: Response): Promise<void> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffer = '';
  const chunks = (async function* () {
    try {
      yield* response.body as unknown as AsyncIterable<Uint8Array>;
    } catch {
      // the connection went away ("terminated"): the caller finds out why
    }
  })();
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trimStart())
        .join('\n');
      if (data) printLogLine(JSON.parse(data) as LogLine);
    }
  }
}

function registerLogs(program: Command): void {
  daemonOptions(program.command('logs'))
    .description("a server's recent stderr lines; -f keeps printing new ones")
    .argument('<server>', 'the server')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --lines <n>', 'how many recent lines', '100')
    .action(
      withDaemon(async (client, options: DaemonOptions & { follow?: boolean; lines: string }, server: string) => {
        const lines = Number.parseInt(options.lines, 10);
        if (!Number.isInteger(lines) || lines < 0)
          throw new OrchError('BAD_REQUEST', `--lines: expected a whole number, got "${options.lines}"`);
        const path = `/api/servers/${encodeURIComponent(server)}/logs?lines=${lines}`;
        if (!options.follow) {
          const body = await client.request<{ lines: LogLine[] }>('GET', path);
          body.lines.forEach(printLogLine);
          return;
        }
        const response = await client.fetch(`${path}&follow=1`);
        if (!response.ok) {
          await client.request('GET', path); // throws the daemon's error (unknown server, ...)
          throw new OrchError('INTERNAL', `the daemon answered ${response.status} to logs -f`);
        }
        await followLogs(response);
        // The stream ended: the server was removed (404 names the others) or the daemon stopped.
        await client.request('GET', `/api/servers/${encodeURIComponent(server)}`);
        throw new OrchError('INTERNAL', `the daemon closed the log stream of ${server}`);
      }),
    );
}

function registerStopDaemon(program: Command): void {
  daemonOptions(program.command('stop-daemon'))
    .description('stop the daemon of the data dir (SIGTERM) and wait until it has exited')
    .option('--timeout <seconds>', 'how long to wait for it to exit', String(STOP_TIMEOUT_SEC))
    .action(async (options: DaemonOptions & { timeout: string }) => {
      try {
        const dataDir = resolveDataDir(options);
        const info = readDaemonInfo(dataDir);
        if (!info || !processAlive(info.pid)) throw noDaemon(dataDir);
        process.kill(info.pid, 'SIGTERM');
        const deadline = Date.now() + Math.max(1, Number(options.timeout) || STOP_TIMEOUT_SEC) * 1000;
        while (processAlive(info.pid)) {
          if (Date.now() > deadline) {
            throw new OrchError('INTERNAL', `mcp-orch (pid ${info.pid}) is still running ${options.timeout}s after SIGTERM`, {
              hint: `see ${dataDir}/mcp-orch.log; \`kill -9 ${info.pid}\` ends it at once (its children exit when their stdin closes)`,
            });
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        process.stdout.write(`stopped mcp-orch (pid ${info.pid})\n`);
      } catch (error) {
        reportError(error);
      }
    });
}

/** status, monitor, start, stop, restart, reload, logs and stop-daemon: commands for a running daemon. */
export function registerControlCommands(program: Command): void {
  registerStatus(program);
  registerControl(program);
  registerLogs(program);
  registerStopDaemon(program);
}
