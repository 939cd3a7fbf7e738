import type { KeyRecord } from '../store/keys.js';
import type { Project } from '../store/projects.js';
import { principalOf } from './authenticate.js';
import { keyState, type KeyState } from './keys.js';
import { authorize, type Action } from './policy.js';

/**
 * `mcp-orch keys explain`: what a key reaches, server by server, with the rule that decides each
 * refusal. Pure: the caller brings the key, its project, the config's servers and, when a daemon
 * runs, each server's catalog.
 */

/** What a server offers, by name; absent when no daemon runs to ask. */
export interface ServerCatalog {
  tools: string[];
  prompts: string[];
  resources: string[];
}

export interface ServerReach {
  server: string;
  /** Whether the key sees the server at all (it is listed to it). */
  reachable: boolean;
  /** What the key may do there. */
  allowed: Action[];
  /** What it may not do there, and why. */
  denied: { action: Action; reason: string; hint: string }[];
  catalog?: ServerCatalog | undefined;
}

export interface KeyExplanation {
  prefix: string;
  name: string;
  project: string;
  member: string;
  role: KeyRecord['role'];
  readOnly: boolean;
  narrowedTo: string[] | null;
  state: KeyState;
  expiresAt: number | null;
  /** Until when a rotated key still works. */
  worksUntil: number | null;
  servers: ServerReach[];
  /** Servers a narrowed key names that are not in the config. */
  unknownServers: string[];
}

const SERVER_ACTIONS: Action[] = ['list', 'read', 'call', 'prompt'];

export function explainKey(
  record: KeyRecord,
  project: Project,
  servers: readonly string[],
  catalogs: Record<string, ServerCatalog> | undefined,
  now: number,
): KeyExplanation {
  const principal = principalOf(record);
  const state = keyState(record, now);
  const reaches = servers.map((server): ServerReach => {
    const allowed: Action[] = [];
    const denied: ServerReach['denied'] = [];
    for (const action of SERVER_ACTIONS) {
      const decision = authorize(principal, project, server, action);
      if (decision.allow) allowed.push(action);
      else denied.push({ action, reason: decision.reason, hint: decision.hint });
    }
    return { server, reachable: allowed.includes('list'), allowed, denied, catalog: catalogs?.[server] };
  });
  return {
    prefix: record.prefix,
    name: record.name,
    project: record.project,
    member: record.member,
    role: record.role,
    readOnly: record.readOnly,
    narrowedTo: record.servers,
    state,
    expiresAt: record.expiresAt,
    worksUntil: state === 'retiring' ? record.revokedAt : null,
    servers: reaches,
    unknownServers: (record.servers ?? []).filter((server) => !servers.includes(server)),
  };
}
