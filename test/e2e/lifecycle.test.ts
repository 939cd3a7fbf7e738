// Supervision against a real daemon and real fixture processes: a server that crashes mid-call is
// restarted and its sessions carry on; one that cannot start ends `crashed` with its stderr; failed
// pings and too much memory restart a server; a stderr flood stays within the ring buffer; shutdown
// escalates to SIGKILL for a slow child; lazy and idle servers start on use; and hot reload restarts
// only what changed. Health intervals and backoffs are small so the whole file runs in seconds.
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturesDir } from '../helpers/fixtures.js';
import { processRunning } from '../helpers/process.js';

interface ServerRow {
  name: string;
  state: string;
  pid: number | null;
  error: string | null;
  restarts?: number;
}

interface ServerDetail extends ServerRow {
  stderr: Array<{ time: number; line: string }>;
}

/** A stdio entry running one of the fixtures of test/fixtures under the tests' own Node. */
function fixture(file: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { command: process.execPath, args: [join(fixturesDir, `${file}.mjs`)], env, ...extra };
}

async function servers(daemon: DaemonHandle): Promise<ServerRow[]> {
  const response = await daemon.api('/api/servers');
  expect(response.status).toBe(200);
  return ((await response.json()) as { servers: ServerRow[] }).servers;
}

async function row(daemon: DaemonHandle, name: string): Promise<ServerRow> {
  const found = (await servers(daemon)).find((s) => s.name === name);
  if (!found) throw new Error(`no server ${name} in /api/servers`);
  return found;
}

async function detail(daemon: DaemonHandle, name: string): Promise<ServerDetail> {
  const response = await daemon.api(`/api/servers/${name}`);
  expect(response.status).toBe(200);
  return (await response.json()) as ServerDetail;
}

/** Polls /api/servers until the server's row satisfies `done`; returns that row. */
function waitForRow(daemon: DaemonHandle, name: string, done: (row: ServerRow) => boolean, timeoutMs = 10_000): Promise<ServerRow> {
  return waitFor(
    async () => {
      const current = await row(daemon, name);
      if (done(current)) return current;
      throw new Error(`${name} is ${JSON.stringify(current)}`);
    },
    { timeoutMs },
  );
}

const running = (r: ServerRow): boolean => r.state === 'running' && r.pid !== null;

