import { OrchError } from '../errors.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import { localPrincipal, type Principal } from './policy.js';

/**
 * Who may do what through the REST API and the dashboard, in one place. Three kinds of caller:
 * - the daemon's admin token (`<data dir>/admin-token`, what the CLI sends): everything;
 * - an operator: an admin of the default project with a key that is not read-only (the first run
 *   makes the data dir's owner one): also everything, since the default project is the daemon's;
 * - any other key (sent as a bearer, or logged in to the dashboard): what its project's role
 *   allows: viewers and members see the servers their project exposes (members also call tools, on
 *   the gateway's forwarding path), admins also manage their project's members, keys, servers and
 *   audit log.
 * The servers themselves, the config file, the secrets and other projects are the operators'.
 */
export interface ApiUser {
  /** The principal a tool call goes by: the key's, or the owner of the data dir in the default project. */
  principal: Principal;
  /** Manages the daemon: servers, config, secrets and every project. */
  operator: boolean;
  via: 'token' | 'key' | 'session';
}

export function tokenUser(via: 'token' | 'session' = 'token'): ApiUser {
  return { principal: localPrincipal(DEFAULT_PROJECT), operator: true, via };
}

export function keyUser(principal: Principal, via: 'key' | 'session'): ApiUser {
  const operator = principal.project === DEFAULT_PROJECT && principal.role === 'admin' && !principal.readOnly;
  return { principal, operator, via };
}

/** What a role must be to manage its project: an admin, with a key that is not read-only. */
function adminOf(user: ApiUser, project: string): boolean {
  return user.operator || (user.principal.project === project && user.principal.role === 'admin' && !user.principal.readOnly);
}

/** Refuses anything but an operator: server control, config edits, secrets, projects as a whole. */
export function requireOperator(user: ApiUser, what: string): void {
  if (user.operator) return;
  throw new OrchError('FORBIDDEN', `only an operator may ${what}`, {
    hint: `use the daemon's admin token or an admin key of project "${DEFAULT_PROJECT}"`,
    data: { rule: 'operator' },
  });
}

/** Refuses all but the project's admins (and operators): its members, keys, servers and audit log. */
export function requireProjectAdmin(user: ApiUser, project: string, what: string): void {
  if (adminOf(user, project)) return;
  throw new OrchError('FORBIDDEN', `only an admin of project "${project}" may ${what}`, {
    hint:
      user.principal.project === project
        ? `an admin can change your role: mcp-orch members set-role ${user.principal.member ?? 'NAME'} admin --project ${project}`
        : `use a key of project "${project}"`,
    data: { rule: 'project-admin' },
  });
}

/** Refuses a key of another project: a key tells nothing of projects it does not belong to. */
export function requireProjectMember(user: ApiUser, project: string): void {
  if (user.operator || user.principal.project === project) return;
  throw new OrchError('FORBIDDEN', `this key belongs to another project than "${project}"`, {
    hint: `use a key of project "${project}"`,
    data: { rule: 'other-project' },
  });
}

export function mayManageProject(user: ApiUser, project: string): boolean {
  return adminOf(user, project);
}
