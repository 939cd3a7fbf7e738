import type { Command } from 'commander';
import { explainKey, type KeyExplanation, type ServerCatalog } from '../auth/explain.js';
import { findKey, issueKey, rotateKey } from '../auth/issue.js';
import { keyState } from '../auth/keys.js';
import type { Action } from '../auth/policy.js';
import { OrchError } from '../errors.js';
import type { KeyRecord } from '../store/keys.js';
import type { Store } from '../store/open.js';
import { DEFAULT_PROJECT, type Project } from '../store/projects.js';
import type { ShapingRules } from '../config/schema.js';
import { combineRules, shapeCatalog } from '../gateway/shape.js';
import type { CatalogLists } from '../upstream/catalog.js';
import { connectDaemon } from './daemonClient.js';
import { printJson, table } from './output.js';
import {
  configServers,
  confirm,
  formatTime,
  optionalConfig,
  parseDuration,
  parseList,
  recordManage,
  storeOptions,
  withStore,
  type StoreContext,
  type StoreOptions,
} from './storeContext.js';

interface CreateOptions extends StoreOptions {
  project: string;
  member?: string;
  name?: string;
  expires?: string;
  servers?: string;
  readOnly?: boolean;
}

/** --member, or the project's only member, or its only admin. */
export function chooseMember(store: Store, project: string, member: string | undefined): string {
  if (member !== undefined) return member;
  const members = store.members.list(project);
  const admins = members.filter((m) => m.role === 'admin');
  const only = members.length === 1 ? members : admins.length === 1 ? admins : [];
  if (only[0]) return only[0].member.name;
  throw new OrchError('BAD_REQUEST', `project "${project}" has ${members.length} members: say whose key it is`, {
    hint: `pass --member NAME (\`mcp-orch members list --project ${project}\`)`,
  });
}

/** Issues a key and records it in the audit log; the key itself is returned once. */
export function createKey(context: StoreContext, options: CreateOptions & { name: string }): { key: string; record: KeyRecord } {
  const { store } = context;
  const issued = issueKey(store.keys, {
    project: options.project,
    member: chooseMember(store, options.project, options.member),
    name: options.name,
    servers: options.servers === undefined ? null : parseList(options.servers),
    readOnly: options.readOnly ?? false,
    expiresAt: options.expires === undefined ? null : Date.now() + parseDuration(options.expires, '--expires'),
  });
  recordManage(store, {
    action: 'keys.create',
    project: options.project,
    member: issued.record.member,
    keyPrefix: issued.record.prefix,
    target: issued.record.name,
    detail: { servers: issued.record.servers, readOnly: issued.record.readOnly, expiresAt: issued.record.expiresAt },
  });
  return issued;
}

function flags(key: KeyRecord): string {
  return [key.servers ? `servers: ${key.servers.join(',')}` : '', key.readOnly ? 'read-only' : ''].filter(Boolean).join('; ') || '-';
}

interface ServerBody {
  catalog: CatalogLists;
  rules: ShapingRules | null;
  pinning: { held: string[] };
}

/**
 * Every server's catalog as the project's clients see it (the config's and the project's filters and
 * overrides, and pinning's holds applied), from the daemon of this data dir when one runs.
 */
async function daemonCatalogs(dataDir: string, project: Project): Promise<Record<string, ServerCatalog> | undefined> {
  const client = await connectDaemon({ dataDir }).catch(() => undefined);
  if (!client) return undefined;
  const { servers } = await client.request<{ servers: { name: string }[] }>('GET', '/api/servers');
  const entries = await Promise.all(
    servers.map(async ({ name }): Promise<[string, ServerCatalog]> => {
      const body = await client.request<ServerBody>('GET', `/api/servers/${encodeURIComponent(name)}`);
      const rules = combineRules([
        { rules: body.rules ?? undefined, source: 'the config' },
        { rules: project.rules[name], source: `project "${project.slug}"` },
      ]);
      const shaped = shapeCatalog(body.catalog, rules, (tool) => (body.pinning.held.includes(tool) ? 'held' : undefined));
      return [
        name,
        {
          tools: shaped.tools.map((t) => t.name),
          prompts: shaped.prompts.map((p) => p.name),
          resources: shaped.resources.map((r) => r.uri),
        },
      ];
    }),
  );
  return Object.fromEntries(entries);
}

