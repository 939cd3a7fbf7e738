/** Batch tasks over a daemon's REST API, as a client script would use them. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { DaemonHandle } from './daemon.js';
import { runCli } from './cli.js';
import { waitFor } from './wait.js';

export interface Task {
  id: string;
  status: string;
  error?: string;
  steps: { id: string; status: string; attempts: number; error?: string; result?: unknown }[];
}

/**
 * A new key of the default project (`mcp-orch keys create`): the first run's admin's, or with
 * `member` a new member's (role member), optionally narrowed to some servers.
 */
export async function createKey(daemon: DaemonHandle, options: { servers?: string[]; member?: string } = {}): Promise<string> {
  const dataDir = ['--data-dir', daemon.dataDir];
  if (options.member) {
    const added = await runCli(['members', 'add', options.member, '--role', 'member', '--project', 'default', ...dataDir]);
    expect(added.code, added.stderr).toBe(0);
  }
  const created = await runCli([
    'keys',
    'create',
    '--json',
    '--name',
    `k${Math.random().toString(36).slice(2, 8)}`,
    ...(options.member ? ['--member', options.member] : []),
    ...(options.servers ? ['--servers', options.servers.join(',')] : []),
    ...dataDir,
  ]);
  expect(created.code, created.stderr).toBe(0);
  return (JSON.parse(created.stdout) as { key: string }).key;
}

/** The daemon's admin token, what the CLI sends (the REST API asks for it even without keys). */
export async function adminToken(daemon: DaemonHandle): Promise<string> {
  return (await readFile(join(daemon.dataDir, 'admin-token'), 'utf8')).trim();
}

/**
 * The batch routes of a daemon (`base`: /batch, /api/batch or /projects/{p}/batch) with a bearer
 * key or token, or with other headers (a dashboard session's cookie and CSRF token).
 */
export function batchClient(daemon: DaemonHandle, credentials: string | Record<string, string>, base = '/batch') {
  const headers = typeof credentials === 'string' ? { authorization: `Bearer ${credentials}` } : credentials;
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(`${daemon.url}${base}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  return {
    call,
    /** Submits a plan (`{steps}`) or a body of /execute (`{request}`, `{plan}`) and expects it to start. */
    async start(body: Record<string, unknown>): Promise<Task> {
      const answer = await call('POST', '/execute', 'steps' in body ? { plan: body } : body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(202);
      return answer.body as unknown as Task;
    },
    status: async (id: string) => (await call('GET', `/status/${id}`)).body as unknown as Task,
    /** Waits for the task to finish (bounded) and answers its results. */
    async finished(id: string, timeoutMs = 30_000): Promise<Task> {
      await waitFor(async () => !['planning', 'running'].includes((await call('GET', `/status/${id}`)).body.status as string), {
        timeoutMs,
        intervalMs: 50,
      });
      return (await call('GET', `/result/${id}`)).body as unknown as Task;
    },
    async run(body: Record<string, unknown>, timeoutMs?: number): Promise<Task> {
      const task = await this.start(body);
      return this.finished(task.id, timeoutMs);
    },
  };
}

/** A step of a finished task by id. */
export function step(task: Task, id: string): Task['steps'][number] {
  const found = task.steps.find((candidate) => candidate.id === id);
  if (!found) throw new Error(`no step "${id}" in ${JSON.stringify(task.steps.map((s) => s.id))}`);
  return found;
}
