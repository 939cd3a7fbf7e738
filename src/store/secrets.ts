import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { OrchError } from '../errors.js';
import type { RepoContext } from './repo.js';

/**
 * Secrets at rest: AES-256-GCM, a fresh 96-bit nonce per value, the secret's name as associated
 * data (a sealed value moved to another name does not open). A check value sealed with the first
 * key used lets a wrong key be refused before anything is written with it, so one database never
 * holds secrets under two keys.
 */

export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const MAX_SECRET_BYTES = 64 * 1024;
const CHECK_META = 'secret-key-check';
const CHECK_TEXT = 'mcp-orch secret key check';

export interface SecretInfo {
  name: string;
  createdAt: number;
  updatedAt: number;
}

export interface SecretsRepo {
  /** Stores or replaces a value, sealed under `key`. */
  set(name: string, value: string, key: Buffer): void;
  /** The value, or undefined when no secret has that name. SECRET_UNAVAILABLE when `key` is not the one used. */
  get(name: string, key: Buffer): string | undefined;
  /** Names and dates only. */
  list(): SecretInfo[];
  /** NOT_FOUND when there is none. */
  delete(name: string): void;
}

function seal(key: Buffer, plaintext: Buffer, label: string): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(label));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

/** The plaintext, or undefined when the key (or the label) is not the one it was sealed with. */
function open(key: Buffer, nonce: Buffer, sealed: Buffer, label: string): Buffer | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(Buffer.from(label));
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export function wrongSecretKey(): OrchError {
  return new OrchError('SECRET_UNAVAILABLE', 'the secret key is not the one the stored secrets were encrypted with', {
    hint: 'set MCP_ORCH_SECRET_KEY (or restore <data dir>/secret.key) to the key used when the secrets were set',
  });
}

export function createSecretsRepo({ db, clock }: RepoContext): SecretsRepo {
  const getMeta = db.prepare<[string], Buffer>('SELECT value FROM meta WHERE key = ?').pluck();
  const putMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  const upsert = db.prepare(
    `INSERT INTO secrets (name, nonce, sealed, created_at, updated_at) VALUES (@name, @nonce, @sealed, @at, @at)
     ON CONFLICT (name) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at`,
  );
  const one = db.prepare<[string], { nonce: Buffer; sealed: Buffer }>('SELECT nonce, sealed FROM secrets WHERE name = ?');
  const all = db.prepare<[], { name: string; created_at: number; updated_at: number }>(
    'SELECT name, created_at, updated_at FROM secrets ORDER BY name',
  );
  const remove = db.prepare('DELETE FROM secrets WHERE name = ?');

  /** Whether `key` opens the check value; the first key ever used writes it. */
  const checkKey = (key: Buffer, mayStore: boolean): void => {
    const check = getMeta.get(CHECK_META);
    if (check === undefined) {
      if (mayStore) {
        const { nonce, sealed } = seal(key, Buffer.from(CHECK_TEXT), CHECK_META);
        putMeta.run(CHECK_META, Buffer.concat([nonce, sealed]));
      }
      return;
    }
    if (open(key, check.subarray(0, 12), check.subarray(12), CHECK_META)?.toString() !== CHECK_TEXT) throw wrongSecretKey();
  };

  return {
    set(name, value, key) {
      if (!SECRET_NAME_PATTERN.test(name)) {
        throw new OrchError('BAD_REQUEST', `invalid secret name "${name}"`, {
          hint: 'use letters, digits, "_", "-" and ".", starting with a letter or "_"',
        });
      }
      const plaintext = Buffer.from(value, 'utf8');
      if (plaintext.length > MAX_SECRET_BYTES) {
        throw new OrchError('BAD_REQUEST', `secret "${name}" is larger than ${MAX_SECRET_BYTES} bytes`);
      }
      db.transaction(() => {
        checkKey(key, true);
        upsert.run({ name, ...seal(key, plaintext, name), at: clock() });
      }).immediate();
    },
    get(name, key) {
      const row = one.get(name);
      if (!row) return undefined;
      checkKey(key, false);
      const plaintext = open(key, row.nonce, row.sealed, name);
      if (!plaintext) {
        throw new OrchError('SECRET_UNAVAILABLE', `secret "${name}" cannot be decrypted: it was changed outside mcp-orch`, {
          hint: `set it again with \`mcp-orch secrets set ${name}\``,
        });
      }
      return plaintext.toString('utf8');
    },
    list: () => all.all().map((row) => ({ name: row.name, createdAt: row.created_at, updatedAt: row.updated_at })),
    delete(name) {
      if (remove.run(name).changes === 0) {
        throw new OrchError('NOT_FOUND', `no secret named "${name}"`, { hint: 'list them with `mcp-orch secrets list`' });
      }
    },
  };
}
