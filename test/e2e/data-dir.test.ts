// The data dir holds the admin token, the requestState key, daemon.json and the servers' logs: a
// daemon keeps all of it to its owner, and will not start on a data dir other users can read.
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { runCli } from '../helpers/cli.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturesDir } from '../helpers/fixtures.js';

/** Every entry under `dir` with its permission bits, as `relative/path: 0700`. */
async function modes(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const name = `${prefix}${entry.name}`;
    found.push(`${name}: 0${((await stat(path)).mode & 0o777).toString(8)}`);
    if (entry.isDirectory()) found.push(...(await modes(path, `${name}/`)));
  }
  return found.sort();
}

describe('data dir', () => {
  let daemon: DaemonHandle;
  let tempDir: string;

  beforeAll(async () => {
    tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-datadir-'));
    const noisy = { command: process.execPath, args: [join(fixturesDir, 'flood-stderr.mjs')], env: { FLOOD_LINES: '3' }, logFile: true };
    daemon = await startDaemon({ config: { mcpServers: { noisy } } });
  });

  afterAll(async () => {
    await daemon?.stop();
    await rm(tempDir, { recursive: true, force: true });
  });

  it('is owner-only, with everything in it: directories 0700, files 0600', async () => {
    await waitFor(async () => (await readdir(join(daemon.dataDir, 'logs')).catch((): string[] => [])).includes('noisy.log'));
    expect((await stat(daemon.dataDir)).mode & 0o777).toBe(0o700);
    const found = await modes(daemon.dataDir);
    expect(found).toEqual(
      expect.arrayContaining(['admin-token: 0600', 'daemon.json: 0600', 'logs: 0700', 'logs/noisy.log: 0600', 'request-state.key: 0600']),
    );
    expect(found.filter((entry) => !entry.endsWith(': 0600') && !entry.endsWith(': 0700'))).toEqual([]);
  });

  it('that other users can read is refused at start, with the command that fixes it', async () => {
    const open = join(tempDir, 'shared-data');
    await mkdir(open);
    await chmod(open, 0o755);
    const configPath = join(tempDir, 'mcp-config.json');
    await writeFile(configPath, JSON.stringify({ mcpServers: {} }));
    const result = await runCli(['serve', '--config', configPath, '--port', '0', '--data-dir', open]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`data dir ${open} is open to other users (mode 0755)`);
    expect(result.stderr).toContain(`chmod 700 ${open}`);
    expect(await readdir(open)).toEqual([]);
  });
});