function renderExplanation(e: KeyExplanation, source: string): string {
  const lines = [
    `key ${e.prefix} "${e.name}": ${e.member} in project "${e.project}" as ${e.role}${e.readOnly ? ', read-only' : ''}` +
      `${e.narrowedTo ? `, narrowed to ${e.narrowedTo.join(', ')}` : ''}`,
    `state: ${e.state}${e.worksUntil ? ` (works until ${formatTime(e.worksUntil)})` : ''}${e.expiresAt ? `, expires ${formatTime(e.expiresAt)}` : ''}`,
  ];
  if (e.state === 'revoked' || e.state === 'expired') lines.push(`this key is ${e.state}: it reaches nothing`);
  lines.push(`servers (${source}):`);
  for (const s of e.servers) {
    if (!s.reachable) {
      lines.push(`  ${s.server}: not reachable: ${s.denied[0]?.reason ?? ''}`, `      ${s.denied[0]?.hint ?? ''}`);
      continue;
    }
    lines.push(`  ${s.server}: may ${s.allowed.join(', ')}`);
    if (s.catalog) {
      const can = (action: Action) => s.allowed.includes(action);
      lines.push(`      tools (${can('call') ? 'callable' : 'listed, not callable'}): ${s.catalog.tools.join(', ') || '-'}`);
      lines.push(`      prompts (${can('prompt') ? 'usable' : 'listed only'}): ${s.catalog.prompts.join(', ') || '-'}`);
      lines.push(`      resources (readable): ${s.catalog.resources.join(', ') || '-'}`);
    }
    for (const d of s.denied) lines.push(`      not ${d.action}: ${d.reason} (${d.hint})`);
  }
  for (const server of e.unknownServers) lines.push(`  ${server}: named by the key but not in the config`);
  return lines.join('\n');
}

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('API keys: each belongs to a project and a member, whose role limits it');

  storeOptions(keys.command('create'))
    .description('create a key; it is printed once and only its hash is kept')
    .option('-p, --project <name>', 'the project', DEFAULT_PROJECT)
    .option('-m, --member <name>', "whose key it is (default: the project's only member or only admin)")
    .option('-n, --name <name>', 'what the key is for, such as laptop or ci', 'default')
    .option('--expires <duration>', 'stops working after this long: 12h, 30d, 2w')
    .option('--servers <a,b>', 'reaches only these servers of the project')
    .option('--read-only', 'may list and read, never call tools or get prompts')
    .option('--json', 'print JSON (the key included, once)')
    .action(
      withStore((context, options: CreateOptions & { name: string }) => {
        const { key, record } = createKey(context, options);
        if (options.json) return printJson({ key, ...record });
        process.stderr.write(
          `created key ${record.prefix} "${record.name}" for ${record.member} in project "${record.project}"; it is shown once:\n`,
        );
        process.stdout.write(`${key}\n`);
      }),
    );

  storeOptions(keys.command('list'))
    .description('list keys by prefix (never the keys themselves), with state and last use')
    .option('-p, --project <name>', 'only this project')
    .option('-m, --member <name>', 'only this member')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions & { project?: string; member?: string }) => {
        if (options.project) store.projects.require(options.project);
        const list = store.keys.list({ project: options.project, member: options.member });
        const now = Date.now();
        if (options.json) return printJson(list.map((key) => ({ ...key, state: keyState(key, now) })));
        const rows = list.map((k) => [
          k.prefix,
          k.name,
          k.project,
          k.member,
          k.role,
          flags(k),
          keyState(k, now),
          formatTime(k.createdAt),
          formatTime(k.lastUsedAt),
          formatTime(k.expiresAt),
        ]);
        process.stdout.write(
          `${table(['key', 'name', 'project', 'member', 'role', 'limits', 'state', 'created', 'last used', 'expires'], rows)}\n`,
        );
      }),
    );

  storeOptions(keys.command('rotate'))
    .description('replace a key with a new one (printed once); the old one works until the grace ends')
    .argument('<key-or-prefix>')
    .option('--grace <duration>', 'how long the old key keeps working: 0, 10m, 1d', '0')
    .option('--json', 'print JSON (the new key included, once)')
    .action(
      withStore(({ store }, options: StoreOptions & { grace: string }, reference: string) => {
        const old = findKey(store.keys, reference);
        const grace = parseDuration(options.grace, '--grace');
        const { key, record } = rotateKey(store.keys, old, grace, Date.now());
        recordManage(store, {
          action: 'keys.rotate',
          project: record.project,
          member: record.member,
          keyPrefix: record.prefix,
          target: old.prefix,
          detail: { graceMs: grace },
        });
        if (options.json) return printJson({ key, ...record, replaced: old.prefix });
        process.stderr.write(
          `key ${old.prefix} ${grace ? `works until ${formatTime(Date.now() + grace)}` : 'no longer works'}; its replacement ${record.prefix} is shown once:\n`,
        );
        process.stdout.write(`${key}\n`);
      }),
    );

  storeOptions(keys.command('revoke'))
    .description('stop a key at once (open sessions with it end on their next request)')
    .argument('<key-or-prefix>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      withStore(async ({ store }, options: StoreOptions, reference: string) => {
        const key = findKey(store.keys, reference);
        await confirm(`revoke key ${key.prefix} "${key.name}" of ${key.member} in project "${key.project}"?`, options.yes);
        store.keys.revoke(key.id);
        recordManage(store, { action: 'keys.revoke', project: key.project, member: key.member, keyPrefix: key.prefix });
        process.stdout.write(`revoked key ${key.prefix}\n`);
      }),
    );

  storeOptions(keys.command('explain'))
    .description('which servers, tools, prompts and resources a key reaches, with which role, and why not the rest')
    .argument('<key-or-prefix>')
    .option('--json', 'print JSON')
    .action(
      withStore(async ({ store, dataDir }, options: StoreOptions, reference: string) => {
        const key = findKey(store.keys, reference);
        const project = store.projects.require(key.project);
        const catalogs = await daemonCatalogs(dataDir, project);
        const loaded = catalogs ? undefined : optionalConfig(options);
        const servers = catalogs ? Object.keys(catalogs) : loaded ? configServers(loaded) : [];
        const source = catalogs
          ? 'catalogs from the running daemon'
          : loaded
            ? `from ${loaded.path}; no daemon runs, so tools are not listed`
            : 'no config found and no daemon running: pass --config';
        const explanation = explainKey(key, project, servers, catalogs, Date.now());
        if (options.json) return printJson({ ...explanation, source });
        process.stdout.write(`${renderExplanation(explanation, source)}\n`);
      }),
    );
}
