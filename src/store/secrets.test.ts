import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { databasePath } from './open.js';
import { loadSecretKey, SECRET_KEY_ENV, SECRET_KEY_FILE, secretResolver } from './secretKey.js';

const VALUE = 'ghp_super-secret-value-1234567890';

let temp: TempStore;
beforeEach(() => {
  temp = tempStore();
});
afterEach(() => temp.close());

describe('secrets', () => {
  it('round-trips through a key file made 0600 on first use, and never rests in the database in clear', () => {
    expect(loadSecretKey(temp.dataDir, { env: {} })).toBeUndefined();
    const key = loadSecretKey(temp.dataDir, { env: {}, create: true })!;
    const file = path.join(temp.dataDir, SECRET_KEY_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    temp.store.secrets.set('gh_token', VALUE, key);
    expect(temp.store.secrets.get('gh_token', loadSecretKey(temp.dataDir, { env: {} })!)).toBe(VALUE);
    expect(temp.store.secrets.list()).toEqual([{ name: 'gh_token', createdAt: expect.any(Number), updatedAt: expect.any(Number) }]);
    temp.store.close();
    for (const suffix of ['', '-wal']) {
      const bytes = fs.existsSync(databasePath(temp.dataDir) + suffix)
        ? fs.readFileSync(databasePath(temp.dataDir) + suffix)
        : Buffer.alloc(0);
      expect(bytes.includes(Buffer.from(VALUE))).toBe(false);
    }
  });

  it('takes the key from MCP_ORCH_SECRET_KEY as hex or base64, and refuses one of the wrong size', () => {
    const hex = 'ab'.repeat(32);
    expect(loadSecretKey(temp.dataDir, { env: { [SECRET_KEY_ENV]: hex } })?.toString('hex')).toBe(hex);
    const b64 = Buffer.alloc(32, 7).toString('base64');
    expect(loadSecretKey(temp.dataDir, { env: { [SECRET_KEY_ENV]: b64 } })?.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(() => loadSecretKey(temp.dataDir, { env: { [SECRET_KEY_ENV]: 'short' } })).toThrow(/not a 256-bit key/);
  });

  it('refuses a wrong key, for reading and for writing, without showing any value', () => {
    const right = Buffer.alloc(32, 1);
    const wrong = Buffer.alloc(32, 2);
    temp.store.secrets.set('a', VALUE, right);
    expect(() => temp.store.secrets.get('a', wrong)).toThrow(/not the one the stored secrets were encrypted with/);
    // Writing with another key would leave the database holding secrets under two keys.
    expect(() => temp.store.secrets.set('b', 'other', wrong)).toThrow(/not the one/);
    expect(temp.store.secrets.list().map((s) => s.name)).toEqual(['a']);
  });

  it('refuses a key file others may read', () => {
    loadSecretKey(temp.dataDir, { env: {}, create: true });
    const file = path.join(temp.dataDir, SECRET_KEY_FILE);
    fs.chmodSync(file, 0o644);
    expect(() => loadSecretKey(temp.dataDir, { env: {} })).toThrow(
      expect.objectContaining({
        message: `${file} may be read by other users (mode 644)`,
        hint: `make it private: chmod 600 ${file}`,
      }),
    );
  });

  it('resolves ${secret:NAME} for the config, saying what is missing', () => {
    const resolve = secretResolver(temp.store, temp.dataDir, {});
    expect(() => resolve('gh_token')).toThrow('secret "gh_token" is not set');
    temp.store.secrets.set('gh_token', VALUE, loadSecretKey(temp.dataDir, { env: {}, create: true })!);
    expect(secretResolver(temp.store, temp.dataDir, {})('gh_token')).toBe(VALUE);
    expect(() => secretResolver(temp.store, temp.dataDir, {})('other')).toThrow('secret "other" is not set');
    fs.rmSync(path.join(temp.dataDir, SECRET_KEY_FILE));
    expect(() => secretResolver(temp.store, temp.dataDir, {})('gh_token')).toThrow(/cannot be decrypted: neither MCP_ORCH_SECRET_KEY nor/);
  });

  it('deletes, and says so when there is nothing to delete', () => {
    temp.store.secrets.set('a', VALUE, Buffer.alloc(32, 1));
    temp.store.secrets.delete('a');
    expect(temp.store.secrets.list()).toEqual([]);
    expect(() => temp.store.secrets.delete('a')).toThrow('no secret named "a"');
  });
});
