import type { RateLimit } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Role } from '../store/members.js';
import type { Project } from '../store/projects.js';

/**
 * Who may do what: one pure function from (principal, project, server, action) to allow or deny
 * with the reason. Roles add up: a viewer lists and reads, a member also calls tools and gets
 * prompts, an admin also manages. A key may be narrowed further, to some servers or to reading.
 */

/** What a request does, as far as permissions go. */
export type Action = 'list' | 'read' | 'call' | 'prompt' | 'manage';

const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  viewer: ['list', 'read'],
  member: ['list', 'read', 'call', 'prompt'],
  admin: ['list', 'read', 'call', 'prompt', 'manage'],
};
const READ_ONLY_ACTIONS: readonly Action[] = ['list', 'read'];

const METHOD_ACTIONS: Record<string, Action> = {
  'tools/list': 'list',
  'prompts/list': 'list',
  'resources/list': 'list',
  'resources/templates/list': 'list',
  'resources/read': 'read',
  'resources/subscribe': 'read',
  'resources/unsubscribe': 'read',
  'completion/complete': 'read',
  'tools/call': 'call',
  'prompts/get': 'prompt',
};

/** The action a JSON-RPC method needs; undefined for the protocol's own (ping, initialize, logging/setLevel). */
export function actionForMethod(method: string): Action | undefined {
  return METHOD_ACTIONS[method];
}

/** Who is asking, as authentication found them. */
export interface Principal {
  /** `key`: an API key. `local`: the owner of the data dir (stdio mode, the daemon's admin token). */
  kind: 'key' | 'local';
  project: string;
  role: Role;
  member?: string | undefined;
  keyId?: number | undefined;
  /** The key's visible prefix, for logs and the audit. */
  keyPrefix?: string | undefined;
  /** The servers a narrowed key may reach; null: every server its project exposes. */
  servers: string[] | null;
  readOnly: boolean;
  /** Rate limits in force: the project's own, else the `orch.rateLimit` defaults. Absent: unlimited. */
  limits?: { perKey: RateLimit; perProject: RateLimit } | undefined;
}

/** The owner of the data dir, who needs no key: `mcp-orch stdio --project P`, the admin token. */
export function localPrincipal(project: string): Principal {
  return { kind: 'local', project, role: 'admin', servers: null, readOnly: false };
}

export type DenyRule = 'other-project' | 'server-off' | 'narrowed' | 'role' | 'read-only';
export type Decision = { allow: true } | { allow: false; rule: DenyRule; reason: string; hint: string };

/** Whether the project exposes a config server: its own switch for it, else the project's default. */
export function exposes(project: Pick<Project, 'servers' | 'allServers'>, server: string): boolean {
  return project.servers[server] ?? project.allServers;
}

const ACTION_WORDS: Record<Action, string> = {
  list: 'list tools, prompts and resources',
  read: 'read resources',
  call: 'call tools',
  prompt: 'get prompts',
  manage: 'manage the project',
};

/**
 * Allow or deny, with a reason a person can act on. `server` is undefined for requests that reach
 * no one server (the unified lists, project management).
 */
export function authorize(principal: Principal, project: Project, server: string | undefined, action: Action): Decision {
  if (principal.project !== project.slug) {
    return {
      allow: false,
      rule: 'other-project',
      reason: `this key belongs to project "${principal.project}", not "${project.slug}"`,
      hint: `use /projects/${principal.project}/... with it, or a key of project "${project.slug}"`,
    };
  }
  if (server !== undefined && !exposes(project, server)) {
    return {
      allow: false,
      rule: 'server-off',
      reason: `server "${server}" is turned off in project "${project.slug}"`,
      hint: `an admin can turn it on: mcp-orch projects servers ${project.slug} enable ${server}`,
    };
  }
  if (server !== undefined && principal.servers !== null && !principal.servers.includes(server)) {
    return {
      allow: false,
      rule: 'narrowed',
      reason: `this key reaches only ${principal.servers.map((s) => `"${s}"`).join(', ') || 'no server'}, not "${server}"`,
      hint: `create a key that includes it: mcp-orch keys create --project ${project.slug} --servers ${[...principal.servers, server].join(',')}`,
    };
  }
  if (!ROLE_ACTIONS[principal.role].includes(action)) {
    return {
      allow: false,
      rule: 'role',
      reason: `the ${principal.role} role may not ${ACTION_WORDS[action]}`,
      hint: `an admin can change the role: mcp-orch members set-role ${principal.member ?? 'NAME'} ${action === 'manage' ? 'admin' : 'member'} --project ${project.slug}`,
    };
  }
  if (principal.readOnly && !READ_ONLY_ACTIONS.includes(action)) {
    return {
      allow: false,
      rule: 'read-only',
      reason: `this key is read-only: it may not ${ACTION_WORDS[action]}`,
      hint: `use a key created without --read-only`,
    };
  }
  return { allow: true };
}

/** The servers of the config a principal sees in a project: the rest are not listed to it at all. */
export function visibleServers(principal: Principal, project: Project, servers: readonly string[]): string[] {
  return servers.filter((server) => authorize(principal, project, server, 'list').allow);
}

/** A denial as the error a client receives (HTTP 403, or a JSON-RPC error on a stream). */
export function forbidden(decision: Extract<Decision, { allow: false }>): OrchError {
  return new OrchError('FORBIDDEN', decision.reason, { hint: decision.hint, data: { rule: decision.rule } });
}
