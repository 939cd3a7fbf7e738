import { explainKey } from '../auth/explain.js';
import { chooseMember, findKey, issueKey, rotateKey } from '../auth/issue.js';
import { keyState } from '../auth/keys.js';
import { exposes } from '../auth/policy.js';
import { OrchError } from '../errors.js';
import type { AdminStore, KeyView, ProjectView } from '../http/api/deps.js';
import type { KeyRecord } from '../store/keys.js';
import type { Store } from '../store/open.js';
import type { Project } from '../store/projects.js';
import { loadSecretKey } from '../store/secretKey.js';

export interface AdminStoreOptions {
  store: Store;
  dataDir: string;
  /** The config's servers now, for what each project exposes and what a key reaches. */
  servers(): string[];
  /** Each server's catalog names, for `explain`. */
  catalogs(): Record<string, { tools: string[]; prompts: string[]; resources: string[] }>;
  clock?: () => number;
}

/**
 * The store as the REST API asks for it: projects with what they expose, keys with their state and
 * never a hash, keys found only within their project, secrets sealed under the data dir's key.
 */
export function createAdminStore(options: AdminStoreOptions): AdminStore {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const projectView = (project: Project): ProjectView => ({
    ...project,
    exposed: options.servers().filter((server) => exposes(project, server)),
  });
  const keyView = ({ projectLimits: _limits, ...record }: KeyRecord): KeyView => ({ ...record, state: keyState(record, clock()) });
  /** A key of the project; one of another project is as unknown as one that does not exist. */
  const keyOf = (project: string, reference: string): KeyRecord => {
    store.projects.require(project);
    const record = findKey(store.keys, reference);
    if (record.project !== project) {
      throw new OrchError('NOT_FOUND', `no API key "${reference}" in project "${project}"`, {
        hint: 'list them with GET /api/projects/{project}/keys',
      });
    }
    return record;
  };

  return {
    projects: {
      list: () => store.projects.list().map(projectView),
      require: (slug) => projectView(store.projects.require(slug)),
      create: (input) => projectView(store.projects.create(input)),
      delete: (slug) => store.projects.delete(slug),
      setServer: (slug, server, enabled) => projectView(store.projects.setServer(slug, server, enabled)),
      setLimits: (slug, limits) => projectView(store.projects.setLimits(slug, limits)),
    },
    members: {
      list: (project) => store.members.list(project),
      add: (project, input) => store.members.add(project, input),
      setRole: (project, member, role) => store.members.setRole(project, member, role),
      remove: (project, member) => store.members.remove(project, member),
    },
    keys: {
      list: (project) => {
        store.projects.require(project);
        return store.keys.list({ project }).map(keyView);
      },
      create(project, input) {
        const { key, record } = issueKey(store.keys, { ...input, project, member: chooseMember(store.members, project, input.member) });
        return { key, record: keyView(record) };
      },
      find: (project, reference) => keyView(keyOf(project, reference)),
      rotate(project, reference, graceMs) {
        const { key, record } = rotateKey(store.keys, keyOf(project, reference), graceMs, clock());
        return { key, record: keyView(record) };
      },
      revoke: (project, reference) => keyView(store.keys.revoke(keyOf(project, reference).id)),
      explain: (project, reference) =>
        explainKey(keyOf(project, reference), store.projects.require(project), options.servers(), options.catalogs(), clock()),
    },
    secrets: {
      list: () => store.secrets.list(),
      set: (name, value) => store.secrets.set(name, value, loadSecretKey(options.dataDir, { create: true })!),
      delete: (name) => store.secrets.delete(name),
    },
    audit: { query: (query) => store.audit.query(query) },
    metrics: { query: (query) => store.metrics.query(query) },
  };
}
