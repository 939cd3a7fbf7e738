import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import type { DeploymentStatus, DeployRequest, DeployResult } from '../deploy/schema.js';
import { OrchError } from '../errors.js';
import { colorsFor, paintState } from './colors.js';
import { collect } from './context.js';
import { apiError, daemonOptions, withDaemon, type DaemonClient } from './daemonClient.js';
import type { DaemonOptions } from './findDaemon.js';
import { printJson, table } from './output.js';
import { confirm } from './storeContext.js';

interface DeployOptions extends DaemonOptions {
  ref?: string;
  name?: string;
  subdir?: string;
  env?: string[];
  json?: boolean;
  yes?: boolean;
}

/** `--env K=V` flags as an object; a flag without `=` is a mistake worth naming. */
function envOf(pairs: string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new OrchError('BAD_REQUEST', `--env ${pair}: expected NAME=VALUE`, { hint: "for a secret: --env TOKEN='${secret:TOKEN}'" });
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/**
 * Sends one deployment operation and follows its log as the daemon streams it (an install may take
 * minutes): lines on stderr, unless --json; resolves with the result, or throws the daemon's error.
 */
async function operate(client: DaemonClient, route: string, body: unknown, quiet: boolean): Promise<DeployResult> {
  const response = await client.fetch(route, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok || !response.body || !(response.headers.get('content-type') ?? '').includes('ndjson')) {
    const text = await response.text();
    throw apiError(JSON.parse(text || '{}') as unknown, response.status);
  }
  const dim = colorsFor(process.stderr).dim;
  for await (const line of createInterface({ input: Readable.fromWeb(response.body as never) })) {
    if (line.trim() === '') continue;
    const message = JSON.parse(line) as { log?: string; result?: DeployResult; error?: unknown; status?: number };
    if (message.log !== undefined && !quiet) process.stderr.write(`${dim(`  ${message.log}`)}\n`);
    if (message.result) return message.result;
    if (message.error) throw apiError(message.error, message.status ?? 500);
  }
  throw new OrchError('DAEMON_UNREACHABLE', 'the daemon ended the answer before saying how the deployment went', {
    hint: 'see `mcp-orch deploy list` and the deployment log',
  });
}

function summary(verb: string, result: DeployResult, url: string): string {
  const colors = colorsFor(process.stdout);
  const lines = [
    `${verb} ${result.name} at ${result.commit.slice(0, 12)}${result.ref ? ` (${result.ref})` : ''} from ${result.url}: ${paintState(colors, result.state)}`,
  ];
  if (result.previous) {
    const next =
      verb === 'rolled back'
        ? `\`mcp-orch deploy update ${result.name}\` goes forward again`
        : `\`mcp-orch deploy rollback ${result.name}\` goes back`;
    lines.push(`  before: ${result.previous.slice(0, 12)} (${next})`);
  }
  if (result.webhook) {
    lines.push(
      `  push webhook: POST ${url}${result.webhook.path}, content type application/json`,
      `  webhook secret (shown once; \`mcp-orch deploy webhook ${result.name}\` makes a new one): ${result.webhook.secret}`,
    );
  }
  lines.push(`  log: ${result.log}`);
  return `${lines.join('\n')}\n`;
}

/** Runs an operation and prints its result: JSON, or what changed. */
async function report(client: DaemonClient, options: DeployOptions, verb: string, route: string, body: unknown): Promise<void> {
  const result = await operate(client, route, body, options.json === true);
  if (options.json) return printJson(result);
  if (result.changed === false) {
    return void process.stdout.write(
      `${result.name} is at ${result.commit.slice(0, 12)} already, the newest of ${result.ref ?? 'its ref'}\n`,
    );
  }
  process.stdout.write(summary(verb, result, client.info.url));
}

function listTable(deployments: DeploymentStatus[]): string {
  const colors = colorsFor(process.stdout);
  return table(
    ['deployment', 'state', 'commit', 'ref', 'deployed', 'repository'],
    deployments.map((d) => [
      d.name,
      paintState(colors, d.state),
      d.commit.slice(0, 12),
      d.ref ?? '-',
      d.deployedAt.slice(0, 16).replace('T', ' '),
      d.url,
    ]),
  );
}

/**
 * A subcommand's action with its options merged with those commander gave `deploy` itself, which
 * takes the same flags (`deploy list --json` is parsed as the parent's --json).
 */
function sub<A extends unknown[]>(body: (client: DaemonClient, options: DeployOptions, ...args: A) => Promise<void>) {
  const run = withDaemon(body);
  return (...args: [...A, DeployOptions, Command]): Promise<void> => {
    const command = args[args.length - 1] as Command;
    return run(...(args.slice(0, -2) as A), command.optsWithGlobals<DeployOptions>(), command);
  };
}

export function registerDeployCommands(program: Command): void {
  const deploy = daemonOptions(program.command('deploy'))
    .description('run an MCP server from a git repository: clone, install, start, and add it to the config')
    .argument('[url]', 'a git URL (https://, ssh://, user@host:path) or a local repository path')
    .option('--ref <ref>', 'the branch, tag or commit to deploy and follow (default: the default branch)')
    .option('--name <name>', "the server's name (default: the manifest's, else the repository's)")
    .option('--subdir <dir>', 'the folder of the server inside the repository')
    .option('--env <NAME=VALUE>', "a variable for the server, repeatable; the value may be '${secret:NAME}'", collect)
    .option('--json', 'print the result as JSON (and no progress)')
    .addHelpText(
      'after',
      `
The daemon clones into <data dir>/deployments/<name>/<commit>, reads mcp.json, mcp-manifest.json or
package.json ("mcp" block, "main"/"bin"), or pyproject.toml (run with uv), runs npm ci and the build
script, starts the server and adds it to the config once it answers. Updates build the new commit
beside the running one and switch only once it passes its first health check.

  $ mcp-orch deploy https://github.com/me/my-server --env API_TOKEN='\${secret:API_TOKEN}'
  $ mcp-orch deploy ./servers/local-one --name local
  $ mcp-orch deploy update my-server        # to the newest commit of the ref it follows
  $ mcp-orch deploy rollback my-server      # back one commit
  $ mcp-orch deploy list`,
    )
    .action(
      withDaemon(async (client, options: DeployOptions, url?: string) => {
        if (url === undefined) return void process.stdout.write(deploy.helpInformation());
        // A local path is the daemon's to read: made absolute from here.
        const where = fs.existsSync(url) ? path.resolve(url) : url;
        const request: DeployRequest = {
          url: where,
          ...(options.ref ? { ref: options.ref } : {}),
          ...(options.name ? { name: options.name } : {}),
          ...(options.subdir ? { subdir: options.subdir } : {}),
          ...(options.env?.length ? { env: envOf(options.env) } : {}),
        };
        await report(client, options, 'deployed', '/api/deployments', request);
      }),
    );

  daemonOptions(deploy.command('update'))
    .description('build the newest commit of the ref a deployment follows (or --ref) and switch to it once healthy')
    .argument('<name>')
    .option('--ref <ref>', 'follow this branch, tag or commit from now on')
    .option('--json', 'print the result as JSON (and no progress)')
    .action(
      sub((client, options: DeployOptions, name: string) =>
        report(client, options, 'updated', `/api/deployments/${encodeURIComponent(name)}/update`, options.ref ? { ref: options.ref } : {}),
      ),
    );

  daemonOptions(deploy.command('rollback'))
    .description('go back to the commit deployed before the current one')
    .argument('<name>')
    .option('--json', 'print the result as JSON (and no progress)')
    .action(
      sub((client, options: DeployOptions, name: string) =>
        report(client, options, 'rolled back', `/api/deployments/${encodeURIComponent(name)}/rollback`, undefined),
      ),
    );

  daemonOptions(deploy.command('list'))
    .description('the deployments: state, commit, ref, when, repository')
    .option('--json', 'print JSON')
    .action(
      sub(async (client, options: DeployOptions) => {
        const { deployments } = await client.request<{ deployments: DeploymentStatus[] }>('GET', '/api/deployments');
        if (options.json) return printJson(deployments);
        process.stdout.write(deployments.length ? `${listTable(deployments)}\n` : 'no deployments; add one with `mcp-orch deploy URL`\n');
      }),
    );

  daemonOptions(deploy.command('remove'))
    .description('stop a deployed server and remove it from the config, with its checkouts and webhook secret')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      sub(async (client, options: DeployOptions, name: string) => {
        await client.request('GET', `/api/deployments/${encodeURIComponent(name)}`);
        await confirm(`stop and remove deployment "${name}"?`, options.yes);
        const response = await client.fetch(`/api/deployments/${encodeURIComponent(name)}`, { method: 'DELETE' });
        if (!response.ok) throw apiError(await response.json(), response.status);
        process.stdout.write(`removed ${name}\n`);
      }),
    );

  daemonOptions(deploy.command('webhook'))
    .description('a new push-webhook secret for a deployment (the old one stops working at once)')
    .argument('<name>')
    .action(
      sub(async (client, _options: DeployOptions, name: string) => {
        const hook = await client.request<{ path: string; secret: string }>(
          'POST',
          `/api/deployments/${encodeURIComponent(name)}/webhook-secret`,
        );
        process.stdout.write(
          `push webhook: POST ${client.info.url}${hook.path}, content type application/json\nsecret (shown once): ${hook.secret}\n`,
        );
      }),
    );
}
