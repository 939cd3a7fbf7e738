/**
 * The whole daemon inside the test's own process: `createDaemon` with the same wiring `serve` runs
 * (config file, real SQLite store, HTTP on 127.0.0.1 port 0, real child servers), without the built
 * CLI in between. Tests under src/ use it where a mutant in src/ must be able to fail them: code in
 * a spawned CLI is the built dist/, which mutation testing does not reach.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import type { OrchSettings } from '../../src/config/schema.js';
import { createDaemon, type Daemon } from '../../src/daemon/daemon.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';
import { testHome } from './home.js';

export interface InProcessOptions {
  /** Written as JSON to a temp mcp-config.json and loaded as `serve --config` loads it. */
  config: object;
  /** Require API keys (`serve`'s default); the first run's key is then `firstRunKey`. Default: `--no-auth`. */
  auth?: boolean;
  /** Watch the config file for edits (hot reload). Default false. */
  watch?: boolean;
  /** Command-line settings, as `serve`'s flags give them; port 0 and 127.0.0.1 are always set. */
  overrides?: Partial<OrchSettings>;
}

export interface InProcessDaemon {
  daemon: Daemon;
  url: string;
  configPath: string;
  dataDir: string;
  firstRunKey?: string;
  /** Replaces the config file (for hot reload with `watch`, or `daemon.reloadFromFile()`). */
  writeConfig(config: object): Promise<void>;
  /** Closes the daemon (its servers, sessions and store) and removes its files; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startInProcessDaemon(options: InProcessOptions): Promise<InProcessDaemon> {
  // The daemon registers itself in ~/.mcp-orch/daemons: in a test, that is the file's own home.
  process.env.HOME = testHome;
  const tempDir = await mkdtemp(join(tmpdir(), 'mcp-orch-inproc-'));
  const configPath = join(tempDir, 'mcp-config.json');
  const dataDir = join(tempDir, 'data');
  const writeConfig = (config: object) => writeFile(configPath, JSON.stringify(config, null, 2));
  await writeConfig(options.config);
  const overrides: Partial<OrchSettings> = { host: '127.0.0.1', port: 0, ...options.overrides };
  const loaded = loadConfig(configPath);
  const config = { ...loaded.config, orch: { ...loaded.config.orch, ...overrides } };
  const store = openStore(dataDir);
  const daemon = createDaemon({
    config,
    logger: createLogger({ level: 'silent' }),
    dataDir,
    store,
    overrides,
    configPath,
    auth: options.auth === true,
    ...(options.watch ? { watchPath: configPath } : {}),
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= daemon
      .close('test over')
      .finally(() => store.close())
      .finally(() => rm(tempDir, { recursive: true, force: true })));
  try {
    const { url, firstRun } = await daemon.start();
    return {
      daemon,
      url: url!.replace('//0.0.0.0:', '//127.0.0.1:'),
      configPath,
      dataDir,
      ...(firstRun ? { firstRunKey: firstRun.key } : {}),
      writeConfig,
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined); // the start's error says more
    throw error;
  }
}
