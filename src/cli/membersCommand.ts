import type { Command } from 'commander';
import { OrchError } from '../errors.js';
import { isRole, ROLES, type Role } from '../store/members.js';
import { DEFAULT_PROJECT } from '../store/projects.js';
import { printJson, table } from './output.js';
import { confirm, formatTime, recordManage, storeOptions, withStore, type StoreOptions } from './storeContext.js';

type MemberOptions = StoreOptions & { project: string };

function parseRole(text: string): Role {
  if (!isRole(text)) throw new OrchError('BAD_REQUEST', `unknown role "${text}"`, { hint: `roles: ${ROLES.join(', ')}` });
  return text;
}

function memberOptions(command: Command): Command {
  return storeOptions(command).option('-p, --project <name>', 'the project', DEFAULT_PROJECT);
}

const ROLE_HELP = 'viewer: list and read; member: also call tools and get prompts; admin: also manage';

export function registerMembersCommands(program: Command): void {
  const members = program.command('members').description(`people in a project and their roles (${ROLE_HELP})`);

  memberOptions(members.command('add'))
    .description('add a person to a project (a new person, or one already in another project)')
    .argument('<name>', 'their name (unique), or the email of someone known')
    .option('--email <email>', 'their email')
    .option('--role <role>', ROLE_HELP, 'member')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: MemberOptions & { email?: string; role: string }, name: string) => {
        const membership = store.members.add(options.project, { name, email: options.email, role: parseRole(options.role) });
        recordManage(store, {
          action: 'members.add',
          project: options.project,
          target: membership.member.name,
          detail: { role: membership.role },
        });
        if (options.json) return printJson(membership);
        process.stdout.write(
          `added ${membership.member.name} to project "${options.project}" as ${membership.role}; ` +
            `give them a key with \`mcp-orch keys create --project ${options.project} --member ${membership.member.name}\`\n`,
        );
      }),
    );

  memberOptions(members.command('list'))
    .description("a project's members with their roles")
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: MemberOptions) => {
        const list = store.members.list(options.project);
        if (options.json) return printJson(list);
        const rows = list.map((m) => [m.member.name, m.member.email ?? '-', m.role, formatTime(m.addedAt)]);
        process.stdout.write(`${table(['name', 'email', 'role', 'added'], rows)}\n`);
      }),
    );

  memberOptions(members.command('set-role'))
    .description("change a member's role; their keys follow from the next request on")
    .argument('<name>', 'name or email')
    .argument('<role>', ROLES.join(', '))
    .action(
      withStore(({ store }, options: MemberOptions, name: string, role: string) => {
        const before = store.members.get(options.project, name).role;
        const after = store.members.setRole(options.project, name, parseRole(role));
        recordManage(store, {
          action: 'members.set-role',
          project: options.project,
          target: after.member.name,
          detail: { from: before, to: after.role },
        });
        process.stdout.write(`${after.member.name} is ${after.role} in project "${options.project}" (was ${before})\n`);
      }),
    );

  memberOptions(members.command('remove'))
    .description('take a person out of a project; their keys for it stop working at once')
    .argument('<name>', 'name or email')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      withStore(async ({ store }, options: MemberOptions, name: string) => {
        const { member } = store.members.get(options.project, name);
        const keys = store.keys.list({ project: options.project, member: member.name }).length;
        await confirm(`remove ${member.name} from project "${options.project}" with their ${keys} key(s)?`, options.yes);
        const { keysRemoved } = store.members.remove(options.project, member.name);
        recordManage(store, { action: 'members.remove', project: options.project, target: member.name, detail: { keysRemoved } });
        process.stdout.write(`removed ${member.name} from project "${options.project}" (${keysRemoved} key(s) deleted)\n`);
      }),
    );
}
