// Batch tasks end to end: plans over real servers (the reference everything and memory servers, and
// a fixture that counts what it sees) run by a daemon with keys on, through its REST API, with an
// OpenAI-compatible model of our own on 127.0.0.1 for llm steps.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, batchClient, createKey, step } from '../helpers/batch.js';
import { runCli } from '../helpers/cli.js';
import { connectStreamable } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { startFakeOpenAi, type FakeLlm } from '../helpers/fakeLlm.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { repoRoot } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

let tempDir: string;
let daemon: DaemonHandle;
let llm: FakeLlm;
let key: string;
let tools: Client;
let rest: ReturnType<typeof batchClient>;

const reference = (name: string) => ({
  command: process.execPath,
  args: [join(repoRoot, 'node_modules', '@modelcontextprotocol', name, 'dist', 'index.js')],
});

/** The counts of the fixture's sleep tool. */
async function sleepStats(): Promise<{ started: number; completed: number; cancelled: number; inFlight: number; maxInFlight: number }> {
  return (await tools.callTool({ name: 'stats' })).structuredContent as never;
}

beforeAll(async () => {
  tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-batch-'));
  // llm steps: the report names every entity the prompt mentions, so the test sees what reached the model.
  llm = await startFakeOpenAi(({ messages }) => {
    const prompt = messages.at(-1)?.content ?? '';
    return `Report: ${['alpha', 'beta'].filter((name) => prompt.includes(`Echo: ${name}`)).join(' and ')}`;
  });
  daemon = await startDaemon({
    auth: true,
    config: {
      mcpServers: {
        everything: reference('server-everything'),
        memory: { ...reference('server-memory'), env: { MEMORY_FILE_PATH: join(tempDir, 'memory.jsonl') } },
        tools: fixtureServer('batch-tools'),
        echo: fixtureServer('echo'),
      },
      orch: { llm: { provider: 'openai', model: 'test-model', endpoint: llm.url, apiKey: 'test-key' }, batch: { maxParallel: 10 } },
    },
  });
  key = await createKey(daemon);
  rest = batchClient(daemon, key);
  tools = await connectStreamable(`${daemon.url}/servers/tools/mcp`, { token: key });
}, 60_000);

afterAll(async () => {
  await tools?.close();
  await daemon?.stop();
  await llm?.close();
  await rm(tempDir, { recursive: true, force: true });
});

const REFERENCE_PLAN = {
  steps: [
    {
      type: 'tool',
      id: 'entities',
      server: 'memory',
      tool: 'create_entities',
      arguments: {
        entities: [
          { name: 'alpha', entityType: 'repo', observations: ['3 open issues'] },
          { name: 'beta', entityType: 'repo', observations: ['1 open issue'] },
        ],
      },
    },
    { type: 'tool', id: 'graph', server: 'memory', tool: 'read_graph', needs: ['entities'] },
    {
      type: 'map',
      id: 'echoes',
      over: '${steps.graph.result.entities}',
      server: 'everything',
      tool: 'echo',
      arguments: { message: '${item.name}' },
    },
    {
      type: 'map',
      id: 'sums',
      over: '${steps.graph.result.entities}',
      server: 'everything',
      tool: 'get-sum',
      arguments: { a: '${index}', b: 10 },
    },
    { type: 'llm', id: 'report', prompt: 'Write the weekly report from ${steps.echoes.result}.' },
  ],
};

