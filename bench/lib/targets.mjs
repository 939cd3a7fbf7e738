// Starts what the benchmark measures, each as its own process so that its RSS can be read and its
// CPU is not shared with the client: the built daemon, the HTTP floor, and the peers (supergateway
// --stateful, mcp-proxy). Each returns a handle with its pid, its endpoints and an idempotent stop().
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild, waitForLine } from './proc.mjs';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const node = process.execPath;
const fromRoot = (...parts) => join(repoRoot, ...parts);
/** The daemon under test: the repo's build, or another one (MCP_ORCH_CLI=/path/to/dist/cli.js) to compare builds. */
export const daemonCli = process.env.MCP_ORCH_CLI ?? fromRoot('dist/cli.js');

export const ECHO = { command: node, args: [fromRoot('test/fixtures/echo.mjs')] };
export const EVERYTHING = {
  command: node,
  args: [fromRoot('node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
};
export const manyTools = (count) => ({
  command: node,
  args: [fromRoot('test/fixtures/many-tools.mjs')],
  env: { TOOL_COUNT: String(count) },
});

/**
 * What the benchmark's load would otherwise run into: the quotas that protect a shared daemon from
 * one client, and API keys' rate limits (kept on, so their cost is measured, but out of reach).
 */
export const BENCH_ORCH = {
  limits: { sessions: 100_000, sessionsPerClient: 100_000, streams: 100_000, streamsPerClient: 100_000, inFlight: 10_000 },
  rateLimit: { perKey: { requestsPerMinute: 1_000_000, burst: 1_000_000 }, perProject: { requestsPerMinute: 1_000_000, burst: 1_000_000 } },
};

/** The daemon's config: echo (ours) and the official server-everything. */
export function mainConfig() {
  return { mcpServers: { echo: ECHO, everything: EVERYTHING }, orch: BENCH_ORCH };
}

/** Ten many-tools servers of 50 tools (plus one long name) each: 510 tools on the unified endpoint. */
export function tenServersConfig() {
  const mcpServers = {};
  for (let i = 1; i <= 10; i++) mcpServers[`s${i}`] = { ...manyTools(50), env: { TOOL_COUNT: '50', TOOL_PREFIX: `t${i}_` } };
  return { mcpServers, orch: BENCH_ORCH };
}

function handle(child, extra, cleanup) {
  let stopping;
  return {
    pid: child.pid,
    process: child,
    ...extra,
    stop() {
      stopping ??= (async () => {
        await stopChild(child);
        await cleanup?.();
      })();
      return stopping;
    },
  };
}

/** Whether a build knows `--no-auth` (builds from before API keys served without them). */
function hasAuthFlag(cli) {
  return execFileSync(node, [cli, 'serve', '--help'], { encoding: 'utf8' }).includes('--no-auth');
}

/**
 * `mcp-orch serve` on 127.0.0.1. With `port` it listens there (for the start-up timing, which polls
 * /health from process start); otherwise on port 0, ready once its log says "listening".
 * `nodeArgs` go before the script (e.g. --cpu-prof); `cli` is the build to run (default dist/cli.js).
 * Without `auth` it runs with `--no-auth`; with it, the handle carries the key the first run printed.
 */
export async function startDaemon(config, { port = 0, nodeArgs = [], waitListening = true, cli = daemonCli, auth = false } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-orch-bench-'));
  await mkdir(join(dir, 'data'), { mode: 0o700 });
  const configPath = join(dir, 'mcp-config.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const t0 = performance.now();
  const noAuth = !auth && hasAuthFlag(cli) ? ['--no-auth'] : [];
  const child = spawn(
    node,
    [...nodeArgs, cli, 'serve', '--config', configPath, '--port', String(port), '--data-dir', join(dir, 'data'), '--no-watch', ...noAuth],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const h = handle(child, { t0, name: 'mcp-orch' }, () => rm(dir, { recursive: true, force: true }));
  if (!waitListening) {
    child.stderr.resume();
    return { ...h, url: `http://127.0.0.1:${port}` };
  }
  try {
    // Ready at "listening"; with auth, once the first run has printed its key after it.
    let url;
    const ready = await waitForLine(child, child.stderr, (line) => {
      if (url === undefined && line.startsWith('{')) {
        try {
          const entry = JSON.parse(line);
          if (entry.msg === 'listening') url = entry.url;
        } catch {
          // not a log line
        }
        return url !== undefined && !auth ? { url } : undefined;
      }
      const key = url === undefined ? undefined : /mcpo_[A-Za-z0-9]{32,}/.exec(line)?.[0];
      return key ? { url, key } : undefined;
    });
    return { ...h, ...ready };
  } catch (error) {
    await h.stop();
    throw error;
  }
}

/**
 * The floors (bench/floor-server.mjs): the do-nothing Streamable HTTP endpoint, or with `relayTo`
 * (a server config) the relay floor, the cheapest gateway in front of that server; `http: 'hono'`
 * serves either on Hono and @hono/node-server instead of node:http.
 */
export async function startFloor({ toolCount = 1, port = 0, relayTo, http = 'node' } = {}) {
  const t0 = performance.now();
  const relay = relayTo ? [relayTo.command, ...relayTo.args] : [];
  const child = spawn(node, [fromRoot('bench/floor-server.mjs'), ...relay], {
    env: { ...process.env, TOOL_COUNT: String(toolCount), PORT: String(port), FLOOR_HTTP: http, ...relayTo?.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await waitForLine(child, child.stdout, (line) => (line.startsWith('{') ? JSON.parse(line).url : undefined));
  return { ...handle(child, { t0, name: relayTo ? 'relay floor' : 'floor' }), url, mcpUrl: `${url}/mcp` };
}

const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);

/** supergateway --stateful: stdio -> Streamable HTTP, one child per session. Health at /health. */
export async function startSupergateway(server, { port } = {}) {
  port ??= await freePort();
  const t0 = performance.now();
  const command = [server.command, ...server.args].map(shellQuote).join(' ');
  const child = spawn(
    node,
    [
      fromRoot('node_modules/supergateway/dist/index.js'),
      '--stdio',
      command,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
      '--healthEndpoint',
      '/health',
    ],
    { env: { ...process.env, ...server.env }, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  return { ...handle(child, { t0, name: 'supergateway' }), url, healthUrl: `${url}/health`, mcpUrl: `${url}/mcp` };
}

/** mcp-proxy: stdio -> Streamable HTTP (/mcp) and SSE (/sse). Health at /ping. */
export async function startMcpProxy(server, { port } = {}) {
  port ??= await freePort();
  const t0 = performance.now();
  const child = spawn(
    node,
    [
      fromRoot('node_modules/mcp-proxy/dist/bin/mcp-proxy.mjs'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
      '--',
      server.command,
      ...server.args,
    ],
    { env: { ...process.env, ...server.env }, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  return { ...handle(child, { t0, name: 'mcp-proxy' }), url, healthUrl: `${url}/ping`, mcpUrl: `${url}/mcp`, sseUrl: `${url}/sse` };
}
