import process from 'node:process';
import type { Command } from 'commander';
import { OrchError } from '../errors.js';
import type { AdminServerStatus } from '../http/api/schemas.js';
import type { LogLine } from '../supervisor/logBuffer.js';
import { colorsFor, paintState } from './colors.js';
import { daemonOptions, withDaemon, type DaemonClient } from './daemonClient.js';
import { dataDirFlag, type DaemonOptions } from './findDaemon.js';
import { shellArg, table } from './output.js';

type LogsOptions = DaemonOptions & { follow?: boolean; lines: string };

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

/** Without a name: the servers whose logs there are, and how to read one. */
async function listServers(client: DaemonClient, options: LogsOptions): Promise<void> {
  const { servers } = await client.request<{ servers: AdminServerStatus[] }>('GET', '/api/servers');
  const colors = colorsFor(process.stdout);
  const flag = dataDirFlag(options, client.dataDir);
  const rows = servers.map((s) => [s.name, paintState(colors, s.state), `mcp-orch logs ${shellArg(s.name)}${flag}`]);
  process.stdout.write(`${servers.length ? table(['server', 'state', 'its logs'], rows) : 'the daemon runs no servers'}\n`);
  process.stdout.write("(-f follows a server's log, --lines N sets how many recent lines)\n");
}

/** `mcp-orch logs [SERVER]`: a server's recent stderr (and why it could not start), or the list of servers. */
async function logs(client: DaemonClient, options: LogsOptions, server: string | undefined): Promise<void> {
  if (server === undefined) return listServers(client, options);
  const lines = Number.parseInt(options.lines, 10);
  if (!Number.isInteger(lines) || lines < 0) throw new OrchError('BAD_REQUEST', `--lines: expected a whole number, got "${options.lines}"`);
  const name = encodeURIComponent(server);
  const path = `/api/servers/${name}/logs?lines=${lines}`;
  if (!options.follow) {
    const body = await client.request<{ lines: LogLine[] }>('GET', path);
    body.lines.forEach(printLogLine);
    // A server that is not running says why on stderr, after its lines: the reason may not be among them.
    const status = await client.request<AdminServerStatus>('GET', `/api/servers/${name}`);
    if (status.state !== 'running' && status.lastError) {
      process.stderr.write(`${server} is ${paintState(colorsFor(process.stderr), status.state)}: ${status.lastError}\n`);
    }
    return;
  }
  const response = await client.fetch(`${path}&follow=1`);
  if (!response.ok) {
    await client.request('GET', path); // throws the daemon's error (unknown server, ...)
    throw new OrchError('INTERNAL', `the daemon answered ${response.status} to logs -f`);
  }
  await followLogs(response);
  // The stream ended: the server was removed (404 names the others) or the daemon stopped.
  await client.request('GET', `/api/servers/${name}`);
  throw new OrchError('INTERNAL', `the daemon closed the log stream of ${server}`);
}

export function registerLogs(program: Command): void {
  daemonOptions(program.command('logs'))
    .description("a server's recent stderr lines and, if it is not running, why; -f keeps printing new ones. Without SERVER: the servers")
    .argument('[server]', 'the server')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('-n, --lines <n>', 'how many recent lines', '100')
    .action(withDaemon(logs));
}