describe('a plan over the reference servers', () => {
  it('runs tool, map and llm steps, each on the forwarding path with the task id in the audit log', { timeout: 60_000 }, async () => {
    const task = await rest.run(REFERENCE_PLAN);
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(step(task, 'graph').result).toMatchObject({ entities: [{ name: 'alpha' }, { name: 'beta' }] });
    expect(step(task, 'echoes').result).toEqual(['Echo: alpha', 'Echo: beta']);
    expect(step(task, 'sums')).toMatchObject({ attempts: 2, result: [expect.stringContaining('10'), expect.stringContaining('11')] });
    expect(step(task, 'report').result).toBe('Report: alpha and beta');
    expect(llm.requests.at(-1)!.body.model).toBe('test-model');

    // Every call of every step is audited as the key's, with the task id (the audit is written in batches).
    const db = new Database(join(daemon.dataDir, 'mcp-orch.db'), { readonly: true });
    try {
      type Row = { server: string; name: string; transport: string; keyPrefix: string; outcome: string };
      const select = db.prepare<[string], Row>(
        'SELECT server, name, transport, key_prefix AS keyPrefix, outcome FROM audit WHERE task = ?',
      );
      const rows = await waitFor(() => {
        const found = select.all(task.id);
        return found.length === 6 ? found : undefined;
      });
      const prefix = rows[0]!.keyPrefix;
      expect(key.startsWith(prefix)).toBe(true);
      expect(rows).toContainEqual({ server: 'memory', name: 'read_graph', transport: 'batch', keyPrefix: prefix, outcome: 'ok' });
      expect(rows.every((row) => row.keyPrefix === prefix && row.transport === 'batch' && row.outcome === 'ok')).toBe(true);
    } finally {
      db.close();
    }
  });

  it('answers a dry run with the order of execution, and runs nothing', async () => {
    const { status, body } = await rest.call('POST', '/execute', { plan: REFERENCE_PLAN, dryRun: true });
    expect(status).toBe(200);
    expect(body.order).toEqual([['entities'], ['graph'], ['echoes', 'sums'], ['report']]);
  });
});

describe('parallelism', () => {
  it('runs 20 calls of 500 ms in a map ten at a time (orch.batch.maxParallel)', { timeout: 60_000 }, async () => {
    await tools.callTool({ name: 'reset' });
    const task = await rest.run({
      steps: [
        { type: 'tool', id: 'list', server: 'tools', tool: 'items', arguments: { n: 20 } },
        { type: 'map', id: 'sleep', over: '${steps.list.result.items}', server: 'tools', tool: 'sleep', arguments: { ms: 500 } },
      ],
    });
    expect(task.status).toBe('succeeded');
    expect(step(task, 'sleep').attempts).toBe(20);
    // The fixture saw ten at once: twice ten, not twenty one after another (the speed-up is in npm run bench).
    expect(await sleepStats()).toMatchObject({ started: 20, completed: 20, maxInFlight: 10 });
  });
});

