import type { RepoContext } from './repo.js';

/**
 * The audit log's rows: append-only (a trigger refuses UPDATE), written in batches of one
 * transaction each, so that a crash leaves whole batches or none. Rows leave only through `prune`
 * (retention). Columns are plain text: what they mean is audit/'s business.
 */
export interface AuditRow {
  /** Milliseconds since the epoch. */
  at: number;
  type: string;
  project?: string | null | undefined;
  member?: string | null | undefined;
  keyPrefix?: string | null | undefined;
  server?: string | null | undefined;
  method?: string | null | undefined;
  name?: string | null | undefined;
  outcome?: string | null | undefined;
  durationMs?: number | null | undefined;
  transport?: string | null | undefined;
  era?: string | null | undefined;
  clientName?: string | null | undefined;
  clientVersion?: string | null | undefined;
  address?: string | null | undefined;
  session?: string | null | undefined;
  /** JSON text: an error message, the arguments, a management action's details. */
  detail?: string | null | undefined;
  /** The batch task a call was a step of. */
  task?: string | null | undefined;
}

export interface AuditEntry extends Required<{ [K in keyof AuditRow]: Exclude<AuditRow[K], undefined> }> {
  id: number;
}

export interface AuditFilter {
  project?: string | undefined;
  server?: string | undefined;
  member?: string | undefined;
  /** A tool or prompt name, or a resource URI. */
  name?: string | undefined;
  outcome?: string | undefined;
  type?: string | undefined;
  task?: string | undefined;
  since?: number | undefined;
  until?: number | undefined;
  /** Only rows after this id, oldest first (to follow the log); otherwise newest first. */
  afterId?: number | undefined;
  /** Newest first, only rows before this id: the next page after a page that ended there. */
  beforeId?: number | undefined;
  limit?: number | undefined;
}

export interface AuditRepo {
  /** All rows in one transaction. */
  append(rows: readonly AuditRow[]): void;
  query(filter?: AuditFilter): AuditEntry[];
  /** Deletes rows older than `before` and, past `maxRows`, the oldest; returns how many went. */
  prune(retention: { before?: number | undefined; maxRows?: number | undefined }): number;
  count(): number;
}

const COLUMNS = `id, at, type, project, member, key_prefix AS keyPrefix, server, method, name, outcome, duration_ms AS durationMs,
  transport, era, client_name AS clientName, client_version AS clientVersion, address, session, detail, task`;

const WHERE = `(@project IS NULL OR project = @project) AND (@server IS NULL OR server = @server)
  AND (@member IS NULL OR member = @member) AND (@name IS NULL OR name = @name) AND (@outcome IS NULL OR outcome = @outcome)
  AND (@type IS NULL OR type = @type) AND (@task IS NULL OR task = @task) AND (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)`;

export function createAuditRepo({ db }: RepoContext): AuditRepo {
  // Positional parameters: binding 18 named ones costs a lookup each, once per row of every call.
  const insert = db.prepare(
    `INSERT INTO audit (at, type, project, member, key_prefix, server, method, name, outcome, duration_ms, transport, era,
       client_name, client_version, address, session, detail, task)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const newest = db.prepare<Record<string, unknown>, AuditEntry>(
    `SELECT ${COLUMNS} FROM audit WHERE (@beforeId IS NULL OR id < @beforeId) AND ${WHERE} ORDER BY id DESC LIMIT @limit`,
  );
  const after = db.prepare<Record<string, unknown>, AuditEntry>(
    `SELECT ${COLUMNS} FROM audit WHERE id > @afterId AND ${WHERE} ORDER BY id LIMIT @limit`,
  );
  const pruneOld = db.prepare('DELETE FROM audit WHERE at < ?');
  const pruneExcess = db.prepare('DELETE FROM audit WHERE id <= (SELECT id FROM audit ORDER BY id DESC LIMIT 1 OFFSET ?)');
  const count = db.prepare<[], number>('SELECT count(*) FROM audit').pluck();

  const appendAll = db.transaction((rows: readonly AuditRow[]) => {
    for (const row of rows) {
      insert.run(
        row.at,
        row.type,
        row.project ?? null,
        row.member ?? null,
        row.keyPrefix ?? null,
        row.server ?? null,
        row.method ?? null,
        row.name ?? null,
        row.outcome ?? null,
        row.durationMs ?? null,
        row.transport ?? null,
        row.era ?? null,
        row.clientName ?? null,
        row.clientVersion ?? null,
        row.address ?? null,
        row.session ?? null,
        row.detail ?? null,
        row.task ?? null,
      );
    }
  });

  return {
    append(rows) {
      if (rows.length > 0) appendAll.immediate(rows);
    },
    query(filter = {}) {
      const params = {
        project: filter.project ?? null,
        server: filter.server ?? null,
        member: filter.member ?? null,
        name: filter.name ?? null,
        outcome: filter.outcome ?? null,
        type: filter.type ?? null,
        task: filter.task ?? null,
        since: filter.since ?? null,
        until: filter.until ?? null,
        limit: filter.limit ?? 100,
      };
      return filter.afterId === undefined
        ? newest.all({ ...params, beforeId: filter.beforeId ?? null })
        : after.all({ ...params, afterId: filter.afterId });
    },
    prune({ before, maxRows }) {
      return db
        .transaction(() => {
          let removed = before === undefined ? 0 : pruneOld.run(before).changes;
          if (maxRows !== undefined && maxRows > 0) removed += pruneExcess.run(maxRows).changes;
          return removed;
        })
        .immediate();
    },
    count: () => count.get() ?? 0,
  };
}
