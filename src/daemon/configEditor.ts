import { isDeepStrictEqual } from 'node:util';
import { openConfigEdit, writeAtomic, type ConfigEdit } from '../config/edit.js';
import { isYamlPath, readConfigText, validateConfigData } from '../config/load.js';
import { maskServer, unmaskServer } from '../config/mask.js';
import { isPlainObject } from '../config/issues.js';
import type { SecretSource } from '../config/secrets.js';
import { OrchError } from '../errors.js';
import type { ConfigEditor, ReloadReport, ServerChange } from '../http/api/deps.js';
import { SECRET_NAME_PATTERN } from '../store/secrets.js';

export interface ConfigEditorOptions {
  /** The config file the daemon runs; undefined refuses every edit. */
  file: string | undefined;
  /** Whether the daemon watches the file (it then applies each edit); otherwise an edit reloads. */
  watching: boolean;
  /** Fills in `${secret:NAME}` while checking an edit, as at load. */
  secrets?: SecretSource | undefined;
  /** Stores a secret, encrypted; called only for an edit that is valid. */
  storeSecret(name: string, value: string): void;
  reloadFromFile(): Promise<ReloadReport>;
  /** Runs `fn` when no other change of the config file (a reload, a deployment) is under way. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Resolves true once the running daemon has applied a change to server `name` (added, replaced or
   * removed in the pool), false if it has not within a bound; `before` is the server as it ran.
   */
  applied(name: string, change: ServerChange['change'], before: unknown): Promise<boolean>;
  /** The server of that name as it runs now (for `applied`). */
  running(name: string): unknown;
  env?: NodeJS.ProcessEnv;
}

/** An edit written to the file, before the daemon has applied it. */
type Written = Omit<ServerChange, 'applied'> & { before: unknown; unchanged: boolean };

/**
 * Servers added, replaced and removed in mcp-config.json from the API: the file is edited in place
 * (config/edit.ts keeps its order, indentation and YAML comments), the result is checked with the
 * same schema and the same messages as loading the file, secrets go to the store and the file gets
 * `${secret:NAME}`, and the file is written in one step for the watcher to apply as a hand edit;
 * the answer waits (bounded) until the daemon has. One change of the file at a time (an edit, a
 * reload, a deployment), so that two never read the same text and lose one another's change.
 */
export function createConfigEditor(options: ConfigEditorOptions): ConfigEditor {
  const fileOrThrow = (): string => {
    if (options.file) return options.file;
    throw new OrchError('BAD_REQUEST', 'this daemon was started without a config file to edit', {
      hint: 'start it with `mcp-orch serve --config PATH`',
    });
  };
  const open = (): { file: string; doc: ConfigEdit } => {
    const file = fileOrThrow();
    return { file, doc: openConfigEdit(file, readConfigText(file)) };
  };
  const unknown = (name: string, doc: ConfigEdit, file: string): OrchError =>
    new OrchError('UNKNOWN_SERVER', `no server "${name}" in ${file}`, {
      hint: `servers in the file: ${Object.keys(doc.servers).join(', ') || 'none'}`,
      data: { server: name },
    });

  /** Checks the edited file as loading it would, stores the secrets and writes it. */
  const write = (
    file: string,
    doc: ConfigEdit,
    name: string,
    change: ServerChange['change'],
    secrets: Record<string, string>,
    unchanged = false,
  ): Written => {
    for (const [secret, value] of Object.entries(secrets)) {
      if (!SECRET_NAME_PATTERN.test(secret) || value === '') {
        throw new OrchError('BAD_REQUEST', `secrets.${secret}: ${value === '' ? 'the value is empty' : 'invalid secret name'}`, {
          hint: 'secret names use letters, digits, "_", "-" and ".", starting with a letter or "_"',
        });
      }
    }
    // Checked with the secrets of the edit as if stored already: a url made of them is checked filled in.
    const source: SecretSource = (config) => {
      const stored = options.secrets?.(config);
      return (secret) => {
        if (secret in secrets) return secrets[secret]!;
        if (stored) return stored(secret);
        throw new OrchError('SECRET_UNAVAILABLE', `secret "${secret}" is not set`);
      };
    };
    const { warnings } = validateConfigData(doc.data, file, options.env ?? process.env, { secrets: source });
    for (const [secret, value] of Object.entries(secrets)) options.storeSecret(secret, value);
    const before = options.running(name);
    writeAtomic(file, doc.text());
    const mine = warnings.filter((warning) => warning.includes(`mcpServers.${name}.`) || warning.includes(`server "${name}"`));
    return { name, file, change, appliedBy: options.watching ? 'watcher' : 'reload', warnings: mine, before, unchanged };
  };

  /** Writes an edit while nothing else changes the file, then has it applied (a reload, or the watcher) and waits for that. */
  const edit = async (work: () => Written): Promise<ServerChange> => {
    const { before, unchanged, ...written } = await options.exclusive(async () => work());
    if (!options.watching) await options.reloadFromFile();
    // An entry written as it was changes nothing the daemon runs: there is nothing to wait for.
    const applied = unchanged || (await options.applied(written.name, written.change, before));
    return { ...written, applied };
  };

  return {
    get file() {
      return options.file;
    },
    read(name) {
      const { file, doc } = open();
      const entry = doc.servers[name];
      if (!isPlainObject(entry)) throw unknown(name, doc, file);
      return { name, file, format: isYamlPath(file) ? 'yaml' : 'json', config: maskServer(entry) };
    },
    add: (name, entry, secrets) =>
      edit(() => {
        const { file, doc } = open();
        if (doc.servers[name] !== undefined) {
          throw new OrchError('CONFLICT', `server "${name}" already exists in ${file}`, {
            hint: `edit it with PUT /api/servers/${name}/config, or choose another name`,
          });
        }
        doc.set(name, entry);
        return write(file, doc, name, 'added', secrets);
      }),
    replace: (name, entry, secrets) =>
      edit(() => {
        const { file, doc } = open();
        const previous = doc.servers[name];
        if (!isPlainObject(previous)) throw unknown(name, doc, file);
        const next = unmaskServer(entry, previous, name);
        doc.set(name, next);
        return write(file, doc, name, 'changed', secrets, isDeepStrictEqual(next, previous));
      }),
    remove: (name) =>
      edit(() => {
        const { file, doc } = open();
        if (doc.servers[name] === undefined) throw unknown(name, doc, file);
        doc.delete(name);
        return write(file, doc, name, 'removed', {});
      }),
  };
}
