import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SecretResolver } from '../config/secrets.js';
import { ensurePrivateDataDir } from '../dataDir.js';
import { OrchError } from '../errors.js';
import type { Store } from './open.js';

/**
 * The key that seals secrets: `MCP_ORCH_SECRET_KEY` (32 bytes, as 64 hex digits or base64), else
 * `<data dir>/secret.key`, created mode 0600 the first time a secret is set. The key never enters
 * the database, so a copy of mcp-orch.db alone does not reveal a secret.
 */

export const SECRET_KEY_ENV = 'MCP_ORCH_SECRET_KEY';
export const SECRET_KEY_FILE = 'secret.key';

const GENERATE_HINT = 'generate one with `openssl rand -hex 32`';

function decodeKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new OrchError('SECRET_UNAVAILABLE', `${source} is not a 256-bit key (expected 64 hex digits or 32 bytes in base64)`, {
      hint: GENERATE_HINT,
    });
  }
  return key;
}

function readKeyFile(file: string): Buffer | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new OrchError('SECRET_UNAVAILABLE', `${file} may be read by other users (mode ${(stat.mode & 0o777).toString(8)})`, {
      hint: `make it private: chmod 600 ${file}`,
    });
  }
  return decodeKey(fs.readFileSync(file, 'utf8'), file);
}

export interface SecretKeyOptions {
  env?: NodeJS.ProcessEnv;
  /** Create the key file when neither it nor the variable exists (when a secret is being set). */
  create?: boolean;
}

/** The key, or undefined when there is none and `create` is not asked for. */
export function loadSecretKey(dataDir: string, options: SecretKeyOptions = {}): Buffer | undefined {
  const fromEnv = (options.env ?? process.env)[SECRET_KEY_ENV];
  if (fromEnv) return decodeKey(fromEnv, SECRET_KEY_ENV);
  const file = path.join(dataDir, SECRET_KEY_FILE);
  const existing = readKeyFile(file);
  if (existing || !options.create) return existing;
  ensurePrivateDataDir(dataDir);
  try {
    // wx: two processes setting their first secret at once end up with the same key file.
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readKeyFile(file);
}

/** Resolves `${secret:NAME}` in the config: the value, or SECRET_UNAVAILABLE saying what is missing. A resolver over the store's secrets; the key is read once, on the first reference. */
export function secretResolver(store: Store, dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretResolver {
  let key: Buffer | undefined;
  return (name) => {
    key ??= loadSecretKey(dataDir, { env });
    if (!key) {
      const stored = store.secrets.list().some((secret) => secret.name === name);
      throw new OrchError(
        'SECRET_UNAVAILABLE',
        stored
          ? `secret "${name}" cannot be decrypted: neither ${SECRET_KEY_ENV} nor ${path.join(dataDir, SECRET_KEY_FILE)} holds a key`
          : `secret "${name}" is not set`,
        { hint: stored ? `set ${SECRET_KEY_ENV} to the key it was stored with` : `set it with \`mcp-orch secrets set ${name}\`` },
      );
    }
    const value = store.secrets.get(name, key);
    if (value === undefined) {
      throw new OrchError('SECRET_UNAVAILABLE', `secret "${name}" is not set`, { hint: `set it with \`mcp-orch secrets set ${name}\`` });
    }
    return value;
  };
}
