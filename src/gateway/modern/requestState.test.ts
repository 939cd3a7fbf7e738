import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../log.js';
import { REQUEST_STATE_KEY_FILE, RequestStateCodec, RequestStateError, type RequestStateBinding } from './requestState.js';

const KEY = Buffer.alloc(32, 7);
const alice: RequestStateBinding = { caller: 'server:sampling|auth:abc', request: 'tools/call ask_llm' };
const TTL = 60_000;

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestStateError) return error.reason;
    throw error;
  }
  return undefined;
}

/** The refusal as the client reads it: `reason: message`. */
function explained(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof RequestStateError) return `${error.reason}: ${error.message}`;
    throw error;
  }
  throw new Error('expected a refusal');
}

/** A state signed with KEY around any payload text, as only the gateway could make it. */
function signed(payload: string): string {
  const body = Buffer.from(payload).toString('base64url');
  return `${body}.${createHmac('sha256', KEY).update(body).digest('base64url')}`;
}

describe('RequestStateCodec', () => {
  it('opens a state it minted once, for the same caller and request', () => {
    const codec = new RequestStateCodec(KEY);
    const state = codec.mint(alice, 'call-1', TTL);
    const claims = codec.open(state, alice);
    expect(claims.call).toBe('call-1');
    expect(typeof claims.nonce).toBe('string');
  });

  it('refuses a replayed state', () => {
    const codec = new RequestStateCodec(KEY);
    const state = codec.mint(alice, 'call-1', TTL);
    codec.open(state, alice);
    expect(refusal(() => codec.open(state, alice))).toBe('replayed');
  });

  it('refuses a forged state: made up, or signed under another key', () => {
    const codec = new RequestStateCodec(KEY);
    expect(refusal(() => codec.open('not-a-state', alice))).toBe('malformed');
    expect(refusal(() => codec.open(42, alice))).toBe('malformed');
    const other = new RequestStateCodec(Buffer.alloc(32, 9)).mint(alice, 'call-1', TTL);
    expect(refusal(() => codec.open(other, alice))).toBe('forged');
    const body = Buffer.from(JSON.stringify({ v: 1, call: 'x', nonce: 'n', exp: Date.now() + TTL })).toString('base64url');
    expect(refusal(() => codec.open(`${body}.${'A'.repeat(43)}`, alice))).toBe('forged');
  });

  it('refuses a tampered state: payload or signature altered', () => {
    const codec = new RequestStateCodec(KEY);
    const [body, signature] = codec.mint(alice, 'call-1', TTL).split('.') as [string, string];
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
    const longer = Buffer.from(JSON.stringify({ ...payload, exp: Date.now() + 10 * TTL })).toString('base64url');
    expect(refusal(() => codec.open(`${longer}.${signature}`, alice))).toBe('forged');
    const flipped = signature.slice(0, -2) + (signature.endsWith('AA') ? 'BA' : 'AA');
    expect(refusal(() => codec.open(`${body}.${flipped}`, alice))).toBe('forged');
  });

  it('refuses an expired state', () => {
    let now = 1_000_000;
    const codec = new RequestStateCodec(KEY, () => now);
    const state = codec.mint(alice, 'call-1', TTL);
    now += TTL;
    expect(refusal(() => codec.open(state, alice))).toBe('expired');
  });

  it('refuses a state presented by another caller or on another request', () => {
    const codec = new RequestStateCodec(KEY);
    const state = codec.mint(alice, 'call-1', TTL);
    expect(refusal(() => codec.open(state, { ...alice, caller: 'server:sampling|auth:xyz' }))).toBe('foreign');
    expect(refusal(() => codec.open(state, { ...alice, caller: 'unified' }))).toBe('foreign');
    expect(refusal(() => codec.open(state, { ...alice, request: 'tools/call ask_user' }))).toBe('mismatched');
    // Refusals do not consume it: the rightful caller can still use it once.
    expect(codec.open(state, alice).call).toBe('call-1');
  });

  it('keeps its key in a 0600 file that a second codec reuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-orch-key-'));
    const path = join(dir, 'data', 'request-state.key');
    const first = RequestStateCodec.fromKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path)).toHaveLength(32);
    const state = first.mint(alice, 'call-1', TTL);
    expect(RequestStateCodec.fromKeyFile(path).open(state, alice).call).toBe('call-1');
    // A key cut short (and left readable by others) is replaced, and the file made the owner's again.
    writeFileSync(path, 'short');
    chmodSync(path, 0o644);
    expect(readFileSync(path)).toHaveLength(5);
    RequestStateCodec.fromKeyFile(path);
    expect(readFileSync(path)).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('tells the client why a state is refused', () => {
    let now = 1_000_000;
    const codec = new RequestStateCodec(KEY, () => now);
    expect(explained(() => codec.open(undefined, alice))).toBe('malformed: requestState must be a string');
    for (const token of ['', 'abc', 'abc.', '.abc', 'a.b.c']) {
      expect(explained(() => codec.open(token, alice))).toBe('malformed: requestState is not one this gateway issued');
    }
    const forged = new RequestStateCodec(Buffer.alloc(32, 9)).mint(alice, 'call-1', TTL);
    expect(explained(() => codec.open(forged, alice))).toBe('forged: requestState failed its integrity check (forged or altered)');
    const state = codec.mint(alice, 'call-1', TTL);
    expect(explained(() => codec.open(state, { ...alice, caller: 'unified' }))).toBe(
      'foreign: requestState was issued to another caller (endpoint or credentials differ)',
    );
    expect(explained(() => codec.open(state, { ...alice, request: 'tools/call ask_user' }))).toBe(
      'mismatched: requestState belongs to another request than tools/call ask_user',
    );
    codec.open(state, alice);
    expect(explained(() => codec.open(state, alice))).toBe('replayed: requestState was already used (replayed)');
    const late = codec.mint(alice, 'call-2', TTL);
    now += TTL;
    expect(explained(() => codec.open(late, alice))).toBe('expired: requestState has expired; call again without it');
  });

  it('refuses a correctly signed payload that is not a state of this version', () => {
    const codec = new RequestStateCodec(KEY);
    const sha = (value: string) => createHash('sha256').update(value).digest('base64url');
    const valid = { v: 1, call: 'call-1', nonce: 'n-1', exp: Date.now() + TTL, who: sha(alice.caller), req: sha(alice.request) };
    const unreadable = 'malformed: requestState payload is unreadable';
    expect(explained(() => codec.open(signed('not json'), alice))).toBe(unreadable);
    for (const change of [{ v: 2 }, { v: '1' }, { exp: String(valid.exp) }, { nonce: 7 }, { call: null }]) {
      expect(explained(() => codec.open(signed(JSON.stringify({ ...valid, ...change })), alice))).toBe(unreadable);
    }
    expect(codec.open(signed(JSON.stringify(valid)), alice)).toEqual({ call: 'call-1', nonce: 'n-1', exp: valid.exp });
  });

  it('forgets a used nonce as soon as its state expires, at its expiry exactly', () => {
    let now = 1_000_000;
    const codec = new RequestStateCodec(KEY, () => now);
    codec.open(codec.mint(alice, 'a', TTL), alice);
    now += TTL;
    codec.open(codec.mint(alice, 'b', TTL), alice);
    expect((codec as unknown as { used: Map<string, number> }).used.size).toBe(1);
  });

  it('wants a key of at least 32 bytes', () => {
    expect(() => new RequestStateCodec(Buffer.alloc(31))).toThrow('a requestState key needs 32 bytes, got 31');
    expect(new RequestStateCodec(Buffer.alloc(48, 1)).mint(alice, 'c', TTL)).toContain('.');
  });

  it('gives each process key its own states', () => {
    const one = RequestStateCodec.ephemeral();
    const two = RequestStateCodec.ephemeral();
    expect(one.open(one.mint(alice, 'c', TTL), alice).call).toBe('c');
    expect(refusal(() => two.open(one.mint(alice, 'c', TTL), alice))).toBe('forged');
  });

  it('keeps the daemon key under the data dir, and falls back to a process key, with a warning, when it cannot', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ destination, level: 'warn' });
    const dir = mkdtempSync(join(tmpdir(), 'mcp-orch-key-'));
    const state = RequestStateCodec.forDataDir(dir, log).mint(alice, 'c', TTL);
    expect(readFileSync(join(dir, REQUEST_STATE_KEY_FILE))).toHaveLength(32);
    expect(RequestStateCodec.forDataDir(dir, log).open(state, alice).call).toBe('c');
    expect(refusal(() => RequestStateCodec.forDataDir(undefined, log).open(state, alice))).toBe('forged');
    expect(lines).toEqual([]);

    // A data dir that is a file: no key file can live under it.
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const fallback = RequestStateCodec.forDataDir(file, log);
    expect(fallback.open(fallback.mint(alice, 'd', TTL), alice).call).toBe('d');
    expect(lines).toHaveLength(1);
    const warning = JSON.parse(lines[0]!) as { level: number; path: string; err: string; msg: string };
    expect(warning).toMatchObject({ level: 40, path: join(file, REQUEST_STATE_KEY_FILE) });
    expect(warning.err).toMatch(/ENOTDIR/);
    expect(warning.msg).toBe('cannot use the requestState key file; using a key for this process only');
    rmSync(dir, { recursive: true, force: true });
  });
});
