import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys: `mcpo_` and 40 base62 characters (238 bits) from the system's CSPRNG. The key itself
 * is shown once; only its SHA-256 hash is stored, with a visible prefix that names it in lists,
 * logs and the audit. A fast hash suits a key of this entropy: there is nothing to guess.
 */

export const KEY_MARK = 'mcpo_';
const BODY_LENGTH = 40;
/** Characters of the body kept in the visible prefix: enough to tell keys apart, far too few to guess the rest. */
const PREFIX_BODY = 8;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_PATTERN = /^mcpo_[0-9A-Za-z]{32,128}$/;

export interface GeneratedKey {
  /** The key itself: shown once, never stored. */
  key: string;
  prefix: string;
  hash: Buffer;
}

/** Uniform base62 characters: bytes at or past 248 (4 x 62) are dropped rather than folded. */
function base62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export function generateKey(): GeneratedKey {
  const key = `${KEY_MARK}${base62(BODY_LENGTH)}`;
  return { key, prefix: keyPrefix(key), hash: hashKey(key) };
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export function keyPrefix(key: string): string {
  return key.slice(0, KEY_MARK.length + PREFIX_BODY);
}

/** Whether the text has the shape of a key (not whether it is a valid one). */
export function looksLikeKey(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/** Compares a presented key's hash with a stored one in constant time. */
export function hashesMatch(presented: Buffer, stored: Buffer): boolean {
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

/** Compares two secrets (the admin token, a CSRF token) in time independent of where they differ: hashing first evens out their lengths. */
export function sameSecret(given: string, expected: string): boolean {
  return hashesMatch(hashKey(given), hashKey(expected)) && given.length === expected.length;
}

/**
 * The key of an `Authorization: Bearer <key>` header: `missing` without one, `malformed` when it is
 * not a bearer credential with a key's shape.
 */
export function bearerKey(header: string | undefined | null): { key: string } | { failure: 'missing' | 'malformed' } {
  if (header === undefined || header === null || header.trim() === '') return { failure: 'missing' };
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match || !looksLikeKey(match[1]!)) return { failure: 'malformed' };
  return { key: match[1]! };
}

/** `retiring`: rotated, still working until its grace ends. */
export type KeyState = 'active' | 'retiring' | 'expired' | 'revoked';

export function keyState(key: { revokedAt: number | null; expiresAt: number | null }, now: number): KeyState {
  if (key.revokedAt !== null && key.revokedAt <= now) return 'revoked';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return key.revokedAt !== null ? 'retiring' : 'active';
}
