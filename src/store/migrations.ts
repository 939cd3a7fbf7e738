import type { Database } from 'better-sqlite3';

/**
 * The database's schema, one migration per version. `PRAGMA user_version` says how many have run;
 * `PRAGMA application_id` marks the file as mcp-orch's, so that another program's SQLite file is
 * recognised and left alone. A migration only ever appends: never edit one that has shipped.
 */

/** "mcpo" in ASCII: what `PRAGMA application_id` holds in every mcp-orch database. */
export const APPLICATION_ID = 0x6d63706f;

const MIGRATIONS: readonly string[] = [
  // 1: projects, members, keys, secrets, audit.
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;

  CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    -- whether a config server without a row in project_servers is exposed
    all_servers INTEGER NOT NULL DEFAULT 1,
    key_rpm INTEGER,
    key_burst INTEGER,
    project_rpm INTEGER,
    project_burst INTEGER,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE project_servers (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    server TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    PRIMARY KEY (project_id, server)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE project_members (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('viewer', 'member', 'admin')),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, member_id)
  ) STRICT;
  CREATE INDEX project_members_member ON project_members(member_id);

  CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    member_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    hash BLOB NOT NULL UNIQUE,
    servers TEXT,
    read_only INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used_at INTEGER,
    -- from this time on the key no longer works: a revocation, or the end of a rotation's grace
    revoked_at INTEGER,
    replaced_by INTEGER REFERENCES api_keys(id) ON DELETE SET NULL,
    -- a member who leaves the project takes their keys with them
    FOREIGN KEY (project_id, member_id) REFERENCES project_members(project_id, member_id) ON DELETE CASCADE
  ) STRICT;
  CREATE INDEX api_keys_prefix ON api_keys(prefix);
  CREATE INDEX api_keys_project ON api_keys(project_id, member_id);

  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    type TEXT NOT NULL,
    project TEXT,
    member TEXT,
    key_prefix TEXT,
    server TEXT,
    method TEXT,
    name TEXT,
    outcome TEXT,
    duration_ms REAL,
    transport TEXT,
    era TEXT,
    client_name TEXT,
    client_version TEXT,
    address TEXT,
    session TEXT,
    detail TEXT
  ) STRICT;
  CREATE INDEX audit_at ON audit(at);
  CREATE INDEX audit_project_at ON audit(project, at);
  CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  // 2: what each project's clients see of a server (filters, overrides), and pinned tool definitions.
  `
  CREATE TABLE project_rules (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    server TEXT NOT NULL,
    -- JSON: {"tools": {"allow": [...], "deny": [...]}, "prompts": ..., "resources": ..., "overrides": {...}, "promptOverrides": {...}}
    rules TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, server)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE tool_pins (
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    -- the approved definition (JSON) and its hash: what the tool was when first seen, or last approved
    hash TEXT NOT NULL,
    definition TEXT NOT NULL,
    approved_at INTEGER NOT NULL,
    -- a different definition the server offers now, awaiting approval; NULL while it offers the approved one
    seen_hash TEXT,
    seen_definition TEXT,
    seen_at INTEGER,
    PRIMARY KEY (server, tool)
  ) STRICT, WITHOUT ROWID;
  `,
  // 3: batch tasks and their steps; the task an audited call belongs to.
  `
  CREATE TABLE batch_tasks (
    id TEXT PRIMARY KEY,
    project TEXT NOT NULL,
    key_id INTEGER,
    key_prefix TEXT,
    member TEXT,
    request TEXT,
    planner TEXT,
    plan TEXT,
    status TEXT NOT NULL,
    error TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    finished_at INTEGER
  ) STRICT;
  CREATE INDEX batch_tasks_project ON batch_tasks(project, created_at);
  CREATE INDEX batch_tasks_status ON batch_tasks(status);

  CREATE TABLE batch_steps (
    task_id TEXT NOT NULL REFERENCES batch_tasks(id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER,
    finished_at INTEGER,
    result TEXT,
    error TEXT,
    PRIMARY KEY (task_id, step_id)
  ) STRICT, WITHOUT ROWID;

  ALTER TABLE audit ADD COLUMN task TEXT;
  CREATE INDEX audit_task ON audit(task) WHERE task IS NOT NULL;
  `,
  // 4: metrics history, per server, at 10 s and 5 min resolution.
  `
  CREATE TABLE metric_samples (
    server TEXT NOT NULL,
    -- seconds each sample covers: 10 (kept a day) or 300 (kept 30 days)
    resolution INTEGER NOT NULL,
    -- the start of the period, in milliseconds since the epoch
    at INTEGER NOT NULL,
    cpu_percent REAL,
    memory_bytes INTEGER,
    calls INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    p50_ms REAL,
    p95_ms REAL,
    PRIMARY KEY (resolution, server, at)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX metric_samples_at ON metric_samples(resolution, at);
  `,
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the schema up to SCHEMA_VERSION; each step commits with its version number, or not at all. */
export function migrate(db: Database): void {
  // IMMEDIATE: a second process opening the same new file waits here, then sees the version moved on.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current === 0) db.pragma(`application_id = ${APPLICATION_ID}`);
    for (let version = current; version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
      db.pragma(`user_version = ${version + 1}`);
    }
  }).immediate();
}