function logEntries(daemon: DaemonHandle): Array<Record<string, unknown>> {
  return daemon.stderrLines.flatMap((line) => {
    try {
      return line.startsWith('{') ? [JSON.parse(line) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>): string | undefined =>
  (result.content as Array<{ type: string; text?: string }>)[0]?.text;

const clients: Client[] = [];
async function session(daemon: DaemonHandle, server: string): Promise<Client> {
  const client = await connectStreamable(`${daemon.url}/servers/${server}/mcp`);
  clients.push(client);
  return client;
}

const echo = async (client: Client, text: string): Promise<string | undefined> =>
  textOf(await client.callTool({ name: 'echo', arguments: { text } }));

const fast = { backoff: { initialMs: 100, maxMs: 500 } };

describe('supervised servers', () => {
  let daemon: DaemonHandle;
  let steadyPid: number;

  beforeAll(async () => {
    daemon = await startDaemon({
      config: {
        mcpServers: {
          steady: fixture('echo', { FIXTURE_ID: 'steady' }),
          // A timeout longer than a test may take: a call that waited for it could not pass.
          crashy: fixture('crash-after', { CRASH_AFTER: '2' }, { ...fast, timeout: 120 }),
          broken: fixture('crash-on-start', {}, { maxRestarts: 2, backoff: { initialMs: 50, maxMs: 200 }, timeout: 5 }),
          noping: fixture(
            'no-ping',
            { PING_OK: '1' },
            {
              ...fast,
              maxRestarts: 1,
              health: { intervalSec: 0.2, timeoutSec: 0.3, failureThreshold: 2 },
            },
          ),
          grow: fixture(
            'grow-memory',
            {},
            {
              ...fast,
              health: { intervalSec: 0.2, timeoutSec: 2, failureThreshold: 3 },
              // A Node fixture with the SDK loaded sits at about 70 MB; `grow 100` takes it well past 130.
              // The CPU limit stays at its default: the burst of a start must not count as a crossing.
              maxMemoryMb: 130,
              onThreshold: 'restart',
            },
          ),
          flood: fixture('flood-stderr', { FLOOD_LINES: '20000' }, { logLines: 10 }),
          lazy: fixture('echo', { FIXTURE_ID: 'lazy' }, { lazy: true }),
          lazylist: fixture('echo', { FIXTURE_ID: 'lazylist' }, { lazy: true }),
          idle: fixture('echo', { FIXTURE_ID: 'idle' }, { idleTimeoutSec: 1 }),
        },
      },
    });
    steadyPid = (await waitForRow(daemon, 'steady', running)).pid!;
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
    await daemon?.stop();
  });

  it('a lazy server has no process until its first use, then runs', async () => {
    // Checked first, before any test could have used it: the other servers are up, this one is not.
    expect(await row(daemon, 'lazy')).toMatchObject({ state: 'stopped', pid: null });
    const client = await session(daemon, 'lazy');
    expect(await echo(client, 'wake up')).toBe('wake up');
    expect(textOf(await client.callTool({ name: 'whoami' }))).toBe('lazy');
    expect(running(await row(daemon, 'lazy'))).toBe(true);
  });

  it('a lazy server starts when a unified session opens, so its tools are listed there', async () => {
    expect(await row(daemon, 'lazylist')).toMatchObject({ state: 'stopped', pid: null });
    const client = await connectStreamable(`${daemon.url}/mcp`);
    clients.push(client);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('lazylist__whoami');
    expect(textOf(await client.callTool({ name: 'lazylist__whoami' }))).toBe('lazylist');
  });

  it('a call in flight when the server crashes fails at once naming the server; the server restarts and the session carries on', async () => {
    const { pid: firstPid } = await waitForRow(daemon, 'crashy', running);
    const client = await session(daemon, 'crashy');
    expect(await echo(client, 'call 1')).toBe('call 1');
    expect(await echo(client, 'call 2')).toBe('call 2');

    const error = await client.callTool({ name: 'echo', arguments: { text: 'call 3' } }, undefined, { timeout: 120_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error, 'the crashing call should fail').toBeInstanceOf(Error);
    expect(error!.message).toContain('crashy');
    expect(error!.message).toMatch(/went away|exited|closed/);
    expect(error!.message).not.toMatch(/timed? ?out/i);

    const after = await waitForRow(daemon, 'crashy', (r) => running(r) && r.pid !== firstPid);
    expect(after.pid).not.toBe(firstPid);
    expect(processRunning(firstPid!)).toBe(false);
    // The same downstream session, now served by the new process.
    expect(await echo(client, 'after restart')).toBe('after restart');
  });

  it('counts the restart in /api/servers', async () => {
    const crashy = await waitForRow(daemon, 'crashy', running);
    expect(crashy, '/api/servers rows should carry a restart count').toHaveProperty('restarts');
    expect(crashy.restarts).toBeGreaterThanOrEqual(1);
    expect((await row(daemon, 'steady')).restarts).toBe(0);
  });

  it('a server that crashes on start gives up after maxRestarts with its stderr tail, and the others keep answering', async () => {
    const broken = await waitForRow(daemon, 'broken', (r) => r.state === 'crashed');
    expect(broken.pid).toBeNull();
    expect(broken.error).toContain('gave up after 2 restarts');
    expect(broken.error).toContain('exited with code 3');
    expect(broken.error).toContain('fatal: missing API token');
    const steady = await session(daemon, 'steady');
    expect(await echo(steady, 'still here')).toBe('still here');
  });

  it('a crashed server can be started again through the admin API', async () => {
    await waitForRow(daemon, 'broken', (r) => r.state === 'crashed');
    const spawned = () => logEntries(daemon).filter((e) => e.server === 'broken' && e.msg === 'child started').length;
    const before = spawned();
    expect(before).toBe(3); // the first start and maxRestarts (2) restarts
    const response = await daemon.api('/api/servers/broken/start', { method: 'POST' });
    expect(response.status).toBe(200);
    // A new attempt: it spawns the command again (and, still broken, ends crashed once more).
    await waitFor(() => spawned() > before, { timeoutMs: 5000 });
    await waitForRow(daemon, 'broken', (r) => r.state === 'crashed');
  });

  it('a server that stops answering ping goes unhealthy and is restarted', async () => {
    // Read from the daemon's log rather than polled: the whole story (one restart, then giving up)
    // may be over before this test runs.
    const crashed = await waitForRow(daemon, 'noping', (r) => r.state === 'crashed');
    expect(crashed.error).toMatch(/gave up after 1 restarts.*health check failed 2 time\(s\)/);
    const entries = logEntries(daemon).filter((e) => e.server === 'noping');
    const path = entries.filter((e) => typeof e.to === 'string').map((e) => e.to);
    expect(path).toEqual(['starting', 'running', 'unhealthy', 'restarting', 'starting', 'running', 'unhealthy', 'crashed']);
    const unhealthy = entries.find((e) => e.to === 'unhealthy');
    expect(unhealthy?.cause).toMatch(/^health check failed 2 time\(s\): .*timed out/);
    const pids = entries.filter((e) => e.msg === 'child started').map((e) => e.pid as number);
    expect(pids).toHaveLength(2);
    expect(pids[1]).not.toBe(pids[0]);
    for (const pid of pids) expect(processRunning(pid)).toBe(false);
  });

  it('a server over maxMemoryMb with onThreshold restart is restarted', async () => {
    const { pid: firstPid } = await waitForRow(daemon, 'grow', running);
    const client = await session(daemon, 'grow');
    // A health round may catch it mid-allocation and restart it before it answers; either is fine.
    const reply = await client.callTool({ name: 'grow', arguments: { mb: 100 } }).then(
      (result) => Number(textOf(result)),
      (error: Error) => error.message,
    );
    if (typeof reply === 'number') expect(reply).toBeGreaterThan(130);
    else expect(reply).toContain('grow');
    await waitForRow(daemon, 'grow', (r) => running(r) && r.pid !== firstPid);
    const cause = logEntries(daemon).find((e) => e.server === 'grow' && e.to === 'restarting')?.cause;
    expect(cause).toMatch(/memory \d+ MB over the limit of 130 MB/);
    expect(await echo(client, 'slimmer')).toBe('slimmer');
  });

  it('a stderr flood keeps only logLines lines and the daemon stays responsive', async () => {
    const last = 'flood-stderr: line 20000 of 20000';
    const flood = await waitFor(
      async () => {
        const d = await detail(daemon, 'flood');
        return d.state === 'running' && d.stderr.at(-1)?.line === last ? d : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(flood.stderr.map((entry) => entry.line)).toEqual(
      Array.from({ length: 10 }, (_, i) => `flood-stderr: line ${19_991 + i} of 20000`),
    );
    const health = await fetch(`${daemon.url}/health`);
    expect(health.status).toBe(200);
    expect(await echo(await session(daemon, 'flood'), 'heard')).toBe('heard');
  });

  it('an idle server stops after idleTimeoutSec and starts again on the next call', async () => {
    // Opening the session starts it if it has already gone idle: what matters is the call after.
    const client = await session(daemon, 'idle');
    const firstPid = Number(textOf(await client.callTool({ name: 'pid' })));
    await waitForRow(daemon, 'idle', (r) => r.state === 'stopped' && r.pid === null, 5000);
    expect(processRunning(firstPid)).toBe(false);
    const stopped = logEntries(daemon).find((e) => e.server === 'idle' && e.to === 'stopped');
    expect(stopped?.cause).toMatch(/^idle for \d+s$/);
    expect(await echo(client, 'after idle')).toBe('after idle');
    const again = await row(daemon, 'idle');
    expect(running(again)).toBe(true);
    expect(again.pid).not.toBe(firstPid);
    expect(Number(textOf(await client.callTool({ name: 'pid' })))).toBe(again.pid);
  });

  it('none of this touched the steady server', async () => {
    expect(await row(daemon, 'steady')).toMatchObject({ state: 'running', pid: steadyPid });
  });
});

describe('shutdown with a slow child', () => {
  it('escalates to SIGKILL after stopGraceSec and leaves no process behind', async () => {
    const daemon = await startDaemon({
      config: {
        // The child would take longer to exit than the test may run: only the escalation ends it in time.
        mcpServers: { slow: fixture('slow-exit', { SLOW_EXIT_MS: '120000' }) },
        orch: { stopGraceSec: 1 },
      },
    });
    let pid: number | undefined;
    try {
      pid = (await waitForRow(daemon, 'slow', running)).pid!;
      const exited = new Promise<number | null>((resolve) => daemon.process.once('exit', (code) => resolve(code)));
      daemon.process.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitFor(() => !processRunning(pid!), { timeoutMs: 2000 });
      const escalation = logEntries(daemon).find((e) => e.msg === 'no exit after SIGTERM; SIGKILL');
      expect(escalation).toMatchObject({ pid });
    } finally {
      await daemon.stop();
      if (pid !== undefined && processRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  });
});

describe('hot reload', () => {
  let daemon: DaemonHandle;

  const config = (aId: string) => ({
    mcpServers: {
      a: fixture('echo', { FIXTURE_ID: aId }),
      b: fixture('echo', { FIXTURE_ID: 'b' }),
    },
  });

  beforeAll(async () => {
    daemon = await startDaemon({ config: config('a1') });
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
    await daemon?.stop();
  });

  it('restarts a changed server, leaves an untouched one alone, and keeps the last good config on an invalid edit', async () => {
    // Written once, the moment the daemon is up: it watches its config before it says "listening".
    await daemon.writeConfig(config('a2'));
    const starts = (name: string) => logEntries(daemon).filter((e) => e.server === name && e.msg === 'child started');
    await waitFor(() => starts('a').length === 2, { timeoutMs: 10_000 });
    const aPid = starts('a')[0]!.pid;
    const bPid = (await waitForRow(daemon, 'b', running)).pid;
    const changed = await waitForRow(daemon, 'a', running);
    expect(changed.pid).not.toBe(aPid);
    expect(textOf(await (await session(daemon, 'a')).callTool({ name: 'whoami' }))).toBe('a2');
    expect(await row(daemon, 'b')).toMatchObject({ state: 'running', pid: bPid });

    const errorsBefore = logEntries(daemon).filter((e) => String(e.msg).startsWith('config not applied')).length;
    await daemon.writeConfig({ mcpServers: { a: { command: '' }, b: { url: 'not a url' } } });
    await waitFor(() => logEntries(daemon).filter((e) => String(e.msg).startsWith('config not applied')).length > errorsBefore, {
      timeoutMs: 5000,
    });
    expect(await row(daemon, 'a')).toMatchObject({ state: 'running', pid: changed.pid });
    expect(await row(daemon, 'b')).toMatchObject({ state: 'running', pid: bPid });
    expect(textOf(await (await session(daemon, 'a')).callTool({ name: 'whoami' }))).toBe('a2');
  });
});
