import { OrchError } from '../errors.js';
import type { Role } from './members.js';
import { limitOf, unknownProject, type ProjectLimits } from './projects.js';
import { orThrow, type RepoContext } from './repo.js';

/**
 * API keys as stored: never the key itself, only its SHA-256 hash (looked up by a unique index) and
 * its visible prefix, with everything needed to decide what the key may do in one query.
 */
export interface KeyRecord {
  id: number;
  project: string;
  member: string;
  /** The member's role in the key's project, which limits the key. */
  role: Role;
  name: string;
  /** `mcpo_` and the first characters: enough to name the key in lists and logs. */
  prefix: string;
  /** The servers the key is narrowed to; null: every server the project exposes. */
  servers: string[] | null;
  readOnly: boolean;
  createdAt: number;
  expiresAt: number | null;
  lastUsedAt: number | null;
  /** From this time on the key no longer works (revoked, or a rotation's grace ended). */
  revokedAt: number | null;
  /** The key that replaced this one in a rotation. */
  replacedBy: number | null;
  /** The rate limits the key's project sets for itself. */
  projectLimits: ProjectLimits;
}

export interface NewKey {
  project: string;
  /** The member's name or email; they must be in the project. */
  member: string;
  name: string;
  prefix: string;
  hash: Buffer;
  servers?: string[] | null | undefined;
  readOnly?: boolean | undefined;
  expiresAt?: number | null | undefined;
}

export interface KeysRepo {
  insert(key: NewKey): KeyRecord;
  /** The one indexed lookup of authentication; the stored hash comes along for a constant-time comparison. */
  findByHash(hash: Buffer): (KeyRecord & { hash: Buffer }) | undefined;
  get(id: number): KeyRecord | undefined;
  /** Keys whose prefix starts with `prefix`, newest first. */
  findByPrefix(prefix: string): KeyRecord[];
  list(filter?: { project?: string | undefined; member?: string | undefined }): KeyRecord[];
  /** The key stops working at `at` (now unless given); an earlier end stays. */
  revoke(id: number, at?: number): KeyRecord;
  /** A new key with the old one's project, member, name and limits; the old one works until `graceEndsAt`. */
  rotate(id: number, next: { prefix: string; hash: Buffer }, graceEndsAt: number): KeyRecord;
  /** Records a use; cheap enough for the request path when called at most once a minute per key. */
  touch(id: number, at: number): void;
}

interface KeyRow {
  id: number;
  project_id: number;
  member_id: number;
  hash: Buffer;
  slug: string;
  member: string;
  role: Role;
  name: string;
  prefix: string;
  servers: string | null;
  read_only: number;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
  replaced_by: number | null;
  key_rpm: number | null;
  key_burst: number | null;
  project_rpm: number | null;
  project_burst: number | null;
}

const KEY = `
  SELECT k.id, k.project_id, k.member_id, k.hash, p.slug, m.name AS member, pm.role, k.name, k.prefix, k.servers, k.read_only, k.created_at,
         k.expires_at, k.last_used_at, k.revoked_at, k.replaced_by, p.key_rpm, p.key_burst, p.project_rpm, p.project_burst
  FROM api_keys k
  JOIN projects p ON p.id = k.project_id
  JOIN members m ON m.id = k.member_id
  JOIN project_members pm ON pm.project_id = k.project_id AND pm.member_id = k.member_id`;

function toKey(row: KeyRow): KeyRecord {
  return {
    id: row.id,
    project: row.slug,
    member: row.member,
    role: row.role,
    name: row.name,
    prefix: row.prefix,
    servers: row.servers === null ? null : (JSON.parse(row.servers) as string[]),
    readOnly: row.read_only === 1,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    replacedBy: row.replaced_by,
    projectLimits: { perKey: limitOf(row.key_rpm, row.key_burst), perProject: limitOf(row.project_rpm, row.project_burst) },
  };
}

export function unknownKey(reference: string | number): OrchError {
  return new OrchError('NOT_FOUND', `no API key ${typeof reference === 'number' ? `#${reference}` : `"${reference}"`}`, {
    hint: 'list keys with `mcp-orch keys list`',
  });
}

