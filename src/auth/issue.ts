import { OrchError } from '../errors.js';
import { unknownKey, type KeyRecord, type KeysRepo, type NewKey } from '../store/keys.js';
import type { MembersRepo } from '../store/members.js';
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

/** Whose key a new key is: the member named, or the project's only member, or its only admin. */
export function chooseMember(members: Pick<MembersRepo, 'list'>, project: string, member: string | undefined): string {
  if (member !== undefined) return member;
  const all = members.list(project);
  const admins = all.filter((m) => m.role === 'admin');
  const only = all.length === 1 ? all : admins.length === 1 ? admins : [];
  if (only[0]) return only[0].member.name;
  throw new OrchError('BAD_REQUEST', `project "${project}" has ${all.length} members: say whose key it is`, {
    hint: `pass --member NAME (the API: "member"); \`mcp-orch members list --project ${project}\` lists them`,
  });
}
