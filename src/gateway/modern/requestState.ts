import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from '../../log.js';

/** The file under the data dir that holds the gateway's requestState key. */
export const REQUEST_STATE_KEY_FILE = 'request-state.key';
const KEY_BYTES = 32;

/** Why a requestState was refused; carried in the error's `data.reason`. */
export type RequestStateRefusal = 'malformed' | 'forged' | 'expired' | 'replayed' | 'foreign' | 'mismatched';

export class RequestStateError extends Error {
  constructor(
    readonly reason: RequestStateRefusal,
    message: string,
  ) {
    super(message);
    // Stryker disable next-line StringLiteral: shows only in a stack trace; callers read reason and message
    this.name = 'RequestStateError';
  }
}

/** What a requestState says once opened. */
export interface RequestStateClaims {
  /** The waiting call the state resumes. */
  call: string;
  /** One-time id of this round: a state is accepted once. */
  nonce: string;
  /** Expiry, ms since the epoch. */
  exp: number;
}

/** What a requestState is bound to: who may present it, and on which request. */
export interface RequestStateBinding {
  /** The caller's identity (endpoint, credentials); only its digest goes into the state. */
  caller: string;
  /** The request it belongs to, e.g. `tools/call ask_llm`; only its digest goes into the state. */
  request: string;
}

interface Payload extends RequestStateClaims {
  v: 1;
  who: string;
  req: string;
}

/**
 * Mints and opens the gateway's own requestState: a base64url JSON payload and its HMAC-SHA256,
 * bound to the caller and the request, with an expiry and a one-time nonce. Signed, not encrypted:
 * the payload holds ids and digests only. Nonces that were accepted are remembered until they
 * expire, so a state cannot be presented twice.
 */
export class RequestStateCodec {
  private readonly used = new Map<string, number>();

  constructor(
    private readonly key: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length < KEY_BYTES) throw new Error(`a requestState key needs ${KEY_BYTES} bytes, got ${key.length}`);
  }

  /** A codec with a random key that lives as long as the process. */
  static ephemeral(): RequestStateCodec {
    return new RequestStateCodec(randomBytes(KEY_BYTES));
  }

  /** A codec whose key is read from `path`, or created there (mode 0600) when the file is missing. */
  static fromKeyFile(path: string): RequestStateCodec {
    return new RequestStateCodec(loadOrCreateKey(path));
  }

  /**
   * The daemon's codec: its key in `<dataDir>/request-state.key`, so that states outlive a restart;
   * a key of this process alone without a data dir, or when that file cannot be used.
   */
  static forDataDir(dataDir: string | undefined, log: Logger): RequestStateCodec {
    if (!dataDir) return RequestStateCodec.ephemeral();
    const path = join(dataDir, REQUEST_STATE_KEY_FILE);
    try {
      return RequestStateCodec.fromKeyFile(path);
    } catch (error) {
      log.warn({ path, err: (error as Error).message }, 'cannot use the requestState key file; using a key for this process only');
      return RequestStateCodec.ephemeral();
    }
  }

  mint(binding: RequestStateBinding, call: string, ttlMs: number): string {
    const payload: Payload = {
      v: 1,
      call,
      nonce: randomUUID(),
      exp: this.now() + ttlMs,
      who: digest(binding.caller),
      req: digest(binding.request),
    };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /**
   * Checks a state presented by `binding`'s caller and consumes its nonce. Throws a
   * RequestStateError naming why it is refused: not ours (malformed, forged), too late (expired),
   * already used (replayed), presented by someone else (foreign) or on another request (mismatched).
   */
  open(token: unknown, binding: RequestStateBinding): RequestStateClaims {
    if (typeof token !== 'string') throw new RequestStateError('malformed', 'requestState must be a string');
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) {
      throw new RequestStateError('malformed', 'requestState is not one this gateway issued');
    }
    const expected = Buffer.from(this.sign(body), 'base64url');
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new RequestStateError('forged', 'requestState failed its integrity check (forged or altered)');
    }
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
    } catch {
      throw new RequestStateError('malformed', 'requestState payload is unreadable');
    }
    const now = this.now();
    this.sweep(now);
    if (payload.v !== 1 || typeof payload.exp !== 'number' || typeof payload.nonce !== 'string' || typeof payload.call !== 'string') {
      throw new RequestStateError('malformed', 'requestState payload is unreadable');
    }
    if (payload.exp <= now) throw new RequestStateError('expired', 'requestState has expired; call again without it');
    if (payload.who !== digest(binding.caller)) {
      throw new RequestStateError('foreign', 'requestState was issued to another caller (endpoint or credentials differ)');
    }
    if (payload.req !== digest(binding.request)) {
      throw new RequestStateError('mismatched', `requestState belongs to another request than ${binding.request}`);
    }
    if (this.used.has(payload.nonce)) throw new RequestStateError('replayed', 'requestState was already used (replayed)');
    this.used.set(payload.nonce, payload.exp);
    return { call: payload.call, nonce: payload.nonce, exp: payload.exp };
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }

  /** Forgets used nonces whose states have expired anyway. */
  private sweep(now: number): void {
    for (const [nonce, exp] of this.used) if (exp <= now) this.used.delete(nonce);
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** Reads a 32-byte key, or writes a new random one readable by the owner only. */
function loadOrCreateKey(path: string): Buffer {
  // Reading first is a shortcut: without it, or past a read error other than ENOENT, the exclusive
  // create below finds the file (EEXIST) and reads it there, to the same key or the same error.
  // Stryker disable BlockStatement,ConditionalExpression,EqualityOperator: the shortcut, see above
  try {
    const key = readFileSync(path);
    if (key.length >= KEY_BYTES) return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  // Stryker restore BlockStatement,ConditionalExpression,EqualityOperator
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    writeFileSync(path, key, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Another instance on the same data dir wrote it first: use theirs, unless it is cut short.
    const theirs = readFileSync(path);
    if (theirs.length >= KEY_BYTES) return theirs;
    writeFileSync(path, key);
    chmodSync(path, 0o600);
  }
  return key;
}
