// A daemon killed while a task runs: at its next start the task is marked interrupted, never left
// running, and what it had finished is still there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { adminToken, batchClient, step } from '../helpers/batch.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const daemons: DaemonHandle[] = [];
let dataDir: string | undefined;
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((daemon) => daemon.stop()));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('a task running when the daemon is killed is interrupted at the next start', { timeout: 60_000 }, async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mcp-orch-batch-restart-'));
  const config = { mcpServers: { tools: fixtureServer('batch-tools') } };
  const first = await startDaemon({ config, dataDir });
  daemons.push(first);
  const rest = batchClient(first, await adminToken(first));
  const task = await rest.start({
    steps: [
      { type: 'tool', id: 'quick', server: 'tools', tool: 'items', arguments: { n: 1 } },
      { type: 'tool', id: 'long', server: 'tools', tool: 'sleep', arguments: { ms: 60_000 }, needs: ['quick'] },
    ],
  });
  await waitFor(async () => step(await rest.status(task.id), 'long').status === 'running');
  const exited = new Promise((resolve) => first.process.once('exit', resolve));
  first.process.kill('SIGKILL');
  await exited;

  const second = await startDaemon({ config, dataDir });
  daemons.push(second);
  const after = await batchClient(second, await adminToken(second)).call('GET', `/result/${task.id}`);
  expect(after.body).toMatchObject({ status: 'interrupted', error: 'the daemon stopped while the task was running' });
  expect((after.body.steps as { id: string; status: string; result?: unknown }[]).map((s) => [s.id, s.status, s.result])).toEqual([
    ['quick', 'succeeded', { items: [{ name: 'item-0', n: 0 }] }],
    ['long', 'interrupted', undefined],
  ]);
});
