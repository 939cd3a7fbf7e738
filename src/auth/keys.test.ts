import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { createAuthenticator, type AuthResult } from './authenticate.js';
import { findKey, issueKey, rotateKey } from './issue.js';
import { bearerKey, generateKey, hashKey, keyPrefix, looksLikeKey } from './keys.js';

const DEFAULTS = { perKey: { requestsPerMinute: 600, burst: 60 }, perProject: { requestsPerMinute: 6000, burst: 600 } };

describe('key format', () => {
  it('is mcpo_ and 40 base62 characters, different every time, named by its prefix', () => {
    const keys = Array.from({ length: 200 }, () => generateKey());
    for (const { key, prefix, hash } of keys) {
      expect(key).toMatch(/^mcpo_[0-9A-Za-z]{40}$/);
      expect(looksLikeKey(key)).toBe(true);
      expect(prefix).toBe(key.slice(0, 13));
      expect(hash.equals(hashKey(key))).toBe(true);
    }
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
  });

  it('reads a bearer header and tells missing from malformed', () => {
    const { key } = generateKey();
    expect(bearerKey(`Bearer ${key}`)).toEqual({ key });
    expect(bearerKey(`bearer   ${key} `)).toEqual({ key });
    expect(bearerKey(undefined)).toEqual({ failure: 'missing' });
    expect(bearerKey('')).toEqual({ failure: 'missing' });
    expect(bearerKey(`Basic ${key}`)).toEqual({ failure: 'malformed' });
    expect(bearerKey('Bearer mcpo_short')).toEqual({ failure: 'malformed' });
    expect(bearerKey(`Bearer ${key} extra`)).toEqual({ failure: 'malformed' });
  });
});

