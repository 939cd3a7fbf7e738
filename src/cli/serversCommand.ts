import type { Command } from 'commander';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { allGroups, groupsOf } from '../config/fleet.js';
import { createDaemon } from '../daemon/daemon.js';
import { fetchWithin, readAdminToken } from '../daemon/stateFiles.js';
import { isOrchError, OrchError } from '../errors.js';
import type { ServerStatus } from '../upstream/status.js';
import { serverStatus } from '../upstream/status.js';
import type { Upstream } from '../upstream/upstream.js';
import { colorsFor, paintState } from './colors.js';
import { loadContext, reportError, type CommandContext, type ConfigOptions } from './context.js';
import { clientOf } from './daemonClient.js';
import { findDaemon } from './findDaemon.js';
import { clip, printJson, table } from './output.js';
import { configOptions } from './serveCommand.js';

type ListOptions = ConfigOptions & { json?: boolean; server?: string; group?: string };
type Servers = (ServerStatus & { toolList: Pick<Tool, 'name' | 'description'>[] })[];

interface Snapshot {
  source: 'daemon' | 'direct';
  servers: Servers;
}

const catalogOf = async (found: Parameters<typeof clientOf>[0]): Promise<Servers> =>
  (await clientOf(found).request<{ servers: Servers }>('GET', '/api/servers?catalog=1')).servers;

/** The servers of the daemon serving this config (by its data dir, the registry, or its host and port), if one runs. */
async function fromDaemon(context: CommandContext, options: ListOptions): Promise<Servers | undefined> {
  try {
    return await catalogOf(await findDaemon({ dataDir: options.dataDir, config: context.loaded.path }));
  } catch (error) {
    // Several daemons serve this config: the person must say which. None: look at the config's address.
    if (!isOrchError(error) || error.code !== 'DAEMON_UNREACHABLE') throw error;
  }
  const { host, port } = context.config.orch;
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const token = readAdminToken(context.dataDir);
  try {
    const response = await fetchWithin(
      `${base}/api/servers?catalog=1`,
      1500,
      token ? { headers: { Authorization: `Bearer ${token}` } } : {},
    );
    if (response.ok) return ((await response.json()) as { servers: Servers }).servers;
    await response.body?.cancel();
    if (response.status === 401) {
      throw new OrchError(
        'DAEMON_UNREACHABLE',
        `the mcp-orch daemon at ${base} did not accept the admin token of data dir ${context.dataDir}`,
        { hint: 'pass the --data-dir that daemon was started with' },
      );
    }
  } catch (error) {
    if (error instanceof OrchError) throw error;
    // no daemon listening
  }
  return undefined;
}

/** A server's status with its tool list, as list-servers and list-tools print it. */
function statusOf(upstream: Upstream): Servers[number] {
  return {
    ...serverStatus(upstream),
    toolList: upstream.catalog.tools.map(({ name, description }) => ({ name, description })),
  };
}

/**
 * Starts the servers here, reports each on stderr as it comes up or fails (this takes seconds), waits
 * for all, and stops them again.
 */
async function startHere(context: CommandContext): Promise<Servers> {
  const daemon = createDaemon({
    config: context.config,
    logger: context.logger,
    dataDir: context.dataDir,
    store: context.store(),
    secrets: context.secrets,
  });
  const colors = colorsFor(process.stderr);
  try {
    await daemon.start({ http: false });
    const started = daemon.pool.all().filter((upstream) => upstream.state !== 'disabled');
    process.stderr.write(colors.dim(`no daemon running: starting ${started.length} servers to inspect them\n`));
    let done = 0;
    // Each as it settled: a server that failed may be starting again (its restart policy) by the
    // time the others have settled, and the report says how its start ended, as stderr did.
    const settled = new Map<string, Servers[number]>();
    await Promise.all(
      started.map(async (upstream) => {
        await upstream.settled();
        settled.set(upstream.name, statusOf(upstream));
        const tools = upstream.state === 'running' ? `, ${upstream.catalog.tools.length} tools` : '';
        const why = upstream.state === 'running' ? '' : `: ${upstream.error ?? ''}`;
        process.stderr.write(
          colors.dim(`  [${++done}/${started.length}] `) +
            `${upstream.name}: ${paintState(colors, upstream.state)}${tools}${clip(why, 120)}\n`,
        );
      }),
    );
    return daemon.pool.all().map((upstream) => settled.get(upstream.name) ?? statusOf(upstream));
  } finally {
    await daemon.close('inspected');
    context.closeStore();
  }
}

