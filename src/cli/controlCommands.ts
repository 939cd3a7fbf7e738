import process from 'node:process';
import type { Command } from 'commander';
import { processAlive, readDaemonInfo } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import type { FleetOverview, ReloadReport } from '../http/api/deps.js';
import type { AdminServerStatus } from '../http/api/schemas.js';
import { colorsFor, paintState, type Colors } from './colors.js';
import { reportError } from './context.js';
import { daemonOptions, withDaemon, type DaemonClient } from './daemonClient.js';
import { dataDirFlag, findDaemon, type DaemonOptions } from './findDaemon.js';
import { registerLogs } from './logsCommand.js';
import { clip, printJson, table } from './output.js';

const STOP_TIMEOUT_SEC = 30;

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

/** The status table of `status` and `monitor`, states in colour on a terminal. */
export function statusTable(servers: AdminServerStatus[], colors: Colors, width = 200): string {
  const rows = servers.map((s) => [
    s.name,
    paintState(colors, s.state),
    s.pid ?? '-',
    formatUptime(s.uptimeSec),
    s.restarts,
    s.cpuPercent === null ? '-' : `${s.cpuPercent.toFixed(1)}%`,
    formatBytes(s.memoryBytes),
    s.tools,
    clip(s.lastError ?? s.warning ?? (s.state === 'disabled' ? 'disabled in the config' : ''), Math.max(20, width - 90)),
  ]);
  return table(['server', 'state', 'pid', 'uptime', 'restarts', 'cpu', 'memory', 'tools', 'last error or warning'], rows);
}

interface ServersBody {
  servers: AdminServerStatus[];
}

function registerStatus(program: Command): void {
  daemonOptions(program.command('status'))
    .description("the running daemon's servers: state, pid, uptime, restarts, CPU, memory, tools, last error or warning")
    .option('--json', 'print JSON')
    .action(
      withDaemon(async (client, options: DaemonOptions & { json?: boolean }) => {
        const { servers } = await client.request<ServersBody>('GET', '/api/servers');
        if (options.json) {
          const { pinning, alerts, groups } = await client.request<FleetOverview>('GET', '/api/fleet');
          return printJson({ daemon: client.info, servers, pinning, alerts, groups });
        }
        process.stdout.write(
          `mcp-orch ${client.info.version} at ${client.info.url} (pid ${client.info.pid}, data dir ${client.dataDir})\n`,
        );
        process.stdout.write(`${statusTable(servers, colorsFor(process.stdout), process.stdout.columns ?? 200)}\n`);
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
            const colors = colorsFor(process.stdout);
            body = `mcp-orch at ${client.info.url} (pid ${client.info.pid})  ${now}\n\n${statusTable(servers, colors, process.stdout.columns ?? 200)}\n`;
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

async function controlAll(client: DaemonClient, action: string, group: string | undefined): Promise<void> {
  const query = group === undefined ? '' : `?group=${encodeURIComponent(group)}`;
  const { servers } = await client.request<ServersBody>('POST', `/api/servers/${action}-all${query}`);
  process.stdout.write(`${statusTable(servers, colorsFor(process.stdout))}\n`);
}

function registerControl(program: Command): void {
  const verbs = { start: 'start', stop: 'stop', restart: 'restart' } as const;
  for (const action of Object.values(verbs)) {
    daemonOptions(program.command(action))
      .description(`${action} one server of the running daemon, those of a group with --group, or all with --all`)
      .argument('[server]', 'the server to ' + action)
      .option('--all', `${action} every server`)
      .option('-g, --group <group>', `${action} the servers of this group (\`group\` in the config)`)
      .action(
        withDaemon(async (client, options: DaemonOptions & { all?: boolean; group?: string }, server: string | undefined) => {
          if ([options.all, options.group !== undefined, server !== undefined].filter(Boolean).length > 1) {
            throw new OrchError('BAD_REQUEST', `give one of a server name, --group or --all`);
          }
          if (options.all || options.group !== undefined) return controlAll(client, action, options.group);
          if (!server) {
            const { servers } = await client.request<ServersBody>('GET', '/api/servers');
            const flag = dataDirFlag(options, client.dataDir);
            throw new OrchError(
              'BAD_REQUEST',
              `which server? \`mcp-orch ${action} SERVER${flag}\`, \`mcp-orch ${action} --group GROUP${flag}\` or \`mcp-orch ${action} --all${flag}\``,
              {
                hint: `servers: ${servers.map((s) => `${s.name} (${s.state})`).join(', ') || 'none'}`,
              },
            );
          }
          const result = await client.request<{ server: AdminServerStatus }>(
            'POST',
            `/api/servers/${encodeURIComponent(server)}/${action}`,
          );
          const s = result.server;
          const pid = s.pid === null ? '' : ` (pid ${s.pid})`;
          const state = paintState(colorsFor(process.stdout), s.state);
          process.stdout.write(`${s.name}: ${state}${pid}${s.lastError && s.state !== 'running' ? `: ${s.lastError}` : ''}\n`);
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
          `reloaded ${report.file}\n  added: ${list(report.added)}\n  removed: ${list(report.removed)}\n  changed: ${list(report.changed)}\n` +
            `  updated without a restart: ${list(report.updated)}\n`,
        );
        if (report.restartRequired.length) {
          process.stdout.write(`  these settings take effect when the daemon restarts: ${report.restartRequired.join(', ')}\n`);
        }
      }),
    );
}

/** The daemon's pid when daemon.json names a live process, answering or not: a hung daemon can be stopped too. */
async function livePid(dataDir: string) {
  const info = readDaemonInfo(dataDir);
  return info && processAlive(info.pid) ? info : undefined;
}

function registerStopDaemon(program: Command): void {
  daemonOptions(program.command('stop-daemon'))
    .description('stop the running daemon (SIGTERM) and wait until it has exited')
    .option('--timeout <seconds>', 'how long to wait for it to exit', String(STOP_TIMEOUT_SEC))
    .action(async (options: DaemonOptions & { timeout: string }) => {
      try {
        const { dataDir, info } = await findDaemon(options, livePid);
        process.kill(info.pid, 'SIGTERM');
        if (process.stderr.isTTY) process.stderr.write(`stopping mcp-orch (pid ${info.pid}) and its servers...\n`);
        const deadline = Date.now() + Math.max(1, Number(options.timeout) || STOP_TIMEOUT_SEC) * 1000;
        while (processAlive(info.pid)) {
          if (Date.now() > deadline) {
            throw new OrchError('INTERNAL', `mcp-orch (pid ${info.pid}) is still running ${options.timeout}s after SIGTERM`, {
              hint: `see ${dataDir}/mcp-orch.log; \`kill -9 ${info.pid}\` ends it at once (its children exit when their stdin closes)`,
            });
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        process.stdout.write(`stopped mcp-orch (pid ${info.pid}, data dir ${dataDir})\n`);
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
