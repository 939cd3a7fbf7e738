import type { RateLimit } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { KeyRecord } from '../store/keys.js';
import { bearerKey, hashesMatch, hashKey, keyPrefix, keyState } from './keys.js';
import type { Principal } from './policy.js';

/**
 * From an `Authorization` header to a principal, or to a failure the caller can audit and answer
 * with 401. One indexed lookup by the key's hash per request, nothing cached: a revoked key, a
 * removed member or a lowered role counts from the next request on.
 */

export type AuthFailure = 'missing' | 'malformed' | 'unknown' | 'expired' | 'revoked';

export type AuthResult =
  | { ok: true; principal: Principal }
  | {
      ok: false;
      failure: AuthFailure;
      /** The presented key's visible prefix, when it had a key's shape: for the audit, never the key. */
      keyPrefix?: string | undefined;
      /** UNAUTHORIZED, with a message that names nothing the caller does not already hold. */
      error: OrchError;
    };

/** What authentication needs of the store. */
export interface KeyLookup {
  findByHash(hash: Buffer): (KeyRecord & { hash: Buffer }) | undefined;
  touch(id: number, at: number): void;
}

export interface AuthenticatorOptions {
  keys: KeyLookup;
  /** `orch.rateLimit`: the limits of projects that set none of their own. */
  defaults: { perKey: RateLimit; perProject: RateLimit };
  clock?: () => number;
  /** Failures to record `last used` must not fail a request; they are reported here. */
  onTouchError?: (error: unknown) => void;
}

export interface Authenticator {
  authenticate(authorization: string | undefined | null): AuthResult;
}

/** `last used` is written at most this often per key, to keep writes off most requests. */
const TOUCH_EVERY_MS = 60_000;

const KEY_HINT = 'send `Authorization: Bearer mcpo_...` with a key from `mcp-orch keys create` (or `mcp-orch connect`)';

const MESSAGES: Record<AuthFailure, string> = {
  missing: 'an API key is required',
  malformed: 'the Authorization header does not hold an mcp-orch API key',
  unknown: 'the API key is not valid',
  expired: 'the API key has expired',
  revoked: 'the API key has been revoked',
};

/** The `WWW-Authenticate` header of a 401 answer (RFC 6750). */
export function wwwAuthenticate(failure: AuthFailure): string {
  return failure === 'missing' ? 'Bearer realm="mcp-orch"' : 'Bearer realm="mcp-orch", error="invalid_token"';
}

/** What a stored key may do, as a principal: its project's own rate limits, else the defaults (none without them). */
export function principalOf(record: KeyRecord, defaults?: AuthenticatorOptions['defaults']): Principal {
  return {
    kind: 'key',
    project: record.project,
    role: record.role,
    member: record.member,
    keyId: record.id,
    keyPrefix: record.prefix,
    servers: record.servers,
    readOnly: record.readOnly,
    limits: defaults && {
      perKey: record.projectLimits.perKey ?? defaults.perKey,
      perProject: record.projectLimits.perProject ?? defaults.perProject,
    },
  };
}

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { keys, defaults } = options;
  const clock = options.clock ?? Date.now;

  const fail = (failure: AuthFailure, prefix?: string): AuthResult => ({
    ok: false,
    failure,
    keyPrefix: prefix,
    error: new OrchError('UNAUTHORIZED', MESSAGES[failure], { hint: KEY_HINT, data: { reason: failure } }),
  });

  return {
    authenticate(authorization) {
      const bearer = bearerKey(authorization);
      if ('failure' in bearer) return fail(bearer.failure);
      const prefix = keyPrefix(bearer.key);
      const hash = hashKey(bearer.key);
      const record = keys.findByHash(hash);
      if (!record || !hashesMatch(hash, record.hash)) return fail('unknown', prefix);
      const now = clock();
      const state = keyState(record, now);
      if (state === 'revoked' || state === 'expired') return fail(state, prefix);
      if (record.lastUsedAt === null || now - record.lastUsedAt >= TOUCH_EVERY_MS) {
        try {
          keys.touch(record.id, now);
        } catch (error) {
          options.onTouchError?.(error);
        }
      }
      return { ok: true, principal: principalOf(record, defaults) };
    },
  };
}
