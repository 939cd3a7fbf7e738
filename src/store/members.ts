import { OrchError } from '../errors.js';
import { unknownProject } from './projects.js';
import { insertUnique, orThrow, type RepoContext } from './repo.js';

/** Least to most: a viewer lists and reads, a member also calls tools and gets prompts, an admin also manages. */
export const ROLES = ['viewer', 'member', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** A person, who may belong to several projects with a role in each. */
export interface Member {
  id: number;
  name: string;
  email: string | null;
  createdAt: number;
}

export interface Membership {
  project: string;
  member: Member;
  role: Role;
  addedAt: number;
}

export interface MembersRepo {
  /**
   * Adds a person to a project with a role. `name` finds an existing person (by name or email) or
   * makes a new one. CONFLICT when they are in the project already.
   */
  add(project: string, input: { name: string; email?: string | undefined; role: Role }): Membership;
  list(project: string): Membership[];
  /** NOT_FOUND when the person is not in the project. */
  get(project: string, member: string): Membership;
  setRole(project: string, member: string, role: Role): Membership;
  /** Takes the person out of the project, with their keys for it; returns how many keys went. */
  remove(project: string, member: string): { keysRemoved: number };
}

interface MembershipRow {
  slug: string;
  id: number;
  name: string;
  email: string | null;
  created_at: number;
  role: Role;
  added_at: number;
}

const MEMBERSHIP = `
  SELECT p.slug, m.id, m.name, m.email, m.created_at, pm.role, pm.added_at
  FROM project_members pm JOIN projects p ON p.id = pm.project_id JOIN members m ON m.id = pm.member_id`;

export function createMembersRepo({ db, clock, changed }: RepoContext): MembersRepo {
  const projectId = db.prepare<[string], number>('SELECT id FROM projects WHERE slug = ?').pluck();
  // A person named `name` first, else one whose email is given.
  const findPerson = db.prepare<{ name: string; email: string }, { id: number; name: string; email: string | null }>(
    'SELECT id, name, email FROM members WHERE name = @name OR email = @email ORDER BY name = @name DESC LIMIT 1',
  );
  const insertPerson = db.prepare('INSERT INTO members (name, email, created_at) VALUES (?, ?, ?)');
  const insertMembership = db.prepare('INSERT INTO project_members (project_id, member_id, role, added_at) VALUES (?, ?, ?, ?)');
  const byProject = db.prepare<[string], MembershipRow>(`${MEMBERSHIP} WHERE p.slug = ? ORDER BY m.name`);
  const one = db.prepare<[string, string, string], MembershipRow>(`${MEMBERSHIP} WHERE p.slug = ? AND (m.name = ? OR m.email = ?)`);
  const updateRole = db.prepare('UPDATE project_members SET role = ? WHERE project_id = ? AND member_id = ?');
  const countKeys = db.prepare<[number, number], number>('SELECT count(*) FROM api_keys WHERE project_id = ? AND member_id = ?').pluck();
  const removeMembership = db.prepare('DELETE FROM project_members WHERE project_id = ? AND member_id = ?');

  const toMembership = (row: MembershipRow): Membership => ({
    project: row.slug,
    member: { id: row.id, name: row.name, email: row.email, createdAt: row.created_at },
    role: row.role,
    addedAt: row.added_at,
  });
  const requireProject = (slug: string): number => orThrow(projectId.get(slug), () => unknownProject(slug));
  const get = (project: string, member: string): Membership => {
    requireProject(project);
    const row = one.get(project, member, member);
    if (!row) {
      throw new OrchError('NOT_FOUND', `"${member}" is not a member of project "${project}"`, {
        hint: `list them with \`mcp-orch members list --project ${project}\``,
      });
    }
    return toMembership(row);
  };

  return {
    add(project, { name, email, role }) {
      const added = db
        .transaction(() => {
          const id = requireProject(project);
          const existing = findPerson.get({ name, email: email ?? name });
          if (existing && email !== undefined && existing.email !== null && existing.email !== email) {
            throw new OrchError('CONFLICT', `"${existing.name}" exists with another email (${existing.email})`, {
              hint: 'give another name, or leave out --email to add the existing person',
            });
          }
          const personId = existing?.id ?? Number(insertPerson.run(name, email ?? null, clock()).lastInsertRowid);
          insertUnique(`"${name}" in project "${project}"`, () => insertMembership.run(id, personId, role, clock()));
          return existing?.name ?? name;
        })
        .immediate();
      changed();
      return get(project, added);
    },
    list(project) {
      requireProject(project);
      return byProject.all(project).map(toMembership);
    },
    get,
    setRole(project, member, role) {
      const current = get(project, member);
      updateRole.run(role, requireProject(project), current.member.id);
      changed();
      return get(project, member);
    },
    remove(project, member) {
      const current = get(project, member);
      const id = requireProject(project);
      const keysRemoved = db
        .transaction(() => {
          const count = countKeys.get(id, current.member.id) ?? 0;
          removeMembership.run(id, current.member.id);
          return count;
        })
        .immediate();
      changed();
      return { keysRemoved };
    },
  };
}
