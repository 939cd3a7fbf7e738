import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RequestStateCodec, RequestStateError, type RequestStateBinding } from './requestState.js';

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

  it('forgets used nonces once they expire', () => {
    let now = 1_000_000;
    const codec = new RequestStateCodec(KEY, () => now);
    codec.open(codec.mint(alice, 'a', TTL), alice);
    now += 2 * TTL;
    codec.open(codec.mint(alice, 'b', TTL), alice);
    expect((codec as unknown as { used: Map<string, number> }).used.size).toBe(1);
  });

  it('keeps its key in a 0600 file that a second codec reuses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-orch-key-'));
    const path = join(dir, 'data', 'request-state.key');
    const first = RequestStateCodec.fromKeyFile(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path)).toHaveLength(32);
    const state = first.mint(alice, 'call-1', TTL);
    expect(RequestStateCodec.fromKeyFile(path).open(state, alice).call).toBe('call-1');
    writeFileSync(path, 'short');
    expect(readFileSync(path)).toHaveLength(5);
    RequestStateCodec.fromKeyFile(path);
    expect(readFileSync(path)).toHaveLength(32);
  });
});
