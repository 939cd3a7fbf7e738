import { OrchError } from '../errors.js';
import { unknownKey, type KeyRecord, type KeysRepo, type NewKey } from '../store/keys.js';
import { generateKey, hashKey, KEY_MARK, keyPrefix, looksLikeKey } from './keys.js';

/** Creating, rotating and finding keys: the key itself leaves here once and is never kept. */

/** A key's project, member (name or email), name and limits: everything but the secret. */
export type IssueOptions = Omit<NewKey, 'prefix' | 'hash'>;

export interface IssuedKey {
  /** Show it once; it cannot be recovered. */
  key: string;
  record: KeyRecord;
}

export function issueKey(keys: KeysRepo, options: IssueOptions): IssuedKey {
  const { key, prefix, hash } = generateKey();
  return { key, record: keys.insert({ ...options, prefix, hash }) };
}

/** A new secret for the key; the old one keeps working for `graceMs` (0: it dies at once). */
export function rotateKey(keys: KeysRepo, record: KeyRecord, graceMs: number, now: number): IssuedKey {
  const { key, prefix, hash } = generateKey();
  return { key, record: keys.rotate(record.id, { prefix, hash }, now + graceMs) };
}

/** A key by the key itself or by its visible prefix (as `keys list` shows it). */
export function findKey(keys: KeysRepo, reference: string): KeyRecord {
  if (looksLikeKey(reference)) {
    const found = keys.findByHash(hashKey(reference));
    if (!found) throw unknownKey(`${reference.slice(0, KEY_MARK.length + 8)}…`);
    const { hash: _hash, ...record } = found;
    return record;
  }
  if (!reference.startsWith(KEY_MARK) || reference.length < KEY_MARK.length + 4) {
    throw new OrchError('BAD_REQUEST', `"${reference}" is neither a key nor a key prefix`, {
      hint: 'give the prefix `mcp-orch keys list` shows, such as mcpo_AbC123xY',
    });
  }
  // More than a prefix's length of a key (but not all of it) still names it by its prefix.
  const matches = keys.findByPrefix(keyPrefix(reference));
  if (matches.length === 0) throw unknownKey(reference);
  if (matches.length > 1) {
    throw new OrchError('BAD_REQUEST', `"${reference}" matches ${matches.length} keys`, { hint: 'give more of the prefix' });
  }
  return matches[0]!;
}
