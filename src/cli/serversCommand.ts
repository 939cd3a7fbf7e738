import type { Command } from 'commander';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { createDaemon } from '../daemon/daemon.js';
import { readAdminToken } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import type { ServerStatus } from '../upstream/status.js';
import { poolStatus } from '../upstream/status.js';
import { loadContext, reportError, type CommandContext, type ConfigOptions } from './context.js';
import { connectDaemon } from './daemonClient.js';
import { clip, printJson, table } from './output.js';
import { configOptions } from './serveCommand.js';

type ListOptions = ConfigOptions & { json?: boolean; server?: string };

interface Snapshot {
  source: 'daemon' | 'direct';
  servers: (ServerStatus & { toolList: Pick<Tool, 'name' | 'description'>[] })[];
}

/** The servers as the daemon of the data dir (daemon.json), or else one at the config's host and port, reports them. */
async function fromDaemon(context: CommandContext): Promise<Omit<Snapshot, 'source'> | undefined> {
  try {
    const client = await connectDaemon(context.dataDir);
    return await client.request<Omit<Snapshot, 'source'>>('GET', '/api/servers?catalog=1');
  } catch {
    // no daemon for this data dir: try the config's address
  }
  const { host, port } = context.config.orch;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const token = readAdminToken(context.dataDir);
  try {
    const response = await fetch(`${base}/api/servers?catalog=1`, {
      signal: AbortSignal.timeout(1500),
      ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
    });
    if (response.ok) return (await response.json()) as Omit<Snapshot, 'source'>;
    await response.body?.cancel();
    if (response.status === 401) {
      throw new OrchError(
        'DAEMON_UNREACHABLE',
        `the mcp-orch daemon at ${base} did not accept the admin token of data dir ${context.dataDir}`,
        {
          hint: 'pass the --data-dir that daemon was started with',
        },
      );
    }
  } catch (error) {
    if (error instanceof OrchError) throw error;
    // no daemon listening
  }
  return undefined;
}

/**
 * Reads the servers from the running daemon when there is one, otherwise starts them here, waits
 * for each to come up or fail, and stops them again.
 */
async function snapshot(context: CommandContext): Promise<Snapshot> {
  const live = await fromDaemon(context);
  if (live) return { source: 'daemon', ...live };
  const daemon = createDaemon({
    config: context.config,
    logger: context.logger,
    dataDir: context.dataDir,
    store: context.store(),
    secrets: context.secrets,
  });
  try {
    await daemon.start({ http: false });
    await daemon.settled();
    const servers = poolStatus(daemon.pool).map((status) => ({
      ...status,
      toolList: (daemon.pool.get(status.name)?.catalog.tools ?? []).map(({ name, description }) => ({ name, description })),
    }));
    return { source: 'direct', servers };
  } finally {
    await daemon.close();
    context.closeStore();
  }
}

export function registerServerCommands(program: Command): void {
  configOptions(program.command('list-servers'))
    .description('list the configured servers with their state and tool count')
    .option('--json', 'print JSON')
    .action(async (options: ListOptions) => {
      try {
        const context = loadContext(options, 'silent');
        const { source, servers } = await snapshot(context);
        if (options.json) return printJson({ source, servers: servers.map(({ toolList: _tools, ...rest }) => rest) });
        const wide = Boolean(process.stdout.isTTY);
        const rows = servers.map((s) => [
          s.name,
          s.type,
          clip(s.target, wide ? 50 : 200),
          s.state,
          s.tools,
          clip(s.error ?? '', wide ? 60 : 500),
        ]);
        process.stdout.write(`${table(['name', 'type', 'command/url', 'state', 'tools', 'error'], rows)}\n`);
        if (source === 'direct') process.stdout.write('(no daemon running: servers were started to inspect them, and stopped again)\n');
      } catch (error) {
        reportError(error);
      }
    });

  configOptions(program.command('list-tools'))
    .description('list the tools of every server, or of one with --server')
    .option('-s, --server <name>', 'only this server')
    .option('--json', 'print JSON')
    .action(async (options: ListOptions) => {
      try {
        const context = loadContext(options, 'silent');
        if (options.server && !context.config.mcpServers[options.server]) {
          throw new OrchError('UNKNOWN_SERVER', `unknown server "${options.server}"`, {
            hint: `configured servers: ${Object.keys(context.config.mcpServers).join(', ') || 'none'}`,
          });
        }
        const { source, servers } = await snapshot(context);
        const chosen = servers.filter((s) => !options.server || s.name === options.server);
        if (options.json) return printJson(chosen.map((s) => ({ server: s.name, source, state: s.state, tools: s.toolList })));
        const rows = chosen.flatMap((s) => s.toolList.map((t) => [s.name, t.name, clip((t.description ?? '').split('\n')[0] ?? '', 80)]));
        process.stdout.write(`${table(['server', 'tool', 'description'], rows)}\n`);
        for (const s of chosen.filter((c) => c.state !== 'running'))
          process.stdout.write(`${s.name}: ${s.state}${s.error ? ` (${s.error})` : ''}\n`);
      } catch (error) {
        reportError(error);
      }
    });
}
