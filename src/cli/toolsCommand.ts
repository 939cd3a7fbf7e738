import os from 'node:os';
import type { Command } from 'commander';
import { recordNow } from '../audit/events.js';
import { approvePins, reviewPins, type PinReview } from '../pinning/review.js';
import { colorsFor, type Colors } from './colors.js';
import { printJson, table } from './output.js';
import { formatTime, storeOptions, withStore, type StoreOptions } from './storeContext.js';

/**
 * `mcp-orch tools pins|diff|approve`: definition pinning from the command line, on the data dir's
 * database (daemon or not; a running daemon brings approved tools back within a moment).
 */

function describeChange(review: PinReview, colors: Colors): string {
  const pending = review.pending!;
  const lines = [
    colors.bold(`${review.server}: tool "${review.tool}" changed since it was approved`),
    `  approved ${review.approvedAt.slice(0, 16).replace('T', ' ')}  ${review.hash}`,
    `  offered  ${pending.seenAt.slice(0, 16).replace('T', ' ')}  ${pending.hash}`,
  ];
  for (const change of pending.changes) {
    lines.push(`  ${change.field}:`);
    for (const line of change.diff) {
      const paint = line.startsWith('+') ? colors.green : line.startsWith('-') ? colors.red : colors.dim;
      lines.push(`    ${paint(line)}`);
    }
  }
  return lines.join('\n');
}

export function registerToolsCommands(program: Command): void {
  const tools = program
    .command('tools')
    .description(
      "definition pinning: each tool's definition is recorded when first seen; a changed one is flagged, or held until approved",
    );

  storeOptions(tools.command('pins'))
    .description("every pinned tool (or a server's) with the hash of its approved definition and whether it changed since")
    .argument('[server]')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions, server: string | undefined) => {
        const pins = reviewPins(store.pins, server);
        if (options.json) return printJson(pins);
        const rows = pins.map((pin) => [
          pin.server,
          pin.tool,
          pin.pending ? 'changed' : 'approved',
          formatTime(Date.parse(pin.approvedAt)),
          pin.hash.slice(0, 19),
        ]);
        process.stdout.write(`${table(['server', 'tool', 'state', 'approved', 'hash'], rows)}\n`);
      }),
    );

  storeOptions(tools.command('diff'))
    .description('what changed in the definitions a server (or every server) offers now, against the approved ones')
    .argument('[server]')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions, server: string | undefined) => {
        const changed = reviewPins(store.pins, server, { changedOnly: true });
        if (options.json) return printJson(changed);
        if (changed.length === 0) {
          process.stdout.write(`no tool${server ? ` of ${server}` : ''} changed its definition since it was approved\n`);
          return;
        }
        const colors = colorsFor(process.stdout);
        process.stdout.write(`${changed.map((review) => describeChange(review, colors)).join('\n\n')}\n`);
        const servers = [...new Set(changed.map((review) => review.server))];
        process.stdout.write(`\naccept with: ${servers.map((name) => `mcp-orch tools approve ${name}`).join('; ')} (or name one TOOL)\n`);
      }),
    );

  storeOptions(tools.command('approve'))
    .description('accept the definitions a server offers now: of one tool, or of every changed tool of the server')
    .argument('<server>')
    .argument('[tool]')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions, server: string, tool: string | undefined) => {
        const audit = { record: (event: Parameters<typeof recordNow>[1]) => recordNow(store.audit, event) };
        const approved = approvePins(store.pins, audit, server, tool, { via: 'cli', user: os.userInfo().username });
        if (options.json) return printJson({ server, approved });
        process.stdout.write(
          `approved ${approved.map((name) => `"${name}"`).join(', ')} of ${server}: clients see the new definition (a running daemon within a moment)\n`,
        );
      }),
    );
}
