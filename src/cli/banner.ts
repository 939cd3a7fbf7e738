import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Colors } from './colors.js';
import { shellArg } from './output.js';

export interface BannerInput {
  /** Where the daemon listens, as the listener reports it (`http://0.0.0.0:8000` for a wildcard host). */
  url: string;
  configPath: string;
  config: Config;
  dataDir: string;
  version: string;
  /** Whether requests need an API key (`--no-auth` turns them off, on loopback only). */
  auth: boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;
const WILDCARD = /^(0\.0\.0\.0|::)$/;

/** The hostname of a URL as the listener gave it, without IPv6 brackets. */
const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * URLs a client can use: a wildcard address (0.0.0.0, ::) is not one, so it becomes loopback plus
 * this machine's network addresses; any other address is used as it is.
 */
export function usableUrls(url: string, interfaces = os.networkInterfaces()): string[] {
  const host = hostOf(url);
  if (!WILDCARD.test(host)) return [url];
  const { port } = new URL(url);
  const addresses = Object.values(interfaces)
    .flat()
    .filter((address) => address !== undefined && !address.internal && (host === '::' || address.family === 'IPv4'))
    .map((address) => (address!.family === 'IPv6' ? `[${address!.address}]` : address!.address));
  return [`http://127.0.0.1:${port}`, ...addresses.map((address) => `http://${address}:${port}`)];
}

/** Whether clients on other machines can reach the listener. */
export function reachableFromNetwork(url: string): boolean {
  return !LOOPBACK.test(hostOf(url));
}

/**
 * What `serve` prints once it listens: each server's own URL, the unified one, /health, how to
 * connect a client and how to control the daemon; a warning first when other machines can reach it.
 */
export function banner(input: BannerInput, colors: Colors): string {
  const urls = usableUrls(input.url);
  const base = urls[0]!;
  const names = Object.keys(input.config.mcpServers);
  const width = Math.max(12, ...names.map((name) => name.length + 2));
  const row = (label: string, value: string): string => `  ${label.padEnd(width)} ${value}`;
  const lines: string[] = [];
  if (reachableFromNetwork(input.url)) {
    lines.push(
      colors.yellow(
        `warning: listening on ${hostOf(input.url)}: the gateway is reachable from the network; anyone who holds one of ` +
          `its API keys there can call the servers the key reaches. Use --host 127.0.0.1 unless that is what you want.`,
      ),
    );
  }
  lines.push(`${colors.bold(`mcp-orch ${input.version}`)} serving ${input.configPath}`);
  lines.push(row('all servers', `${colors.cyan(`${base}/mcp`)}  (legacy SSE: ${base}/sse)`));
  for (const name of names) {
    const disabled = input.config.mcpServers[name]?.disabled === true;
    lines.push(row(name, disabled ? colors.gray('disabled in the config') : `${base}/servers/${encodeURIComponent(name)}/mcp`));
  }
  lines.push(row('health', `${base}/health`));
  const login = input.auth ? '' : `; log in with the token in ${path.join(input.dataDir, 'admin-token')}`;
  lines.push(row('dashboard', `${colors.cyan(`${base}/ui`)}  (REST API: ${base}/api/docs${login})`));
  if (urls.length > 1) lines.push(row('also at', urls.slice(1).join(', ')));
  lines.push('Connect a client:');
  if (input.auth) {
    lines.push(`  claude mcp add --transport http mcp-orch ${base}/mcp --header "Authorization: Bearer <key>"`);
    lines.push('  Cursor, Cline, Claude Desktop, VS Code: mcp-orch connect CLIENT prints their config with a new key');
  } else {
    lines.push(`  claude mcp add --transport http mcp-orch ${base}/mcp`);
    lines.push(`  Cursor, Cline: {"mcpServers": {"mcp-orch": {"url": "${base}/mcp"}}}`);
  }
  lines.push('Control it from any folder: mcp-orch status, mcp-orch logs SERVER, mcp-orch stop-daemon');
  lines.push(`  (with other daemons running, add --data-dir ${shellArg(input.dataDir)})`);
  return `${lines.join('\n')}\n`;
}
