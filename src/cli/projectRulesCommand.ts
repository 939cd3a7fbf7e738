import type { Command } from 'commander';
import { shapingSchema, type ShapingRules, type ToolOverride } from '../config/schema.js';
import { formatIssues } from '../config/issues.js';
import { OrchError } from '../errors.js';
import { printJson } from './output.js';
import { checkServer, parseList, recordManage, storeOptions, withStore, type StoreOptions } from './storeContext.js';

/**
 * `mcp-orch projects rules|filter|override`: what a project's clients see of a server, over the
 * config's own filters and overrides (which apply to every project). Names are the server's own.
 */

const KINDS = ['tools', 'prompts', 'resources'] as const;
type Kind = (typeof KINDS)[number];

/** Checks rules as the config does, so that the store never holds what the daemon could not read. */
function valid(rules: ShapingRules): ShapingRules {
  const parsed = shapingSchema.safeParse(rules);
  if (parsed.success) return parsed.data;
  throw new OrchError('BAD_REQUEST', formatIssues(parsed.error.issues, shapingSchema, rules).join('; '));
}

function save(
  options: StoreOptions,
  store: Parameters<Parameters<typeof withStore>[0]>[0]['store'],
  slug: string,
  server: string,
  rules: ShapingRules,
) {
  checkServer(options, server);
  const empty = Object.values(rules).every(
    (value) => value === undefined || (typeof value === 'object' && Object.keys(value).length === 0),
  );
  const project = store.projects.setRules(slug, server, empty ? null : valid(rules));
  recordManage(store, { action: empty ? 'projects.rules.clear' : 'projects.rules.set', project: slug, target: server, detail: { rules } });
  return project.rules[server];
}

function show(rules: ShapingRules | undefined): string {
  return rules ? JSON.stringify(rules) : 'none (everything the config shows)';
}

export function registerProjectRulesCommands(projects: Command): void {
  storeOptions(projects.command('rules'))
    .description("a project's filters and overrides by server (over the config's); --clear removes a server's")
    .argument('<project>')
    .argument('[server]')
    .option('--clear', "remove the server's rules from the project")
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions & { clear?: boolean }, slug: string, server: string | undefined) => {
        if (options.clear) {
          if (!server) throw new OrchError('BAD_REQUEST', 'which server? `mcp-orch projects rules PROJECT SERVER --clear`');
          save(options, store, slug, server, {});
          process.stdout.write(`project "${slug}" has no rules for "${server}": its clients see what the config shows\n`);
          return;
        }
        const { rules } = store.projects.require(slug);
        const chosen = server === undefined ? rules : { [server]: rules[server] };
        if (options.json) return printJson({ project: slug, rules: chosen });
        const lines = Object.entries(chosen).map(([name, value]) => `  ${name}: ${show(value)}`);
        process.stdout.write(`project ${slug}:\n${lines.join('\n') || '  no rules: its clients see what the config shows'}\n`);
      }),
    );

  storeOptions(projects.command('filter'))
    .description("which of a server's tools, prompts or resources (URIs) a project's clients see: globs, * any run, ? one character")
    .argument('<project>')
    .argument('<server>')
    .argument('<kind>', KINDS.join(', '))
    .option('--allow <globs>', 'only these, comma-separated (replaces the list)')
    .option('--deny <globs>', 'never these, comma-separated (replaces the list); deny wins')
    .option('--clear', 'remove the filter of this kind')
    .action(
      withStore(
        (
          { store },
          options: StoreOptions & { allow?: string; deny?: string; clear?: boolean },
          slug: string,
          server: string,
          kind: string,
        ) => {
          if (!(KINDS as readonly string[]).includes(kind)) {
            throw new OrchError('BAD_REQUEST', `expected ${KINDS.join(', ')}, got "${kind}"`, {
              hint: `mcp-orch projects filter ${slug} ${server} tools --deny 'delete_*'`,
            });
          }
          if (!options.clear && options.allow === undefined && options.deny === undefined) {
            throw new OrchError('BAD_REQUEST', 'nothing to set', { hint: 'pass --allow and/or --deny, or --clear' });
          }
          const rules = { ...store.projects.require(slug).rules[server] };
          const before = rules[kind as Kind];
          rules[kind as Kind] = options.clear
            ? undefined
            : {
                ...before,
                ...(options.allow === undefined ? {} : { allow: parseList(options.allow) }),
                ...(options.deny === undefined ? {} : { deny: parseList(options.deny) }),
              };
          const saved = save(options, store, slug, server, rules);
          process.stdout.write(`project "${slug}", server "${server}": ${show(saved)}\n`);
        },
      ),
    );

  storeOptions(projects.command('override'))
    .description("what a project's clients are told of one tool (or prompt) of a server: another name, title, description, annotations")
    .argument('<project>')
    .argument('<server>')
    .argument('<name>', "the tool's (or prompt's) own name")
    .option('--prompt', 'a prompt, not a tool')
    .option('--name <name>', 'show it under this name (calls reach the original)')
    .option('--title <title>')
    .option('--description <text>')
    .option('--annotations <json>', "merged over the server's, e.g. '{\"readOnlyHint\": true}' (tools only)")
    .option('--clear', 'remove the override')
    .action(
      withStore(
        (
          { store },
          options: StoreOptions & {
            prompt?: boolean;
            name?: string;
            title?: string;
            description?: string;
            annotations?: string;
            clear?: boolean;
          },
          slug: string,
          server: string,
          name: string,
        ) => {
          const key = options.prompt ? 'promptOverrides' : 'overrides';
          const rules = { ...store.projects.require(slug).rules[server] };
          const overrides: Record<string, ToolOverride> = { ...rules[key] };
          if (options.clear) delete overrides[name];
          else {
            const given: ToolOverride = {
              ...(options.name === undefined ? {} : { name: options.name }),
              ...(options.title === undefined ? {} : { title: options.title }),
              ...(options.description === undefined ? {} : { description: options.description }),
              ...(options.annotations === undefined ? {} : { annotations: parseAnnotations(options.annotations, options.prompt) }),
            };
            if (Object.keys(given).length === 0) {
              throw new OrchError('BAD_REQUEST', 'nothing to set', {
                hint: 'pass --name, --title, --description or --annotations, or --clear',
              });
            }
            overrides[name] = { ...overrides[name], ...given };
          }
          rules[key] = Object.keys(overrides).length ? overrides : undefined;
          const saved = save(options, store, slug, server, rules);
          process.stdout.write(`project "${slug}", server "${server}": ${show(saved)}\n`);
        },
      ),
    );
}

function parseAnnotations(text: string, prompt: boolean | undefined): Record<string, unknown> {
  if (prompt) throw new OrchError('BAD_REQUEST', 'prompts have no annotations');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OrchError('BAD_REQUEST', `--annotations: expected a JSON object, got ${text}`, {
      hint: `--annotations '{"readOnlyHint": true}'`,
    });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new OrchError('BAD_REQUEST', '--annotations: expected a JSON object');
  return value as Record<string, unknown>;
}
