/**
 * Remote upstreams: a second daemon reaches the first one's endpoints over real HTTP, as it would a
 * hosted MCP server, by Streamable HTTP, by legacy SSE, and by auto-detection (Streamable HTTP
 * first, SSE when the endpoint does not take it).
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

describe('remote upstreams', () => {
  let origin: DaemonHandle;
  let gateway: DaemonHandle;
  let client: Client;

  beforeAll(async () => {
    origin = await startDaemon({ config: { mcpServers: { one: fixtureServer('echo', { FIXTURE_ID: 'origin-one' }) } } });
    const base = `${origin.url}/servers/one`;
    gateway = await startDaemon({
      config: {
        mcpServers: {
          http: { type: 'streamable-http', url: `${base}/mcp` },
          sse: { type: 'sse', url: `${base}/sse` },
          auto: { url: `${base}/sse` },
          down: { url: 'http://127.0.0.1:9/mcp', timeout: 3, restart: 'never' },
        },
      },
    });
    await waitFor(
      async () => {
        const { servers } = (await (await gateway.api('/api/servers')).json()) as { servers: { name: string; state: string }[] };
        return ['http', 'sse', 'auto'].every((name) => servers.find((s) => s.name === name)?.state === 'running');
      },
      { timeoutMs: 15_000 },
    );
    client = await connectStreamable(`${gateway.url}/mcp`);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.stop();
    await origin?.stop();
  });

  it.each(['http', 'sse', 'auto'])('reaches the origin through %s', async (name) => {
    const result = await client.callTool({ name: `${name}__whoami`, arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'origin-one' }]);
  });

  it('reports the transport auto-detection settled on', async () => {
    const { servers } = (await (await gateway.api('/api/servers')).json()) as { servers: { name: string; type: string }[] };
    expect(Object.fromEntries(servers.map((s) => [s.name, s.type]))).toMatchObject({ http: 'streamable-http', sse: 'sse', auto: 'sse' });
  });

  it('forwards progress from a remote upstream', async () => {
    const seen: number[] = [];
    await client.callTool({ name: 'http__slow', arguments: { ms: 200, steps: 3 } }, undefined, {
      onprogress: (progress) => seen.push(progress.progress),
    });
    expect(seen).toEqual([1, 2, 3]);
  });

  it('reports an unreachable remote server as crashed with the reason, and serves the others', async () => {
    const row = await waitFor(
      async () => {
        const { servers } = (await (await gateway.api('/api/servers')).json()) as {
          servers: { name: string; state: string; error: string | null }[];
        };
        const down = servers.find((s) => s.name === 'down');
        return down?.state === 'crashed' ? down : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(row.error).toMatch(/fetch failed|ECONNREFUSED|connect/i);
    const tools = await client.listTools();
    expect(tools.tools.some((tool) => tool.name.startsWith('down__'))).toBe(false);
  });
});
