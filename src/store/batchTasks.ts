import type { RepoContext } from './repo.js';

/**
 * Batch tasks and their steps. Plans, results and errors are JSON text: what they mean is batch/'s
 * business. A task's steps go with it when it is pruned.
 */

export interface TaskRow {
  id: string;
  project: string;
  /** The key that submitted it; null for the owner of the data dir. */
  keyId: number | null;
  keyPrefix: string | null;
  member: string | null;
  /** The task in words, when a planner made the plan. */
  request: string | null;
  planner: string | null;
  /** JSON: the validated plan, once there is one. */
  plan: string | null;
  status: string;
  error: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface StepRow {
  taskId: string;
  stepId: string;
  position: number;
  type: string;
  status: string;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** JSON. */
  result: string | null;
  error: string | null;
}

export interface TaskFilter {
  project: string;
  /** Only this key's tasks; undefined: every task of the project. */
  keyId?: number | null | undefined;
  limit?: number | undefined;
}

export type TaskChange = Partial<Pick<TaskRow, 'plan' | 'status' | 'error' | 'startedAt' | 'finishedAt'>>;

export interface BatchRepo {
  createTask(row: TaskRow): void;
  updateTask(id: string, change: TaskChange): void;
  getTask(id: string): TaskRow | undefined;
  /** Newest first. */
  listTasks(filter: TaskFilter): TaskRow[];
  /** Inserts or replaces one step's row. */
  saveStep(row: StepRow): void;
  steps(taskId: string): StepRow[];
  /**
   * Tasks left planning or running by a daemon that is gone, and their unfinished steps, become
   * `interrupted`; returns how many tasks.
   */
  interruptUnfinished(at: number): number;
  /** Deletes the oldest finished tasks past `keep`; returns how many went. */
  prune(keep: number): number;
}

const TASK_COLUMNS = `id, project, key_id AS keyId, key_prefix AS keyPrefix, member, request, planner, plan, status, error,
  created_at AS createdAt, started_at AS startedAt, finished_at AS finishedAt`;
const STEP_COLUMNS = `task_id AS taskId, step_id AS stepId, position, type, status, attempts, started_at AS startedAt,
  finished_at AS finishedAt, result, error`;
const UNFINISHED = `('planning', 'running')`;

export function createBatchRepo({ db }: RepoContext): BatchRepo {
  const insertTask = db.prepare(
    `INSERT INTO batch_tasks (id, project, key_id, key_prefix, member, request, planner, plan, status, error, created_at, started_at, finished_at)
     VALUES (@id, @project, @keyId, @keyPrefix, @member, @request, @planner, @plan, @status, @error, @createdAt, @startedAt, @finishedAt)`,
  );
  const updateTask = db.prepare(
    `UPDATE batch_tasks SET plan = coalesce(@plan, plan), status = coalesce(@status, status), error = coalesce(@error, error),
       started_at = coalesce(@startedAt, started_at), finished_at = coalesce(@finishedAt, finished_at) WHERE id = @id`,
  );
  const getTask = db.prepare<[string], TaskRow>(`SELECT ${TASK_COLUMNS} FROM batch_tasks WHERE id = ?`);
  const listAll = db.prepare<{ project: string; limit: number }, TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM batch_tasks WHERE project = @project ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
  );
  const listOwn = db.prepare<{ project: string; keyId: number | null; limit: number }, TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM batch_tasks WHERE project = @project AND key_id IS @keyId ORDER BY created_at DESC, rowid DESC LIMIT @limit`,
  );
  const saveStep = db.prepare(
    `INSERT OR REPLACE INTO batch_steps (task_id, step_id, position, type, status, attempts, started_at, finished_at, result, error)
     VALUES (@taskId, @stepId, @position, @type, @status, @attempts, @startedAt, @finishedAt, @result, @error)`,
  );
  const steps = db.prepare<[string], StepRow>(`SELECT ${STEP_COLUMNS} FROM batch_steps WHERE task_id = ? ORDER BY position`);
  const interruptSteps = db.prepare(
    `UPDATE batch_steps SET status = 'interrupted', finished_at = @at
     WHERE status IN ('pending', 'running') AND task_id IN (SELECT id FROM batch_tasks WHERE status IN ${UNFINISHED})`,
  );
  const interruptTasks = db.prepare(
    `UPDATE batch_tasks SET status = 'interrupted', finished_at = @at,
       error = 'the daemon stopped while the task was running' WHERE status IN ${UNFINISHED}`,
  );
  const prune = db.prepare(
    `DELETE FROM batch_tasks WHERE status NOT IN ${UNFINISHED} AND id IN (
       SELECT id FROM batch_tasks ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?)`,
  );

  return {
    createTask: (row) => void insertTask.run(row),
    updateTask(id, change) {
      updateTask.run({ plan: null, status: null, error: null, startedAt: null, finishedAt: null, ...change, id });
    },
    getTask: (id) => getTask.get(id),
    listTasks({ project, keyId, limit = 50 }) {
      return keyId === undefined ? listAll.all({ project, limit }) : listOwn.all({ project, keyId, limit });
    },
    saveStep: (row) => void saveStep.run(row),
    steps: (taskId) => steps.all(taskId),
    interruptUnfinished: (at) =>
      db
        .transaction(() => {
          interruptSteps.run({ at });
          return interruptTasks.run({ at }).changes;
        })
        .immediate(),
    prune: (keep) => prune.run(keep).changes,
  };
}