describe('key lifecycle in a real database', () => {
  let temp: TempStore;
  let now: number;

  beforeEach(() => {
    now = Date.UTC(2026, 0, 1);
    temp = tempStore({ clock: () => now });
    temp.store.projects.create({ slug: 'alpha' });
    temp.store.projects.create({ slug: 'beta' });
    temp.store.members.add('alpha', { name: 'ada', email: 'ada@example.com', role: 'member' });
  });
  afterEach(() => temp.close());

  const authenticator = () => createAuthenticator({ keys: temp.store.keys, defaults: DEFAULTS, clock: () => now });
  const failure = (result: AuthResult) => (result.ok ? 'ok' : result.failure);

  it('stores only the hash and the prefix, and authenticates the key to its project, member and role', () => {
    const { key, record } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada@example.com', name: 'laptop' });
    expect(record).toMatchObject({ project: 'alpha', member: 'ada', role: 'member', name: 'laptop', prefix: keyPrefix(key) });
    expect(JSON.stringify(temp.store.keys.list())).not.toContain(key);

    const result = authenticator().authenticate(`Bearer ${key}`);
    expect(result).toEqual({
      ok: true,
      principal: {
        kind: 'key',
        project: 'alpha',
        role: 'member',
        member: 'ada',
        keyId: record.id,
        keyPrefix: record.prefix,
        servers: null,
        readOnly: false,
        limits: DEFAULTS,
      },
    });
    expect(temp.store.keys.get(record.id)?.lastUsedAt).toBe(now);
  });

  it('answers a missing, malformed or unknown key with a failure that holds no key', () => {
    const auth = authenticator();
    const unknown = generateKey().key;
    expect(failure(auth.authenticate(undefined))).toBe('missing');
    expect(failure(auth.authenticate('Bearer nope'))).toBe('malformed');
    const result = auth.authenticate(`Bearer ${unknown}`);
    expect(result).toMatchObject({ ok: false, failure: 'unknown', keyPrefix: keyPrefix(unknown) });
    expect(JSON.stringify(result)).not.toContain(unknown);
    if (!result.ok) expect(result.error.code).toBe('UNAUTHORIZED');
  });

  it('expires', () => {
    const { key } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'short', expiresAt: now + 1000 });
    expect(failure(authenticator().authenticate(`Bearer ${key}`))).toBe('ok');
    now += 1000;
    expect(failure(authenticator().authenticate(`Bearer ${key}`))).toBe('expired');
  });

  it('rotates: the new key works at once, the old one until its grace ends', () => {
    const old = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'ci', servers: ['a'], readOnly: true });
    const next = rotateKey(temp.store.keys, old.record, 10 * 60_000, now);
    expect(next.record).toMatchObject({ name: 'ci', servers: ['a'], readOnly: true, project: 'alpha' });
    expect(next.key).not.toBe(old.key);
    expect(temp.store.keys.get(old.record.id)).toMatchObject({ replacedBy: next.record.id, revokedAt: now + 600_000 });

    const auth = authenticator();
    expect(failure(auth.authenticate(`Bearer ${old.key}`))).toBe('ok');
    expect(failure(auth.authenticate(`Bearer ${next.key}`))).toBe('ok');
    now += 600_000;
    expect(failure(auth.authenticate(`Bearer ${old.key}`))).toBe('revoked');
    expect(failure(auth.authenticate(`Bearer ${next.key}`))).toBe('ok');
    expect(() => rotateKey(temp.store.keys, temp.store.keys.get(old.record.id)!, 0, now)).toThrow(/already rotated/);
  });

  it('rotates without grace: the old key dies at once', () => {
    const old = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'ci' });
    rotateKey(temp.store.keys, old.record, 0, now);
    expect(failure(authenticator().authenticate(`Bearer ${old.key}`))).toBe('revoked');
  });

  it('revokes, seen by another connection on its next request', () => {
    const { key, record } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'k' });
    const daemon = temp.reopen({ clock: () => now });
    const auth = createAuthenticator({ keys: daemon.keys, defaults: DEFAULTS, clock: () => now });
    expect(failure(auth.authenticate(`Bearer ${key}`))).toBe('ok');
    temp.store.keys.revoke(record.id);
    expect(failure(auth.authenticate(`Bearer ${key}`))).toBe('revoked');
  });

  it('follows the member: a lowered role counts at once, a removed member takes their keys along', () => {
    const { key } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'k' });
    const auth = authenticator();
    temp.store.members.setRole('alpha', 'ada', 'viewer');
    expect(auth.authenticate(`Bearer ${key}`)).toMatchObject({ ok: true, principal: { role: 'viewer' } });
    expect(temp.store.members.remove('alpha', 'ada')).toEqual({ keysRemoved: 1 });
    expect(failure(auth.authenticate(`Bearer ${key}`))).toBe('unknown');
  });

  it("uses the project's own rate limits over the defaults", () => {
    const { key } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'k' });
    temp.store.projects.setLimits('alpha', { perKey: { requestsPerMinute: 5, burst: 2 } });
    expect(authenticator().authenticate(`Bearer ${key}`)).toMatchObject({
      ok: true,
      principal: { limits: { perKey: { requestsPerMinute: 5, burst: 2 }, perProject: DEFAULTS.perProject } },
    });
  });

  it('refuses a key for someone outside the project', () => {
    expect(() => issueKey(temp.store.keys, { project: 'beta', member: 'ada', name: 'k' })).toThrow(
      /"ada" is not a member of project "beta"/,
    );
    expect(() => issueKey(temp.store.keys, { project: 'nope', member: 'ada', name: 'k' })).toThrow(/unknown project "nope"/);
  });

  it('finds a key by itself or by its prefix, and says when a prefix is ambiguous', () => {
    const { key, record } = issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'k' });
    expect(findKey(temp.store.keys, key).id).toBe(record.id);
    expect(findKey(temp.store.keys, record.prefix).id).toBe(record.id);
    expect(findKey(temp.store.keys, key.slice(0, 20)).id).toBe(record.id);
    // Prefixes are case-sensitive.
    const known = temp.store.keys.insert({ project: 'alpha', member: 'ada', name: 'known', prefix: 'mcpo_AbCdEfGh', hash: hashKey('x') });
    expect(findKey(temp.store.keys, 'mcpo_AbCdEfGh').id).toBe(known.id);
    expect(() => findKey(temp.store.keys, 'mcpo_abcdefgh')).toThrow(/no API key/);
    issueKey(temp.store.keys, { project: 'alpha', member: 'ada', name: 'k2' });
    expect(() => findKey(temp.store.keys, 'mcpo_')).toThrow(/neither a key nor a key prefix/);
    expect(() => findKey(temp.store.keys, 'mcpo_zzzzzzzz')).toThrow(/no API key/);
  });
});
