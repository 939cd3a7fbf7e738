// The bundled example as `npm start` runs it: its filesystem server reaches its own directory and
// nothing else, neither the config that mcp-orch reloads nor the data dir with the admin token.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';

interface ExampleConfig {
  mcpServers: Record<string, { command: string; args: string[] }>;
  orch: { dataDir: string };
}

const textOf = (result: CallToolResult): string => result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('mcp-config.json.example', () => {
  let example: ExampleConfig;
  let daemon: DaemonHandle;
  let client: Client;

  beforeAll(async () => {
    example = JSON.parse(await readFile(join(repoRoot, 'mcp-config.json.example'), 'utf8')) as ExampleConfig;
    // The entry exactly as written, run from the repository root as `npm start` runs it.
    daemon = await startDaemon({ config: { mcpServers: { filesystem: example.mcpServers.filesystem } } });
    await waitFor(
      async () => {
        const { servers } = (await (await daemon.api('/api/servers')).json()) as { servers: { state: string }[] };
        return servers[0]?.state === 'running';
      },
      { timeoutMs: 15_000 },
    );
    client = await connectStreamable(`${daemon.url}/servers/filesystem/mcp`);
  });

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await daemon?.stop();
  });

  const call = async (name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;

  it('gives the filesystem server a directory of its own, outside the config and the data dir', async () => {
    const allowed = textOf(await call('list_allowed_directories', {}));
    expect(allowed.split('\n').slice(1)).toEqual([join(repoRoot, 'examples', 'files')]);

    const readme = await call('read_text_file', { path: join(repoRoot, 'examples', 'files', 'README.md') });
    expect(readme.isError).toBeFalsy();
    expect(textOf(readme)).toContain("The example's files");

    for (const outside of [join(repoRoot, 'mcp-config.json.example'), join(repoRoot, example.orch.dataDir, 'admin-token')]) {
      const refused = await call('read_text_file', { path: outside });
      expect(refused.isError, outside).toBe(true);
      expect(textOf(refused), outside).toMatch(/access denied/i);
    }
  });
});
