import type { Command } from 'commander';
import { OrchError } from '../errors.js';
import { loadSecretKey, SECRET_KEY_ENV } from '../store/secretKey.js';
import { printJson, table } from './output.js';
import { confirm, formatTime, readStdin, recordManage, storeOptions, withStore, type StoreOptions } from './storeContext.js';

/** Reads a line on the terminal without echoing it. */
function readHidden(prompt: string): Promise<string> {
  const { stdin } = process;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          finish();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          finish();
          reject(new OrchError('BAD_REQUEST', 'cancelled'));
          return;
        }
        value = char === '\u007f' || char === '\b' ? value.slice(0, -1) : value + char;
      }
    };
    stdin.on('data', onData);
  });
}

/** The value from a pipe, or typed at a hidden prompt: never from the command line, where `ps` and shell history see it. */
async function readValue(name: string): Promise<string> {
  const value = process.stdin.isTTY ? await readHidden(`value of ${name} (not shown): `) : await readStdin();
  if (value === '')
    throw new OrchError('BAD_REQUEST', `no value given for secret "${name}"`, {
      hint: `printf %s "$VALUE" | mcp-orch secrets set ${name}`,
    });
  return value;
}

export function registerSecretsCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description(`secrets for mcp-config.json as \${secret:NAME}, encrypted under ${SECRET_KEY_ENV} or <data dir>/secret.key`);

  storeOptions(secrets.command('set'))
    .description('store a secret, read from stdin or typed at a hidden prompt (never from the command line)')
    .argument('<name>')
    .action(
      withStore(async ({ store, dataDir }, _options: StoreOptions, name: string) => {
        const value = await readValue(name);
        const key = loadSecretKey(dataDir, { create: true })!;
        const existed = store.secrets.list().some((secret) => secret.name === name);
        store.secrets.set(name, value, key);
        recordManage(store, { action: existed ? 'secrets.replace' : 'secrets.set', target: name });
        process.stdout.write(
          `${existed ? 'replaced' : 'stored'} secret "${name}"; use it as \${secret:${name}} in a server's env, headers, args or url ` +
            '(a running daemon picks it up on `mcp-orch reload`)\n',
        );
      }),
    );

  storeOptions(secrets.command('list'))
    .description('names and dates of the stored secrets (never their values)')
    .option('--json', 'print JSON')
    .action(
      withStore(({ store }, options: StoreOptions) => {
        const list = store.secrets.list();
        if (options.json) return printJson(list);
        process.stdout.write(
          `${table(
            ['name', 'created', 'updated'],
            list.map((s) => [s.name, formatTime(s.createdAt), formatTime(s.updatedAt)]),
          )}\n`,
        );
      }),
    );

  storeOptions(secrets.command('delete'))
    .description('delete a secret; servers that use it do not start again until it is set')
    .argument('<name>')
    .option('-y, --yes', 'do not ask for confirmation')
    .action(
      withStore(async ({ store }, options: StoreOptions, name: string) => {
        // A name that is not there fails in delete, without asking first.
        if (store.secrets.list().some((secret) => secret.name === name)) await confirm(`delete secret "${name}"?`, options.yes);
        store.secrets.delete(name);
        recordManage(store, { action: 'secrets.delete', target: name });
        process.stdout.write(`deleted secret "${name}"\n`);
      }),
    );
}
