import { Option, type Command } from 'commander';
import { AUDIT_OUTCOMES } from '../audit/events.js';
import { OrchError } from '../errors.js';
import type { AuditEntry, AuditFilter } from '../store/audit.js';
import { clip, table } from './output.js';
import { formatTime, parseTime, storeOptions, withStore, type StoreOptions } from './storeContext.js';

interface AuditOptions extends StoreOptions {
  project?: string;
  server?: string;
  member?: string;
  tool?: string;
  outcome?: string;
  type?: string;
  since?: string;
  until?: string;
  limit: string;
  follow?: boolean;
  csv?: boolean;
}

const FOLLOW_POLL_MS = 500;

const COLUMNS = [
  'id',
  'at',
  'type',
  'project',
  'member',
  'keyPrefix',
  'server',
  'method',
  'name',
  'outcome',
  'durationMs',
  'transport',
  'era',
  'clientName',
  'clientVersion',
  'address',
  'session',
  'detail',
] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function format(options: AuditOptions): (entry: AuditEntry) => string {
  if (options.json) {
    return (entry) =>
      JSON.stringify({
        ...entry,
        at: new Date(entry.at).toISOString(),
        detail: entry.detail ? (JSON.parse(entry.detail) as unknown) : null,
      });
  }
  if (options.csv)
    return (entry) => COLUMNS.map((column) => csvCell(column === 'at' ? new Date(entry.at).toISOString() : entry[column])).join(',');
  return (entry) => row(entry).join('  ');
}

function row(entry: AuditEntry): string[] {
  const detail = entry.detail ? (JSON.parse(entry.detail) as Record<string, unknown>) : {};
  const why = typeof detail.error === 'string' ? detail.error : typeof detail.reason === 'string' ? detail.reason : '';
  return [
    formatTime(entry.at),
    entry.type === entry.method ? entry.type : [entry.type, entry.method].filter(Boolean).join(' '),
    entry.project ?? '-',
    entry.member ?? '-',
    entry.keyPrefix ?? '-',
    [entry.server, entry.name].filter(Boolean).join(' ') || '-',
    entry.outcome ?? '-',
    entry.durationMs === null ? '-' : `${entry.durationMs.toFixed(1)}ms`,
    clip(why, 60),
  ];
}

function filterOf(options: AuditOptions): AuditFilter {
  const limit = Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1)
    throw new OrchError('BAD_REQUEST', `--limit: expected a whole number above 0, got "${options.limit}"`);
  return {
    project: options.project,
    server: options.server,
    member: options.member,
    name: options.tool,
    outcome: options.outcome,
    type: options.type,
    since: options.since === undefined ? undefined : parseTime(options.since, '--since'),
    until: options.until === undefined ? undefined : parseTime(options.until, '--until'),
    limit,
  };
}

export function registerAuditCommand(program: Command): void {
  storeOptions(program.command('audit'))
    .description('the audit log: sessions, calls, denials, failed authentications and changes, oldest first')
    .option('-p, --project <name>', 'only this project')
    .option('-s, --server <name>', 'only this server')
    .option('-m, --member <name>', 'only this member')
    .option('-t, --tool <name>', 'only this tool or prompt name, or resource URI')
    .addOption(new Option('-o, --outcome <outcome>', 'only this outcome').choices(AUDIT_OUTCOMES))
    .option('--type <type>', 'only this type: tools/call, prompts/get, resources/read, session.opened, auth.failed, manage, webhook, ...')
    .option('--since <when>', 'from a duration ago (1h, 7d) or a date (2026-01-31)')
    .option('--until <when>', 'before a duration ago or a date')
    .option('-n, --limit <n>', 'the latest this many rows', '50')
    .option('-f, --follow', 'then print new rows as they come, until Ctrl-C')
    .addOption(new Option('--json', 'one JSON object per line').conflicts('csv'))
    .addOption(new Option('--csv', 'comma-separated values with a header row').conflicts('json'))
    .action(
      withStore(async ({ store }, options: AuditOptions) => {
        const filter = filterOf(options);
        const print = format(options);
        const rows = store.audit.query(filter).reverse();
        if (options.csv) process.stdout.write(`${COLUMNS.join(',')}\n`);
        if (options.json || options.csv) for (const entry of rows) process.stdout.write(`${print(entry)}\n`);
        else if (rows.length > 0 || options.follow) {
          process.stdout.write(`${table(['at', 'type', 'project', 'member', 'key', 'target', 'outcome', 'took', 'why'], rows.map(row))}\n`);
        }
        if (!options.follow) return;
        let last = rows.at(-1)?.id ?? store.audit.query({ ...filter, limit: 1 })[0]?.id ?? 0;
        const stopped = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
        for (let running = true; running;) {
          for (const entry of store.audit.query({ ...filter, afterId: last, limit: 1000 })) {
            process.stdout.write(`${print(entry)}\n`);
            last = entry.id;
          }
          running = await Promise.race([
            stopped.then(() => false),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(true), FOLLOW_POLL_MS)),
          ]);
        }
      }),
    );
}
