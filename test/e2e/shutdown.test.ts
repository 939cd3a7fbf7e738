// No orphans: whichever way the daemon ends, the MCP servers it started end too. On SIGTERM it stops
// them itself (escalating to SIGKILL for one that ignores SIGTERM) and exits 0; on SIGKILL it can do
// nothing, and its stdio children must notice their stdin closing and exit on their own.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';

interface ServerRow {
  name: string;
  state: string;
  pid: number | null;
}

/** Waits until every server is running and returns their child pids by name. */
async function runningPids(daemon: DaemonHandle, names: string[]): Promise<Map<string, number>> {
  return waitFor(
    async () => {
      const response = await daemon.api('/api/servers');
      const { servers } = (await response.json()) as { servers: ServerRow[] };
      const pids = new Map(servers.filter((s) => s.state === 'running' && s.pid).map((s) => [s.name, s.pid!]));
      return names.every((name) => pids.has(name)) ? pids : undefined;
    },
    { timeoutMs: 15_000 },
  );
}

function logEntries(daemon: DaemonHandle): Record<string, unknown>[] {
  return daemon.stderrLines.flatMap((line) => {
    try {
      return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

/** Last resort so that a failing test does not leave its fixtures running. */
function killLeftovers(pids: Iterable<number>): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

describe('daemon shutdown', () => {
  it('on SIGTERM stops every child, even one that ignores SIGTERM, and exits 0', async () => {
    const daemon = await startDaemon({
      config: {
        mcpServers: {
          one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
          two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
          stubborn: fixtureServer('ignore-sigterm'),
        },
        orch: { stopGraceSec: 1 },
      },
    });
    let pids = new Map<string, number>();
    try {
      pids = await runningPids(daemon, ['one', 'two', 'stubborn']);
      for (const pid of pids.values()) expect(processRunning(pid)).toBe(true);

      const exited = once(daemon.process, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      daemon.process.kill('SIGTERM');
      // While it stops its children it still answers, and says it is going away.
      const health = await waitFor(
        async () => {
          const response = await fetch(`${daemon.url}/health`);
          return response.status === 503 ? ((await response.json()) as { status: string }) : undefined;
        },
        { timeoutMs: 2000, intervalMs: 10 },
      );
      expect(health.status).toBe('shutting-down');
      const refused = await fetch(`${daemon.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('shutting down');
      // The stubborn child never exits by itself: the daemon gets here only by escalating to SIGKILL.
      const [code, signal] = await exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });

      // The daemon waited for its children, so none should remain; allow the kernel a moment all the same.
      await waitFor(() => [...pids.values()].every((pid) => !processRunning(pid)), { timeoutMs: 2000 });
      // The one that ignores SIGTERM needed the SIGKILL that follows stopGraceSec.
      const stubbornExit = logEntries(daemon).find((e) => e.server === 'stubborn' && e.msg === 'child exited');
      expect(stubbornExit?.signal).toBe('SIGKILL');
    } finally {
      killLeftovers(pids.values());
      await daemon.stop();
    }
  });

  it('on SIGKILL leaves stdio children that exit on their own when their stdin closes', async () => {
    const daemon = await startDaemon({
      config: {
        mcpServers: {
          one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
          two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
        },
      },
    });
    let pids = new Map<string, number>();
    try {
      pids = await runningPids(daemon, ['one', 'two']);
      const exited = once(daemon.process, 'exit');
      daemon.process.kill('SIGKILL');
      await exited;
      await waitFor(() => [...pids.values()].every((pid) => !processRunning(pid)), { timeoutMs: 5000 });
    } finally {
      killLeftovers(pids.values());
      await daemon.stop();
    }
  });
});
