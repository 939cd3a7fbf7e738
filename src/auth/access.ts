import { OrchError } from '../errors.js';
import type { KeyRecord } from '../store/keys.js';
import type { Project } from '../store/projects.js';
import { unknownProject } from '../store/projects.js';
import { keyState } from './keys.js';
import { actionForMethod, authorize, forbidden, type Principal } from './policy.js';
import type { RateLimiter } from './rateLimit.js';
import { principalOf, type AuthenticatorOptions } from './authenticate.js';

/** What access needs of the store: projects and keys as they are now, and word of changes. */
export interface AccessStore {
  projects: { get(slug: string): Project | undefined };
  keys: { get(id: number): KeyRecord | undefined };
  onChange(listener: () => void): () => void;
}

export interface AccessOptions {
  store: AccessStore;
  rateLimiter: RateLimiter;
  /** `orch.rateLimit`, for principals refreshed from the store. */
  defaults: AuthenticatorOptions['defaults'];
  clock?: () => number;
}

/**
 * The access decisions of every request, in one object the gateway calls from its one forwarding
 * path: may this principal do this to that server, which servers are listed to it, one place in
 * its rate limits, and what it is now that the store changed. Projects are read from the store and
 * kept until it changes, so that a change made by the CLI counts from the next request.
 */
export interface Access {
  /** Throws FORBIDDEN (or UNKNOWN_PROJECT) for what the principal may not do; `server` undefined for the gateway's own answers. */
  check(principal: Principal, server: string | undefined, method: string): void;
  /** Whether `server` is listed to the principal: its project exposes it and its key reaches it. */
  reaches(principal: Principal, server: string): boolean;
  /** The principal's project's filters and overrides by server (over the config's); undefined when it has none. */
  rules(principal: Principal): { slug: string; rules: Project['rules'] } | undefined;
  /** Takes one request from the principal's rate limits; throws RATE_LIMITED past them. */
  take(principal: Principal): void;
  /** The principal as the store has it now; undefined when its key no longer works (revoked, expired, member gone). */
  refresh(principal: Principal): Principal | undefined;
  /** The project of a path, or UNKNOWN_PROJECT. */
  project(slug: string): Project;
  onChange(listener: () => void): () => void;
  close(): void;
}

/** Methods of the protocol itself, which any role may send. */
const PROTOCOL_METHODS: ReadonlySet<string> = new Set(['ping', 'logging/setLevel', 'server/discover', 'subscriptions/listen']);

export function createAccess(options: AccessOptions): Access {
  const { store, rateLimiter, defaults } = options;
  const clock = options.clock ?? Date.now;
  const projects = new Map<string, Project | undefined>();
  const forget = store.onChange(() => projects.clear());

  const project = (slug: string): Project => {
    if (!projects.has(slug)) projects.set(slug, store.projects.get(slug));
    const found = projects.get(slug);
    if (!found) throw unknownProject(slug);
    return found;
  };

  return {
    project,
    check(principal, server, method) {
      // A method policy does not name, sent on to a server (tasks, extensions), counts as a call.
      const action = actionForMethod(method) ?? (server === undefined || PROTOCOL_METHODS.has(method) ? undefined : 'call');
      if (action === undefined) return; // the protocol's own: ping, logging/setLevel, server/discover
      const decision = authorize(principal, project(principal.project), server, action);
      if (!decision.allow) throw forbidden(decision);
    },
    reaches(principal, server) {
      return authorize(principal, project(principal.project), server, 'list').allow;
    },
    rules(principal) {
      const { slug, rules } = project(principal.project);
      return Object.keys(rules).length ? { slug, rules } : undefined;
    },
    take(principal) {
      const decision = rateLimiter.take(principal);
      if (!decision.ok) throw decision.error;
    },
    refresh(principal) {
      if (principal.kind !== 'key' || principal.keyId === undefined) return principal;
      const record = store.keys.get(principal.keyId);
      if (!record) return undefined;
      const state = keyState(record, clock());
      if (state === 'revoked' || state === 'expired') return undefined;
      return principalOf(record, defaults);
    },
    onChange: (listener) => store.onChange(listener),
    close: forget,
  };
}

/** The error of a path naming a project the key does not belong to, whether or not it exists. */
export function otherProject(principal: Principal, slug: string): OrchError {
  return new OrchError('FORBIDDEN', `this key belongs to another project than "${slug}"`, {
    hint: `use /projects/${principal.project}/... with it, or a key of project "${slug}"`,
    data: { rule: 'other-project' },
  });
}