/**
 * Reads the servers from the running daemon when there is one, otherwise starts them here. Without
 * a config file here, the only daemon running (the registry) answers.
 */
async function snapshot(options: ListOptions): Promise<Snapshot> {
  let context: CommandContext;
  try {
    context = loadContext(options, 'silent');
  } catch (error) {
    if (options.config !== undefined || !isOrchError(error) || error.code !== 'CONFIG_NOT_FOUND') throw error;
    const found = await findDaemon(options).catch((reason: unknown) => {
      if (!isOrchError(reason) || reason.code !== 'DAEMON_UNREACHABLE') throw reason;
      throw new OrchError(
        'CONFIG_NOT_FOUND',
        `${error.message}, and no mcp-orch daemon is running`,
        error.hint ? { hint: error.hint } : {},
      );
    });
    return { source: 'daemon', servers: await catalogOf(found) };
  }
  const { mcpServers } = context.config;
  if (options.server !== undefined && !mcpServers[options.server]) throw unknownServer(options.server, Object.keys(mcpServers));
  const live = await fromDaemon(context, options);
  if (live) return { source: 'daemon', servers: live };
  // --server, --group: only those need starting.
  const wanted = Object.entries(mcpServers).filter(
    ([name, server]) =>
      (options.server === undefined || name === options.server) &&
      (options.group === undefined || groupsOf(server).includes(options.group)),
  );
  if (options.group !== undefined && wanted.length === 0) throw unknownGroup(options.group, allGroups(mcpServers));
  const only = { ...context, config: { ...context.config, mcpServers: Object.fromEntries(wanted) } };
  return { source: 'direct', servers: await startHere(only) };
}

/** The servers of `group`, or all without one; a group no server is in is an error naming the groups there are. */
function ofGroup(servers: Servers, group: string | undefined): Servers {
  if (group === undefined) return servers;
  const members = servers.filter((server) => server.groups.includes(group));
  if (members.length === 0) throw unknownGroup(group, [...new Set(servers.flatMap((server) => server.groups))].sort());
  return members;
}

function unknownGroup(group: string, groups: string[]): OrchError {
  return new OrchError('NOT_FOUND', `no server is in group "${group}"`, {
    hint: groups.length ? `groups: ${groups.join(', ')}` : 'no server has a "group" in the config',
  });
}

function unknownServer(name: string, known: string[]): OrchError {
  return new OrchError('UNKNOWN_SERVER', `unknown server "${name}"`, { hint: `configured servers: ${known.join(', ') || 'none'}` });
}

export function registerServerCommands(program: Command): void {
  configOptions(program.command('list-servers'))
    .description('list the configured servers with their state, tool count and groups')
    .option('-g, --group <group>', 'only the servers of this group (`group` in the config)')
    .option('--json', 'print JSON')
    .action(async (options: ListOptions) => {
      try {
        const { source, servers: all } = await snapshot(options);
        const servers = ofGroup(all, options.group);
        if (options.json) return printJson({ source, servers: servers.map(({ toolList: _tools, ...rest }) => rest) });
        const wide = Boolean(process.stdout.isTTY);
        const colors = colorsFor(process.stdout);
        const rows = servers.map((s) => [
          s.name,
          s.type,
          clip(s.target, wide ? 50 : 200),
          paintState(colors, s.state),
          s.tools,
          s.groups.join(',') || '-',
          clip(s.error ?? (s.state === 'disabled' ? 'disabled in the config' : ''), wide ? 60 : 500),
        ]);
        process.stdout.write(`${table(['name', 'type', 'command/url', 'state', 'tools', 'groups', 'error'], rows)}\n`);
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
        const { source, servers } = await snapshot(options);
        const chosen = servers.filter((s) => !options.server || s.name === options.server);
        if (options.server && chosen.length === 0)
          throw unknownServer(
            options.server,
            servers.map((s) => s.name),
          );
        if (options.json) return printJson(chosen.map((s) => ({ server: s.name, source, state: s.state, tools: s.toolList })));
        const rows = chosen.flatMap((s) => s.toolList.map((t) => [s.name, t.name, clip((t.description ?? '').split('\n')[0] ?? '', 80)]));
        process.stdout.write(`${table(['server', 'tool', 'description'], rows)}\n`);
        const colors = colorsFor(process.stdout);
        for (const s of chosen.filter((c) => c.state !== 'running')) {
          process.stdout.write(`${s.name}: ${paintState(colors, s.state)}${s.error ? ` (${s.error})` : ''}\n`);
        }
      } catch (error) {
        reportError(error);
      }
    });
}
