import type { Command } from 'commander';
import { exposes } from '../auth/policy.js';
import type { RateLimit } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Project } from '../store/projects.js';
import type { Store } from '../store/open.js';
import { printJson, table } from './output.js';
import { registerProjectRulesCommands } from './projectRulesCommand.js';
import {
  checkServer,
  configServers,
  confirm,
  formatTime,
  optionalConfig,
  parseList,
  recordManage,
  storeOptions,
  withStore,
  type StoreOptions,
} from './storeContext.js';

function exposure(project: Project): string {
  const named = Object.entries(project.servers);
  const on = named.filter(([, enabled]) => enabled).map(([name]) => name);
  const off = named.filter(([, enabled]) => !enabled).map(([name]) => name);
  if (project.allServers) return off.length ? `all but ${off.join(', ')}` : 'all';
  return on.length ? `only ${on.join(', ')}` : 'none';
}

function limitText(limit: RateLimit | undefined): string {
  return limit ? `${limit.requestsPerMinute}/min, burst ${limit.burst}` : 'default (orch.rateLimit)';
}

/** `RPM/BURST` (or `RPM`, burst = a tenth), `off` for no limit, `default` for orch.rateLimit's. */
function parseLimit(text: string, what: string): RateLimit | null {
  if (text === 'default') return null;
  if (text === 'off') return { requestsPerMinute: 0, burst: 1 };
  const match = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (!match) throw new OrchError('BAD_REQUEST', `${what}: expected RPM/BURST (such as 600/60), "off" or "default", got "${text}"`);
  const requestsPerMinute = Number(match[1]);
  return { requestsPerMinute, burst: Math.max(1, match[2] === undefined ? Math.ceil(requestsPerMinute / 10) : Number(match[2])) };
}

function describe(store: Store, project: Project) {
  return {
    ...project,
    exposes: exposure(project),
    members: store.members.list(project.slug).length,
    keys: store.keys.list({ project: project.slug }).length,
  };
}

export function registerProjectsCommands(program: Command): void {
  const projects = program
    .command('projects')
    .description(
      'projects: which servers each exposes and what its clients see of them, its members, keys and rate limits (in <data dir>/mcp-orch.db)',
    );

  storeOptions(projects.command('create'))
    .description('create a project; clients reach it at /projects/<name>/mcp')
    .argument('<name>', 'lower-case letters, digits, "-" and "_"')
    .option('--title <title>', 'a longer name to show')
    .option('--servers <a,b>', 'expose only these servers (default: every server of the config)')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions & { title?: string; servers?: string }, slug: string) => {
        const only = options.servers === undefined ? undefined : parseList(options.servers);
        for (const server of only ?? []) checkServer(options, server);
        const created = store.transaction(() => {
          store.projects.create({ slug, name: options.title, allServers: only === undefined });
          for (const server of only ?? []) store.projects.setServer(slug, server, true);
          return store.projects.require(slug);
        });
        recordManage(store, { action: 'projects.create', project: slug, detail: { servers: only ?? 'all' } });
        if (options.json) return printJson(created);
        process.stdout.write(
          `created project "${slug}" (servers: ${exposure(created)}); add people with \`mcp-orch members add NAME --project ${slug}\`\n`,
        );
      }),
    );

  storeOptions(projects.command('list'))
    .description('list projects with the servers they expose and their member and key counts')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions) => {
        const all = store.projects.list().map((project) => describe(store, project));
        if (options.json) return printJson(all);
        const rows = all.map((p) => [p.slug, p.name, p.exposes, p.members, p.keys, formatTime(p.createdAt)]);
        process.stdout.write(`${table(['project', 'name', 'servers', 'members', 'keys', 'created'], rows)}\n`);
      }),
    );

  storeOptions(projects.command('show'))
    .description("a project's servers (on or off), members, keys and rate limits")
    .argument('<name>')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions, slug: string) => {
        const project = store.projects.require(slug);
        const loaded = optionalConfig(options);
        const servers = loaded ? configServers(loaded).map((server) => ({ server, exposed: exposes(project, server) })) : undefined;
        const members = store.members.list(slug);
        const keys = store.keys.list({ project: slug });
        if (options.json) return printJson({ ...describe(store, project), servers, memberList: members, keyList: keys });
        const lines = [
          `project ${project.slug} (${project.name}), created ${formatTime(project.createdAt)}`,
          `servers: ${exposure(project)}`,
          ...(servers ?? []).map((s) => `  ${s.exposed ? 'on ' : 'off'}  ${s.server}`),
          `rate limit per key: ${limitText(project.limits.perKey)}; for the project: ${limitText(project.limits.perProject)}`,
          `members (${members.length}):`,
          ...members.map((m) => `  ${m.member.name}${m.member.email ? ` <${m.member.email}>` : ''}  ${m.role}`),
          `keys (${keys.length}): see \`mcp-orch keys list --project ${slug}\``,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      }),
    );

  storeOptions(projects.command('delete'))
    .description('delete a project with its memberships and keys (the audit log keeps its rows)')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      withStore(async ({ store }, options: StoreOptions, slug: string) => {
        const keys = store.keys.list({ project: store.projects.require(slug).slug }).length;
        await confirm(`delete project "${slug}" and its ${keys} key(s)?`, options.yes);
        store.projects.delete(slug);
        recordManage(store, { action: 'projects.delete', project: slug });
        process.stdout.write(`deleted project "${slug}"\n`);
      }),
    );

  storeOptions(projects.command('servers'))
    .description("turn one of the config's servers on or off in a project (open sessions see it at once)")
    .argument('<project>')
    .argument('<action>', 'enable or disable')
    .argument('<server>')
    .action(
      withStore(({ store }, options: StoreOptions, slug: string, action: string, server: string) => {
        if (action !== 'enable' && action !== 'disable') {
          throw new OrchError('BAD_REQUEST', `expected "enable" or "disable", got "${action}"`, {
            hint: `mcp-orch projects servers ${slug} enable ${server}`,
          });
        }
        checkServer(options, server);
        const project = store.projects.setServer(slug, server, action === 'enable');
        recordManage(store, { action: `projects.servers.${action}`, project: slug, target: server });
        process.stdout.write(
          `server "${server}" is ${action === 'enable' ? 'on' : 'off'} in project "${slug}" (servers: ${exposure(project)})\n`,
        );
      }),
    );

  storeOptions(projects.command('limits'))
    .description("set a project's rate limits: per key, and for the whole project")
    .argument('<project>')
    .option('--key-rate <rpm/burst>', 'requests per minute and burst of each key: 600/60, "off" or "default"')
    .option('--project-rate <rpm/burst>', 'the same for all keys of the project together')
    .action(
      withStore(({ store }, options: StoreOptions & { keyRate?: string; projectRate?: string }, slug: string) => {
        if (options.keyRate === undefined && options.projectRate === undefined) {
          throw new OrchError('BAD_REQUEST', 'nothing to set', { hint: 'pass --key-rate and/or --project-rate' });
        }
        const project = store.projects.setLimits(slug, {
          ...(options.keyRate === undefined ? {} : { perKey: parseLimit(options.keyRate, '--key-rate') }),
          ...(options.projectRate === undefined ? {} : { perProject: parseLimit(options.projectRate, '--project-rate') }),
        });
        recordManage(store, { action: 'projects.limits', project: slug, detail: { ...project.limits } });
        process.stdout.write(
          `project "${slug}": per key ${limitText(project.limits.perKey)}; for the project ${limitText(project.limits.perProject)}\n`,
        );
      }),
    );

  registerProjectRulesCommands(projects);
}
