import os from 'node:os';
import path from 'node:path';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.js';
import type { Config, OrchSettings } from '../config/schema.js';
import type { SecretSource } from '../config/secrets.js';
import { openStore, type Store } from '../store/open.js';
import { secretResolver } from '../store/secretKey.js';
import { isOrchError } from '../errors.js';
import { createLogger, LOG_LEVELS, type Logger, type LogLevel } from '../log.js';

/** Options every command that reads the config accepts. */
export interface ConfigOptions {
  config?: string;
  logLevel?: string;
  dataDir?: string;
}

export interface ServeOverrides {
  host?: string;
  port?: string;
  allowOrigin?: string[];
}

export interface CommandContext {
  loaded: LoadedConfig;
  config: Config;
  /** Command-line settings that win over the file's, at start and on every reload. */
  overrides: Partial<OrchSettings>;
  logger: Logger;
  dataDir: string;
  /** Fills in `${secret:NAME}` from the data dir's store (for reloads too). */
  secrets: SecretSource;
  /** The data dir's store, opened on first use. */
  store(): Store;
  /** Closes the store if it was opened; idempotent. */
  closeStore(): void;
}

/** Loads the config, applies command-line overrides and builds the logger; prints config warnings. */
export function loadContext(options: ConfigOptions & ServeOverrides, defaultLevel: LogLevel = 'info'): CommandContext {
  let opened: Store | undefined;
  const storeIn = (dir: string): Store => (opened ??= openStore(dir));
  const secrets: SecretSource = (config) => {
    const dir = dataDirFor(options, config);
    return secretResolver(storeIn(dir), dir);
  };
  const loaded = loadConfig(resolveConfigPath(options.config), process.env, { secrets });
  const overrides: Partial<OrchSettings> = {};
  // Flags, else the environment (MCP_ORCH_HOST, MCP_ORCH_PORT: a port for `npm start` without editing the example).
  const host = options.host ?? process.env.MCP_ORCH_HOST;
  if (host) overrides.host = host;
  if (options.port !== undefined) overrides.port = parsePort(options.port, '--port');
  else if (process.env.MCP_ORCH_PORT) overrides.port = parsePort(process.env.MCP_ORCH_PORT, 'MCP_ORCH_PORT');
  if (options.allowOrigin?.length) overrides.allowedOrigins = [...loaded.config.orch.allowedOrigins, ...options.allowOrigin];
  overrides.logLevel =
    parseLevel(options.logLevel) ?? (loaded.config.orch.logLevel === 'info' ? defaultLevel : loaded.config.orch.logLevel);
  const config = withOverrides(loaded.config, overrides);
  const logger = createLogger({ level: config.orch.logLevel });
  for (const warning of loaded.warnings) logger.warn(warning);
  const dataDir = dataDirFor(options, config);
  return {
    loaded,
    config,
    overrides,
    logger,
    dataDir,
    secrets,
    store: () => storeIn(dataDir),
    closeStore: () => {
      opened?.close();
      opened = undefined;
    },
  };
}

/** --data-dir, else $MCP_ORCH_DATA_DIR, else the config's orch.dataDir, else ~/.mcp-orch. */
function dataDirFor(options: Pick<ConfigOptions, 'dataDir'>, config: Config | undefined): string {
  return path.resolve(options.dataDir ?? process.env.MCP_ORCH_DATA_DIR ?? config?.orch.dataDir ?? path.join(os.homedir(), '.mcp-orch'));
}

/**
 * The data dir of a command that talks to a running daemon: resolved as `serve` resolves it, but the
 * config is read only when neither --data-dir nor $MCP_ORCH_DATA_DIR says, and only if there is one.
 */
export function resolveDataDir(options: Pick<ConfigOptions, 'dataDir' | 'config'>): string {
  if (options.dataDir !== undefined || process.env.MCP_ORCH_DATA_DIR !== undefined) return dataDirFor(options, undefined);
  let config: Config | undefined;
  try {
    config = loadConfig(resolveConfigPath(options.config)).config;
  } catch (error) {
    // An explicit --config that cannot be read is worth saying; a missing default config is not.
    if (options.config !== undefined) throw error;
  }
  return dataDirFor(options, config);
}

export function withOverrides(config: Config, overrides: Partial<OrchSettings>): Config {
  return { ...config, orch: { ...config.orch, ...overrides } };
}

function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${source}: expected a number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  if (value === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new Error(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  }
  return value as LogLevel;
}

/** Prints an error the way a person should read it and marks the process as failed. */
export function reportError(error: unknown): void {
  const text = isOrchError(error) ? error.describe() : error instanceof Error ? error.message : String(error);
  console.error(`error: ${text}`);
  process.exitCode = 1;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
