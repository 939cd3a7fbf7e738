import { shapingSchema, type RateLimit, type ShapingRules } from '../config/schema.js';
import { OrchError } from '../errors.js';
import { insertUnique, orThrow, type RepoContext } from './repo.js';

/** Project slugs appear in URLs (`/projects/{slug}/mcp`). */
export const PROJECT_SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** The project the short endpoints (`/mcp`, `/sse`, `/servers/{name}/...`) belong to. */
export const DEFAULT_PROJECT = 'default';

export interface ProjectLimits {
  /** Each key of the project; undefined: the `orch.rateLimit.perKey` default. */
  perKey?: RateLimit | undefined;
  /** The project as a whole; undefined: the `orch.rateLimit.perProject` default. */
  perProject?: RateLimit | undefined;
}

export interface Project {
  id: number;
  slug: string;
  name: string;
  /** Whether a config server named nowhere in `servers` is exposed. */
  allServers: boolean;
  /** Servers turned on or off by name, overriding `allServers`. */
  servers: Record<string, boolean>;
  limits: ProjectLimits;
  /** What the project's clients see of a server (filters, overrides), over the config's rules; by server. */
  rules: Record<string, ShapingRules>;
  createdAt: number;
}

export interface ProjectsRepo {
  /** CONFLICT when the slug is taken. */
  create(input: { slug: string; name?: string; allServers?: boolean }): Project;
  get(slug: string): Project | undefined;
  /** UNKNOWN_PROJECT when there is none. */
  require(slug: string): Project;
  list(): Project[];
  /** Deletes the project with its members' places in it and its keys. The default project stays. */
  delete(slug: string): void;
  setServer(slug: string, server: string, enabled: boolean): Project;
  /** `null` returns a limit to the default. */
  setLimits(slug: string, limits: { perKey?: RateLimit | null; perProject?: RateLimit | null }): Project;
  /** A server's rules in the project, replaced whole; `null` removes them. */
  setRules(slug: string, server: string, rules: ShapingRules | null): Project;
}

interface ProjectRow {
  id: number;
  slug: string;
  name: string;
  all_servers: number;
  key_rpm: number | null;
  key_burst: number | null;
  project_rpm: number | null;
  project_burst: number | null;
  created_at: number;
}

export function limitOf(rpm: number | null, burst: number | null): RateLimit | undefined {
  return rpm === null || burst === null ? undefined : { requestsPerMinute: rpm, burst };
}

export function unknownProject(slug: string): OrchError {
  return new OrchError('UNKNOWN_PROJECT', `unknown project "${slug}"`, { hint: 'list projects with `mcp-orch projects list`' });
}

export function createProjectsRepo({ db, clock, changed }: RepoContext): ProjectsRepo {
  const insert = db.prepare('INSERT INTO projects (slug, name, all_servers, created_at) VALUES (?, ?, ?, ?)');
  const bySlug = db.prepare<[string], ProjectRow>('SELECT * FROM projects WHERE slug = ?');
  const all = db.prepare<[], ProjectRow>('SELECT * FROM projects ORDER BY slug');
  const serversOf = db.prepare<[number], { server: string; enabled: number }>(
    'SELECT server, enabled FROM project_servers WHERE project_id = ? ORDER BY server',
  );
  const remove = db.prepare('DELETE FROM projects WHERE slug = ?');
  const setServer = db.prepare(
    'INSERT INTO project_servers (project_id, server, enabled) VALUES (?, ?, ?) ON CONFLICT (project_id, server) DO UPDATE SET enabled = excluded.enabled',
  );
  const setKeyLimit = db.prepare('UPDATE projects SET key_rpm = ?, key_burst = ? WHERE id = ?');
  const setProjectLimit = db.prepare('UPDATE projects SET project_rpm = ?, project_burst = ? WHERE id = ?');
  const rulesOf = db.prepare<[number], { server: string; rules: string }>('SELECT server, rules FROM project_rules WHERE project_id = ?');
  const putRules = db.prepare(
    'INSERT INTO project_rules (project_id, server, rules, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (project_id, server) DO UPDATE SET rules = excluded.rules, updated_at = excluded.updated_at',
  );
  const dropRules = db.prepare('DELETE FROM project_rules WHERE project_id = ? AND server = ?');

  // Rules are checked when written; a row that no longer parses (edited by hand) counts as none.
  const readRules = (id: number): Record<string, ShapingRules> => {
    const out: Record<string, ShapingRules> = {};
    for (const row of rulesOf.all(id)) {
      const parsed = shapingSchema.safeParse(safeJson(row.rules));
      if (parsed.success) out[row.server] = parsed.data;
    }
    return out;
  };

  const toProject = (row: ProjectRow): Project => ({
    id: row.id,
    slug: row.slug,
    name: row.name,
    allServers: row.all_servers === 1,
    servers: Object.fromEntries(serversOf.all(row.id).map((s) => [s.server, s.enabled === 1])),
    limits: { perKey: limitOf(row.key_rpm, row.key_burst), perProject: limitOf(row.project_rpm, row.project_burst) },
    rules: readRules(row.id),
    createdAt: row.created_at,
  });

  const get = (slug: string): Project | undefined => {
    const row = bySlug.get(slug);
    return row && toProject(row);
  };
  const require = (slug: string): Project => orThrow(get(slug), () => unknownProject(slug));

  return {
    create({ slug, name, allServers = true }) {
      if (!PROJECT_SLUG_PATTERN.test(slug)) {
        throw new OrchError('BAD_REQUEST', `invalid project name "${slug}"`, {
          hint: 'use lower-case letters, digits, "-" and "_", starting with a letter or digit (it appears in URLs)',
        });
      }
      insertUnique(`project "${slug}"`, () => insert.run(slug, name ?? slug, allServers ? 1 : 0, clock()));
      changed();
      return require(slug);
    },
    get,
    require,
    list: () => all.all().map(toProject),
    delete(slug) {
      if (slug === DEFAULT_PROJECT) {
        throw new OrchError('BAD_REQUEST', 'the default project cannot be deleted: it serves /mcp, /sse and /servers/{name}/...', {
          hint: 'turn its servers off instead: `mcp-orch projects servers default disable SERVER`',
        });
      }
      if (remove.run(slug).changes === 0) throw unknownProject(slug);
      changed();
    },
    setServer(slug, server, enabled) {
      setServer.run(require(slug).id, server, enabled ? 1 : 0);
      changed();
      return require(slug);
    },
    setLimits(slug, limits) {
      const { id } = require(slug);
      db.transaction(() => {
        if (limits.perKey !== undefined) setKeyLimit.run(limits.perKey?.requestsPerMinute ?? null, limits.perKey?.burst ?? null, id);
        if (limits.perProject !== undefined) {
          setProjectLimit.run(limits.perProject?.requestsPerMinute ?? null, limits.perProject?.burst ?? null, id);
        }
      })();
      changed();
      return require(slug);
    },
    setRules(slug, server, rules) {
      const { id } = require(slug);
      if (rules === null) dropRules.run(id, server);
      else putRules.run(id, server, JSON.stringify(shapingSchema.parse(rules)), clock());
      changed();
      return require(slug);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
