import path from 'node:path';
import { Option, type Command } from 'commander';
import { isOrchError } from '../errors.js';
import { importServers, type ImportResult } from '../config/importConfig.js';
import { resolveConfigPath } from '../config/load.js';

interface ImportCommandOptions {
  config?: string;
  overwrite?: boolean;
  rename?: boolean;
  json?: boolean;
}

/** The config that would be loaded, or ./mcp-config.json to be created when there is none yet. */
function importTarget(explicit: string | undefined): string {
  if (explicit !== undefined) return path.resolve(explicit);
  try {
    return resolveConfigPath();
  } catch (err) {
    if (isOrchError(err) && err.code === 'CONFIG_NOT_FOUND') return path.resolve('mcp-config.json');
    throw err;
  }
}

function summary(from: string, result: ImportResult): string {
  const count = result.added.length;
  const lines = [
    `${count === 0 ? 'nothing imported' : `imported ${count} server${count === 1 ? '' : 's'}`} from ${from} into ${result.target}${result.created ? ' (created)' : ''}`,
  ];
  if (count > 0) lines.push(`  added: ${result.added.join(', ')}`);
  for (const { from: name, to } of result.renamed) lines.push(`  renamed: ${name} -> ${to}`);
  if (result.overwritten.length > 0) lines.push(`  overwritten: ${result.overwritten.join(', ')}`);
  for (const { name, reason } of result.skipped) lines.push(`  skipped ${name}: ${reason}`);
  if (count === 0 && result.skipped.length > 0) lines.push(nextStep(result));
  return `${lines.join('\n')}\n`;
}

/** After an import that added nothing: the flag that would, or why none would. */
function nextStep(result: ImportResult): string {
  const taken = result.skipped.filter(({ reason }) => reason.startsWith('a different server')).map(({ name }) => name);
  if (taken.length > 0) {
    return `  to import ${taken.join(', ')} anyway: --overwrite replaces the server of the same name, --rename adds it as a new name`;
  }
  if (result.skipped.every(({ reason }) => reason.startsWith('already present'))) {
    return `  ${result.target} already has every one of them as it is; --overwrite and --rename act only on servers that differ`;
  }
  return '  fix the entries named above in the source file, then import again';
}

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('copy MCP servers from a Claude Desktop, Cursor, Cline or VS Code config into the mcp-orch config')
    .argument('<file>', 'the config to import from (claude_desktop_config.json, .cursor/mcp.json, .vscode/mcp.json, settings.json, ...)')
    .option('--config <path>', 'the mcp-orch config to import into (default: the one mcp-orch would load, else ./mcp-config.json)')
    .addOption(new Option('--overwrite', 'replace existing servers of the same name').conflicts('rename'))
    .addOption(new Option('--rename', 'add servers whose name is taken as name-2, name-3, ...').conflicts('overwrite'))
    .option('--json', 'print the result as JSON')
    .action((file: string, options: ImportCommandOptions) => {
      try {
        const result = importServers(file, importTarget(options.config), {
          overwrite: options.overwrite ?? false,
          rename: options.rename ?? false,
        });
        process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : summary(file, result));
      } catch (err) {
        process.stderr.write(`error: ${isOrchError(err) ? err.describe() : err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
