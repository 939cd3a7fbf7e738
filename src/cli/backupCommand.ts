import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runningDaemon } from '../daemon/stateFiles.js';
import { OrchError } from '../errors.js';
import { checkBackup, restoreStore } from '../store/restore.js';
import { openStore } from '../store/open.js';
import { reportError, resolveDataDir } from './context.js';
import { confirm, recordManage, storeOptions, withStore, type StoreOptions } from './storeContext.js';

export function registerBackupCommands(program: Command): void {
  storeOptions(program.command('backup'))
    .description('write a consistent copy of <data dir>/mcp-orch.db, also while the daemon runs (SQLite online backup)')
    .argument('<file>', 'where to write the copy')
    .option('-y, --yes', 'replace the file if it exists')
    .action(
      withStore(async ({ store }, options: StoreOptions, file: string) => {
        const target = path.resolve(file);
        if (fs.existsSync(target)) {
          await confirm(`${target} exists; replace it?`, options.yes);
          fs.rmSync(target);
        }
        await store.backup(target);
        checkBackup(target);
        recordManage(store, { action: 'backup', target });
        process.stdout.write(
          `wrote ${target}; secrets in it need the same key to be read (MCP_ORCH_SECRET_KEY or <data dir>/secret.key)\n`,
        );
      }),
    );

  storeOptions(program.command('restore'))
    .description('put a backup in place of <data dir>/mcp-orch.db (the daemon must be stopped; the current file is kept)')
    .argument('<file>', 'a file written by `mcp-orch backup`')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (file: string, options: StoreOptions) => {
      try {
        const dataDir = resolveDataDir(options);
        const running = await runningDaemon(dataDir);
        if (running) {
          throw new OrchError('CONFLICT', `the daemon of ${dataDir} is running (pid ${running.pid})`, {
            hint: 'stop it first with `mcp-orch stop-daemon`, then restore, then start it again',
          });
        }
        const source = path.resolve(file);
        checkBackup(source);
        await confirm(`replace the database of ${dataDir} with ${source}?`, options.yes);
        const { previous } = await restoreStore(dataDir, source);
        const store = openStore(dataDir);
        try {
          recordManage(store, { action: 'restore', target: source, detail: { previous } });
        } finally {
          store.close();
        }
        process.stdout.write(`restored ${source}${previous ? `; the database it replaced is at ${previous}` : ''}\n`);
      } catch (error) {
        reportError(error);
      }
    });
}