export function createKeysRepo({ db, clock, changed }: RepoContext): KeysRepo {
  const membership = db.prepare<[string, string, string], { project_id: number; member_id: number }>(
    `SELECT pm.project_id, pm.member_id FROM project_members pm
     JOIN projects p ON p.id = pm.project_id JOIN members m ON m.id = pm.member_id
     WHERE p.slug = ? AND (m.name = ? OR m.email = ?)`,
  );
  const projectId = db.prepare<[string], number>('SELECT id FROM projects WHERE slug = ?').pluck();
  const insert = db.prepare(
    `INSERT INTO api_keys (project_id, member_id, name, prefix, hash, servers, read_only, created_at, expires_at)
     VALUES (@projectId, @memberId, @name, @prefix, @hash, @servers, @readOnly, @createdAt, @expiresAt)`,
  );
  const byHash = db.prepare<[Buffer], KeyRow>(`${KEY} WHERE k.hash = ?`);
  const byId = db.prepare<[number], KeyRow>(`${KEY} WHERE k.id = ?`);
  // Prefixes are case-sensitive base62, which LIKE is not.
  const byPrefix = db.prepare<{ prefix: string }, KeyRow>(`${KEY} WHERE substr(k.prefix, 1, length(@prefix)) = @prefix ORDER BY k.id DESC`);
  const all = db.prepare<{ project: string | null; member: string | null }, KeyRow>(
    `${KEY} WHERE (@project IS NULL OR p.slug = @project) AND (@member IS NULL OR m.name = @member OR m.email = @member)
     ORDER BY p.slug, m.name, k.id`,
  );
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = min(coalesce(revoked_at, @at), @at) WHERE id = @id');
  const replace = db.prepare('UPDATE api_keys SET replaced_by = ? WHERE id = ?');
  const touch = db.prepare('UPDATE api_keys SET last_used_at = ? WHERE id = ?');

  const get = (id: number): KeyRecord | undefined => {
    const row = byId.get(id);
    return row && toKey(row);
  };
  const require = (id: number): KeyRecord => orThrow(get(id), () => unknownKey(id));

  return {
    insert(key) {
      const ids = membership.get(key.project, key.member, key.member);
      if (!ids) {
        if (projectId.get(key.project) === undefined) throw unknownProject(key.project);
        throw new OrchError('NOT_FOUND', `"${key.member}" is not a member of project "${key.project}"`, {
          hint: `add them first: \`mcp-orch members add ${key.member} --project ${key.project} --role member\``,
        });
      }
      const { lastInsertRowid } = insert.run({
        projectId: ids.project_id,
        memberId: ids.member_id,
        name: key.name,
        prefix: key.prefix,
        hash: key.hash,
        servers: key.servers ? JSON.stringify(key.servers) : null,
        readOnly: key.readOnly ? 1 : 0,
        createdAt: clock(),
        expiresAt: key.expiresAt ?? null,
      });
      changed();
      return require(Number(lastInsertRowid));
    },
    findByHash(hash) {
      const row = byHash.get(hash);
      return row && { ...toKey(row), hash: row.hash };
    },
    get,
    findByPrefix: (prefix) => byPrefix.all({ prefix }).map(toKey),
    list: (filter = {}) => all.all({ project: filter.project ?? null, member: filter.member ?? null }).map(toKey),
    revoke(id, at = clock()) {
      if (revoke.run({ at, id }).changes === 0) throw unknownKey(id);
      changed();
      return require(id);
    },
    rotate(id, next, graceEndsAt) {
      const created = db
        .transaction(() => {
          const old = byId.get(id);
          if (!old) throw unknownKey(id);
          const current = toKey(old);
          if (current.replacedBy !== null) {
            throw new OrchError('CONFLICT', `key ${current.prefix} was already rotated`, { hint: 'rotate the key that replaced it' });
          }
          if (current.revokedAt !== null && current.revokedAt <= clock()) {
            throw new OrchError('CONFLICT', `key ${current.prefix} is revoked`, { hint: 'create a new key with `mcp-orch keys create`' });
          }
          const { lastInsertRowid } = insert.run({
            projectId: old.project_id,
            memberId: old.member_id,
            name: old.name,
            prefix: next.prefix,
            hash: next.hash,
            servers: old.servers,
            readOnly: old.read_only,
            createdAt: clock(),
            expiresAt: old.expires_at,
          });
          revoke.run({ at: graceEndsAt, id });
          replace.run(lastInsertRowid, id);
          return Number(lastInsertRowid);
        })
        .immediate();
      changed();
      return require(created);
    },
    touch(id, at) {
      touch.run(at, id);
    },
  };
}
