import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import { createDaemon, type Daemon } from '../daemon/daemon.js';
import { runningDaemons } from '../daemon/registry.js';
import { fetchWithin, runningDaemon } from '../daemon/stateFiles.js';
import { VERSION } from '../daemon/version.js';
import { OrchError } from '../errors.js';
import { killAllChildrenSync } from '../supervisor/childProcess.js';
import { localPrincipal } from '../auth/policy.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import { collect, loadContext, reportError, type CommandContext, type ConfigOptions, type ServeOverrides } from './context.js';
import { banner } from './banner.js';
import { colorsFor } from './colors.js';
import { detachServe } from './detach.js';
import { shellArg } from './output.js';

type ServeOptions = ConfigOptions & ServeOverrides & { watch?: boolean; daemon?: boolean; auth?: boolean };

/** A port in use: by another mcp-orch (it answers /health; the registry knows its data dir) or by something else. */
async function explainListenError(error: unknown, host: string, port: number): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return error;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const response = await fetchWithin(`${url}/health`, 1500).catch(() => undefined);
  const isOrch = response !== undefined && ((await response.json().catch(() => ({}))) as { status?: unknown }).status !== undefined;
  if (!isOrch) {
    return new OrchError('BAD_REQUEST', `${url} is in use`, {
      hint: 'pick another --port (0 for any free one), or stop what listens there',
    });
  }
  const other = (await runningDaemons()).find((daemon) => new URL(daemon.url).port === String(port));
  return new OrchError(
    'BAD_REQUEST',
    `${url} is in use by another mcp-orch daemon${other ? ` (pid ${other.pid}, data dir ${other.dataDir})` : ''}`,
    {
      hint: other
        ? `stop it with \`mcp-orch stop-daemon --data-dir ${shellArg(other.dataDir)}\`, or pick another --port`
        : 'stop it with `mcp-orch stop-daemon --data-dir DIR` (the data dir it was started with), or pick another --port',
    },
  );
}

/** One daemon per data dir: a second one would replace the first's admin token and daemon.json. */
async function refuseSecond(dataDir: string): Promise<void> {
  const running = await runningDaemon(dataDir);
  if (running) {
    throw new OrchError('BAD_REQUEST', `mcp-orch is already running (pid ${running.pid}) at ${running.url} for data dir ${dataDir}`, {
      hint: `stop it with \`mcp-orch stop-daemon --data-dir ${shellArg(dataDir)}\`, or give this one another --data-dir`,
    });
  }
}

/**
 * Ends the daemon on SIGINT/SIGTERM: stop accepting, close sessions, stop every child (SIGTERM, then
 * SIGKILL after the grace period). A second signal exits at once; children are still killed by the
 * exit hook, so none outlives the daemon.
 */
function handleSignals(daemon: Daemon, context: CommandContext): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(130);
    }
    stopping = true;
    closeAll(daemon, context, `${signal} received`).then(
      () => process.exit(0),
      (error: unknown) => {
        reportError(error);
        process.exit(1);
      },
    );
    process.stderr.write(`mcp-orch: ${signal} received, stopping servers\n`);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.on('exit', killAllChildrenSync);
}

/** Stops the daemon, then closes the database (the audit log's last rows are written by then). */
async function closeAll(daemon: Daemon, context: CommandContext, cause?: string): Promise<void> {
  await daemon.close(cause);
  context.closeStore();
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** `--no-auth` serves everyone who can connect: allowed only where that is this machine's users. */
function refuseOpenNetwork(host: string): void {
  if (LOOPBACK_HOSTS.has(host) || host.startsWith('127.')) return;
  throw new OrchError('BAD_REQUEST', `--no-auth is refused on ${host}: anyone who reaches it could use every server`, {
    hint: 'bind a loopback address (--host 127.0.0.1), or keep API keys on (leave out --no-auth)',
  });
}

function configOptions(command: Command): Command {
  return command
    .option('-c, --config <path>', 'config file (default: ./mcp-config.json, else ~/.mcp.json)')
    .option('--data-dir <dir>', 'where mcp-orch keeps its state (default: ~/.mcp-orch or $MCP_ORCH_DATA_DIR)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent');
}

export function registerServeCommands(program: Command): void {
  configOptions(program.command('serve'))
    .description('run the gateway: start the configured servers and serve them over HTTP')
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('-p, --port <port>', 'port to listen on, 0 for any free one (default 8000)')
    .option('--allow-origin <origin>', 'also accept browser requests from this Origin (repeatable)', collect)
    .option('--no-watch', 'do not reload the config file when it changes')
    .option('--daemon', 'run in the background (output to <data dir>/mcp-orch.log); stop it with `mcp-orch stop-daemon`')
    .option('--no-auth', 'serve without API keys (loopback addresses only; announced at every start)')
    .action(async (options: ServeOptions) => {
      try {
        const context = loadContext(options);
        if (options.auth === false) refuseOpenNetwork(context.config.orch.host);
        const { logger, loaded } = context;
        await refuseSecond(context.dataDir);
        if (options.daemon) {
          const started = await detachServe(context.dataDir, process.argv.slice(1));
          process.stdout.write(
            `mcp-orch is running at ${started.url} (pid ${started.pid})\n  logs: ${started.logFile}\n` +
              `  stop it with \`mcp-orch stop-daemon\` (with other daemons running: --data-dir ${shellArg(context.dataDir)})\n`,
          );
          return;
        }
        logger.info({ config: loaded.path }, 'config loaded');
        const daemon = createDaemon({
          config: context.config,
          logger,
          dataDir: context.dataDir,
          overrides: context.overrides,
          configPath: loaded.path,
          store: context.store(),
          secrets: context.secrets,
          auth: options.auth !== false,
          ...(options.watch === false ? {} : { watchPath: loaded.path }),
        });
        handleSignals(daemon, context);
        const { url, firstRun } = await daemon.start().catch(async (error: unknown) => {
          await closeAll(daemon, context);
          throw await explainListenError(error, context.config.orch.host, context.config.orch.port);
        });
        const info = {
          url: url!,
          configPath: loaded.path,
          config: context.config,
          dataDir: context.dataDir,
          version: VERSION,
          auth: options.auth !== false,
        };
        process.stderr.write(banner(info, colorsFor(process.stderr)));
        if (options.auth === false) {
          process.stderr.write('mcp-orch: API keys are off (--no-auth): every local process may call every server\n');
        }
        if (firstRun) process.stderr.write(`\n${firstRun.message}\n`);
      } catch (error) {
        reportError(error);
      }
    });

  configOptions(program.command('stdio'))
    .description(
      "serve a project's servers, unified, over stdin/stdout (for clients that launch a command); no key: the user who runs it owns the data dir",
    )
    .option('--project <slug>', 'the project whose servers to serve', DEFAULT_PROJECT)
    .action(async (options: ConfigOptions & { project: string }) => {
      try {
        // stdout carries the protocol; logs go to stderr, quiet unless asked.
        const context = loadContext(options, 'warn');
        const daemon = createDaemon({
          config: context.config,
          logger: context.logger,
          dataDir: context.dataDir,
          store: context.store(),
          secrets: context.secrets,
        });
        handleSignals(daemon, context);
        await daemon.start({ http: false });
        daemon.access.project(options.project);
        const transport = new StdioServerTransport();
        const session = await daemon.gateway.connectTransport({ kind: 'unified' }, transport, localPrincipal(options.project));
        const exit = (): void => void closeAll(daemon, context).then(() => process.exit(0));
        session.onclose = exit;
        process.stdin.on('end', exit);
      } catch (error) {
        reportError(error);
      }
    });
}

export { configOptions };
