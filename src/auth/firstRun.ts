import os from 'node:os';
import { recordNow } from '../audit/events.js';
import type { Store } from '../store/open.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import { CLIENT_TITLES, clientConfig, projectUrl, renderClientConfig, type ClientConfig, type ClientName } from './clientConfigs.js';
import { issueKey } from './issue.js';

/**
 * What `mcp-orch serve` does on an empty database: the `default` project, an `admin` member in it
 * and a key for them, and the text to print once (the key cannot be shown again).
 */

export const FIRST_MEMBER = 'admin';

export interface FirstRun {
  /** Shown once; only its hash is kept. */
  key: string;
  prefix: string;
  project: string;
  member: string;
  url: string;
  configs: ClientConfig[];
  /** What to print: the key, ready-to-paste configs, and how to make more. */
  message: string;
}

const FIRST_RUN_CLIENTS: ClientName[] = ['cursor', 'cline', 'claude-code', 'claude-desktop'];

const WHERE: Partial<Record<ClientName, string>> = {
  cursor: '~/.cursor/mcp.json',
  cline: 'cline_mcp_settings.json',
  'claude-desktop': 'claude_desktop_config.json',
};

/** Sets up an empty database and returns what to print; undefined when it holds a project already. */
export function firstRun(store: Store, options: { baseUrl: string; user?: string }): FirstRun | undefined {
  const created = store.transaction(() => {
    if (store.projects.list().length > 0) return undefined;
    store.projects.create({ slug: DEFAULT_PROJECT, name: 'Default project' });
    store.members.add(DEFAULT_PROJECT, { name: FIRST_MEMBER, role: 'admin' });
    const issued = issueKey(store.keys, { project: DEFAULT_PROJECT, member: FIRST_MEMBER, name: 'first run' });
    recordNow(store.audit, {
      type: 'manage',
      action: 'first-run',
      via: 'cli',
      project: DEFAULT_PROJECT,
      member: FIRST_MEMBER,
      keyPrefix: issued.record.prefix,
      user: options.user ?? os.userInfo().username,
    });
    return issued;
  });
  if (!created) return undefined;
  const url = projectUrl(options.baseUrl, DEFAULT_PROJECT);
  const configs = FIRST_RUN_CLIENTS.map((client) => clientConfig(client, { url, key: created.key }));
  const sections = configs.map((config) => {
    const where = WHERE[config.client];
    return `${CLIENT_TITLES[config.client]}${where ? ` (${where})` : ''}:\n${renderClientConfig(config)}`;
  });
  const message = [
    `First run: created project "${DEFAULT_PROJECT}" with member "${FIRST_MEMBER}" (admin) and an API key.`,
    '',
    `  ${created.key}`,
    '',
    'This key is shown once and cannot be recovered: keep it now. Every client sends it as',
    `"Authorization: Bearer <key>" to ${url}.`,
    '',
    ...sections.flatMap((section) => [section, '']),
    `More keys: mcp-orch keys create --project ${DEFAULT_PROJECT} --member ${FIRST_MEMBER} --name laptop`,
    `A client's config with a new key: mcp-orch connect cursor --project ${DEFAULT_PROJECT} [--write]`,
  ].join('\n');
  return { key: created.key, prefix: created.record.prefix, project: DEFAULT_PROJECT, member: FIRST_MEMBER, url, configs, message };
}