describe('failures', () => {
  it('fail only their dependants: an error, a timeout cancelled upstream, a retry that then succeeds', { timeout: 60_000 }, async () => {
    await tools.callTool({ name: 'reset' });
    const task = await rest.run({
      steps: [
        { type: 'tool', id: 'bad', server: 'echo', tool: 'fail' },
        { type: 'tool', id: 'after', server: 'echo', tool: 'echo', arguments: { text: '${steps.bad.result}' } },
        { type: 'tool', id: 'fine', server: 'echo', tool: 'echo', arguments: { text: 'still here' } },
        { type: 'tool', id: 'late', server: 'tools', tool: 'sleep', arguments: { ms: 60_000 }, timeout: 0.3 },
        { type: 'tool', id: 'flaky', server: 'tools', tool: 'flaky', arguments: { key: 'retry-test', failures: 2 }, retries: 3 },
        { type: 'tool', id: 'giveup', server: 'tools', tool: 'flaky', arguments: { key: 'giveup-test', failures: 5 }, retries: 1 },
      ],
    });
    expect(task.status).toBe('failed');
    expect(step(task, 'bad')).toMatchObject({ status: 'failed', error: 'fixture failure' });
    expect(step(task, 'after')).toMatchObject({ status: 'failed', error: 'not run: it needs step "bad", which failed' });
    expect(step(task, 'fine')).toMatchObject({ status: 'succeeded', result: 'still here' });
    expect(step(task, 'late')).toMatchObject({ status: 'failed', error: 'timed out after 0.3 s', attempts: 1 });
    expect(step(task, 'flaky')).toMatchObject({ status: 'succeeded', attempts: 3, result: { key: 'retry-test', calls: 3 } });
    expect(step(task, 'giveup')).toMatchObject({ status: 'failed', attempts: 2, error: 'flaky: call 2 of "giveup-test" fails' });
    // The timed-out call was cancelled at the server (notifications/cancelled), not left running.
    await waitFor(async () => (await sleepStats()).cancelled === 1);
  });

  it('stop the plan on the first error when it says stopOnError', { timeout: 30_000 }, async () => {
    const task = await rest.run({
      stopOnError: true,
      steps: [
        { type: 'tool', id: 'bad', server: 'echo', tool: 'fail' },
        { type: 'tool', id: 'long', server: 'tools', tool: 'sleep', arguments: { ms: 60_000 } },
      ],
    });
    expect(task.status).toBe('failed');
    expect(step(task, 'long')).toMatchObject({ status: 'cancelled', error: 'stopped: another step failed' });
    // Stopped at the server too (notifications/cancelled), not left sleeping.
    await waitFor(async () => (await sleepStats()).inFlight === 0);
  });

  it('a cancel stops waiting steps and cancels running calls upstream', { timeout: 30_000 }, async () => {
    // A call an earlier test cancelled may still be ending at the server: its end would count in the new counts.
    await waitFor(async () => (await sleepStats()).inFlight === 0);
    await tools.callTool({ name: 'reset' });
    const started = await rest.start({
      steps: [
        { type: 'tool', id: 'list', server: 'tools', tool: 'items', arguments: { n: 4 } },
        { type: 'map', id: 'wait', over: '${steps.list.result.items}', server: 'tools', tool: 'sleep', arguments: { ms: 60_000 } },
        { type: 'tool', id: 'never', server: 'echo', tool: 'echo', arguments: { text: '${steps.wait.result}' } },
      ],
    });
    await waitFor(async () => (await sleepStats()).inFlight === 4);
    const cancelled = await rest.call('DELETE', `/cancel/${started.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const task = await rest.finished(started.id);
    expect(task.steps.map((s) => [s.id, s.status])).toEqual([
      ['list', 'succeeded'],
      ['wait', 'cancelled'],
      ['never', 'cancelled'],
    ]);
    await waitFor(async () => (await sleepStats()).cancelled === 4);
  });

  it('a plan with a cycle, a missing step or a bad argument is refused before anything runs', async () => {
    const { status, body } = await rest.call('POST', '/execute', {
      plan: {
        steps: [
          { type: 'tool', id: 'a', server: 'echo', tool: 'echo', arguments: { text: '${steps.b.result}' } },
          { type: 'tool', id: 'b', server: 'echo', tool: 'echo', arguments: { text: '${steps.a.result}' } },
          { type: 'tool', id: 'c', server: 'echo', tool: 'add', arguments: { a: 'one', b: 2 } },
          { type: 'tool', id: 'd', server: 'echo', tool: 'echo', needs: ['nowhere'], arguments: { text: 'x' } },
        ],
      },
    });
    expect(status).toBe(400);
    const { error } = body as { error: { code: string; errors: string[] } };
    expect(error.code).toBe('INVALID_PLAN');
    expect(error.errors).toEqual([
      'steps.c.arguments: data/a must be number (input schema of echo/add)',
      'steps.d: refers to step "nowhere", which the plan does not have',
      'the steps form a cycle: a -> b -> a',
    ]);
  });

  it("a plan naming a tool outside the key is refused, and the key sees no other key's tasks", async () => {
    const narrow = batchClient(daemon, await createKey(daemon, { member: 'nell', servers: ['echo'] }));
    const { status, body } = await narrow.call('POST', '/execute', {
      plan: { steps: [{ type: 'tool', id: 'x', server: 'tools', tool: 'sleep', arguments: { ms: 1 } }] },
    });
    expect(status).toBe(400);
    expect((body as { error: { errors: string[] } }).error.errors[0]).toMatch(
      /^steps\.x: server "tools": this key reaches only "echo", not "tools"/,
    );
    const mine = await rest.run({ steps: [{ type: 'tool', id: 'x', server: 'echo', tool: 'echo', arguments: { text: 'x' } }] });
    expect((await narrow.call('GET', `/status/${mine.id}`)).status).toBe(404);
    expect((await narrow.call('GET', '')).body.tasks).toEqual([]);
    expect((await batchClient(daemon, 'mcpo_nonsense').call('GET', '')).status).toBe(401);
  });
});

describe('the REST API', () => {
  const plan = (text: string) => ({ steps: [{ type: 'tool', id: 'say', server: 'echo', tool: 'echo', arguments: { text } }] });

  it('takes a task from a dashboard session with its CSRF token, and refuses one without', { timeout: 30_000 }, async () => {
    const login = await fetch(`${daemon.url}/ui/login`, { method: 'POST', body: new URLSearchParams({ key }), redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = /^[^;]+/.exec(login.headers.get('set-cookie') ?? '')![0];
    const page = await (await fetch(`${daemon.url}/ui`, { headers: { cookie } })).text();
    const headers = JSON.parse(/hx-headers="([^"]+)"/.exec(page)![1]!.replaceAll('&quot;', '"')) as Record<string, string>;
    const forged = await batchClient(daemon, { cookie }, '/api/batch').call('POST', '/execute', { plan: plan('forged') });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ error: { code: 'FORBIDDEN', message: 'a change from the dashboard must carry its CSRF token' } });
    const session = batchClient(daemon, { cookie, ...headers }, '/api/batch');
    const task = await session.run(plan('from the dashboard'));
    expect(task.status).toBe('succeeded');
    expect(step(task, 'say').result).toBe('from the dashboard');
    // The session acts as the key it logged in with: the key sees the task as its own.
    expect((await rest.status(task.id)).status).toBe('succeeded');
  });

  it("keeps a key of another project from this project's tasks; the admin token names the project", { timeout: 30_000 }, async () => {
    const cli = async (args: string[]): Promise<string> => {
      const result = await runCli([...args, '--data-dir', daemon.dataDir]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    await cli(['projects', 'create', 'other', '--servers', 'echo']);
    await cli(['members', 'add', 'olga', '--role', 'admin', '--project', 'other']);
    const otherKey = (
      JSON.parse(await cli(['keys', 'create', '--project', 'other', '--member', 'olga', '--name', 'o', '--json'])) as { key: string }
    ).key;
    const mine = await rest.run(plan('default only'));

    // An admin of project "other" sees every task of its own project, and none of this one's.
    const other = batchClient(daemon, otherKey);
    expect((await other.call('GET', `/status/${mine.id}`)).status).toBe(404);
    expect((await other.call('DELETE', `/cancel/${mine.id}`)).status).toBe(404);
    expect((await other.call('GET', '')).body.tasks).toEqual([]);
    // Naming this project is refused outright, in the path or in the query.
    for (const [base, path] of [
      ['/projects/default/batch', `/result/${mine.id}`],
      ['/api/batch', `/result/${mine.id}?project=default`],
      ['/projects/default/batch', ''],
    ] as const) {
      const refused = await batchClient(daemon, otherKey, base).call('GET', path);
      expect(refused.status, `${base}${path}`).toBe(403);
      expect(refused.body, `${base}${path}`).toMatchObject({
        error: { code: 'FORBIDDEN', message: 'this key belongs to another project than "default"' },
      });
    }

    // Its own project's tasks it runs under /projects/other/batch too; the admin token reaches them by naming the project.
    const theirs = await batchClient(daemon, otherKey, '/projects/other/batch').run(plan('other only'));
    expect(theirs).toMatchObject({ status: 'succeeded' });
    const token = await adminToken(daemon);
    const listed = await batchClient(daemon, token, '/api/batch').call('GET', '?project=other');
    expect((listed.body.tasks as { id: string; project: string }[]).map((task) => [task.id, task.project])).toEqual([[theirs.id, 'other']]);
    expect((await batchClient(daemon, token).call('GET', `/status/${theirs.id}`)).status).toBe(404);
    expect((await batchClient(daemon, token).call('GET', `/status/${theirs.id}?project=other`)).body).toMatchObject({ project: 'other' });
  });
});

describe('the CLI', () => {
  it('runs a plan file, shows each step, and lists the task', { timeout: 60_000 }, async () => {
    const file = join(tempDir, 'plan.json');
    await writeFile(file, JSON.stringify({ steps: [{ type: 'tool', id: 'sum', server: 'echo', tool: 'add', arguments: { a: 2, b: 3 } }] }));
    const run = await runCli(['batch', 'run', '--plan', file, '--data-dir', daemon.dataDir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^task [0-9a-f-]{36} {2}succeeded/);
    expect(run.stdout).toMatch(/sum +tool +succeeded +1 .*\{"sum":5\}/);
    const id = /^task (\S+)/.exec(run.stdout)![1]!;
    const listed = await runCli(['batch', 'list', '--json', '--data-dir', daemon.dataDir]);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((task) => task.id)).toContain(id);
    const bad = await runCli(['batch', 'status', 'no-such-task', '--data-dir', daemon.dataDir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no batch task "no-such-task"');
  });
});
