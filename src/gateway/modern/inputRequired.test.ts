import type { Request, Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../log.js';
import type { Upstream } from '../../upstream/upstream.js';
import { jsonRpcErrorOf, OrchError } from '../../errors.js';
import type { Peer } from '../serverRequests.js';
import { InputBridge, type BridgedCall } from './inputRequired.js';
import { RequestStateCodec } from './requestState.js';

const upstream = { name: 'legacy' } as Upstream;
const binding = { caller: 'server:legacy|anonymous', request: 'tools/call legacy greet' };
const everything = { sampling: {}, elicitation: {}, roots: {} };

type Handler = (ask: (request: Request) => Promise<Result>, signal: AbortSignal) => Promise<Result>;

function setup(ttlMs = 60_000) {
  const bridge = new InputBridge({
    codec: new RequestStateCodec(Buffer.alloc(32, 1)),
    logger: createLogger({ level: 'silent' }),
    ttlMs,
  });
  let started = 0;
  /** One round: the server's handler runs on the first, later rounds carry answers and the state. */
  const round = (handler: Handler, params: Record<string, unknown> = {}, capabilities: object = everything): Promise<Result> => {
    const call: BridgedCall = {
      upstream,
      binding,
      capabilities,
      params,
      signal: new AbortController().signal,
      onprogress: undefined,
      start: (signal, _onprogress, peer: Peer) => {
        started++;
        return handler((request) => peer.request(request, signal), signal);
      },
    };
    return bridge.call(call);
  };
  return { bridge, round, starts: () => started };
}

/** What a promise settled to, for asserting on a rejection. */
const outcomeOf = (promise: Promise<unknown>): Promise<unknown> => promise.catch((e: unknown) => e);

const elicit = (message: string): Request => ({
  method: 'elicitation/create',
  params: { mode: 'form', message, requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } },
});

describe('InputBridge', () => {
  it('turns a server request into input_required and resumes the waiting request with the answer, round after round', async () => {
    const { bridge, round, starts } = setup();
    const greet: Handler = async (ask) => {
      const name = (await ask(elicit('name?'))) as { content: { v: string } };
      const color = (await ask(elicit('color?'))) as { content: { v: string } };
      return { content: [{ type: 'text', text: `${name.content.v} likes ${color.content.v}` }] };
    };
    const first = await round(greet);
    expect(first.resultType).toBe('input_required');
    expect(first.inputRequests).toEqual({ elicitation_1: elicit('name?') });
    const second = await round(greet, {
      requestState: first.requestState,
      inputResponses: { elicitation_1: { action: 'accept', content: { v: 'Ada' } } },
    });
    expect(second.resultType).toBe('input_required');
    expect(Object.keys(second.inputRequests as object)).toEqual(['elicitation_2']);
    const third = await round(greet, {
      requestState: second.requestState,
      inputResponses: { elicitation_2: { action: 'accept', content: { v: 'teal' } } },
    });
    expect(third).toEqual({ content: [{ type: 'text', text: 'Ada likes teal' }] });
    expect(starts()).toBe(1);
    expect(bridge.size).toBe(0);
  });

  it('gathers requests the server sends together, and asks again for an answer that is missing', async () => {
    const { round } = setup();
    const both: Handler = async (ask) => {
      const [sample, roots] = await Promise.all([
        ask({ method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } }),
        ask({ method: 'roots/list', params: {} }),
      ]);
      return { content: [{ type: 'text', text: JSON.stringify([sample.model, (roots.roots as unknown[]).length]) }] };
    };
    const first = await round(both);
    expect(Object.keys(first.inputRequests as object).sort()).toEqual(['roots_2', 'sampling_1']);
    const partial = await round(both, { requestState: first.requestState, inputResponses: { roots_2: { roots: [{ uri: 'file:///a' }] } } });
    expect(Object.keys(partial.inputRequests as object)).toEqual(['sampling_1']);
    const done = await round(both, {
      requestState: partial.requestState,
      inputResponses: { sampling_1: { role: 'assistant', model: 'm1', content: { type: 'text', text: 'x' } } },
    });
    expect(done).toEqual({ content: [{ type: 'text', text: '["m1",1]' }] });
  });

  it('answers -32021 naming the capability the client did not declare, and cancels the upstream request', async () => {
    const { round, bridge } = setup();
    let cancelled = false;
    const sample: Handler = async (ask, signal) => {
      signal.addEventListener('abort', () => (cancelled = true));
      await ask({ method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } }).catch(() => undefined);
      return { content: [] };
    };
    const error = await round(sample, {}, { elicitation: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrchError);
    expect(jsonRpcErrorOf(error, 'modern').code).toBe(-32021);
    expect((error as OrchError).data).toEqual({ requiredCapabilities: { sampling: {} } });
    expect(cancelled).toBe(true);
    expect(bridge.size).toBe(0);
  });

  it('cancels a waiting request whose client does not come back before the state expires', async () => {
    // The clock is the test's: the state's expiry and the bridge's timer both read it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { round, bridge } = setup(50);
    let upstreamError: unknown;
    const waitsForever: Handler = async (ask, signal) => {
      try {
        await ask(elicit('anyone?'));
      } catch (error) {
        upstreamError = error;
      }
      expect(signal.aborted).toBe(true);
      return { content: [] };
    };
    try {
      const pending = round(waitsForever);
      await vi.runOnlyPendingTimersAsync(); // the short gathering of requests sent together
      const first = await pending;
      expect(first.resultType).toBe('input_required');
      expect(bridge.size).toBe(1);
      await vi.advanceTimersByTimeAsync(49);
      expect(bridge.size).toBe(1);
      expect(upstreamError).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(bridge.size).toBe(0);
      expect(String(upstreamError)).toContain('did not come back');
      const late = await round(waitsForever, { requestState: first.requestState, inputResponses: {} }).catch((e: unknown) => e);
      expect((late as OrchError).data).toEqual({ reason: 'expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a replayed or forged state with -32602 naming why', async () => {
    const { round } = setup();
    const once: Handler = async (ask) => {
      await ask(elicit('ok?'));
      return { content: [] };
    };
    const first = await round(once);
    await round(once, { requestState: first.requestState, inputResponses: { elicitation_1: { action: 'accept', content: {} } } });
    const replayed = (await round(once, { requestState: first.requestState }).catch((e: unknown) => e)) as OrchError;
    expect([jsonRpcErrorOf(replayed, 'modern').code, replayed.data]).toEqual([-32602, { reason: 'replayed' }]);
    const forged = (await round(once, { requestState: 'e30.AAAA' }).catch((e: unknown) => e)) as OrchError;
    expect([jsonRpcErrorOf(forged, 'modern').code, forged.data]).toEqual([-32602, { reason: 'forged' }]);
  });

  it('refuses inputResponses that is not an object without using up the state, and asks again for answers that are not results', async () => {
    const { round } = setup();
    const once: Handler = async (ask) => ({ content: [], answer: await ask(elicit('ok?')) });
    const first = await round(once);
    for (const inputResponses of [null, [{ action: 'accept' }], 'accept']) {
      const refused = await outcomeOf(round(once, { requestState: first.requestState, inputResponses }));
      expect([jsonRpcErrorOf(refused, 'modern').code, (refused as OrchError).message]).toEqual([
        -32602,
        'Invalid params: inputResponses must be an object keyed like inputRequests',
      ]);
    }
    let state = first.requestState;
    for (const inputResponses of [undefined, { elicitation_1: 'accept' }, { elicitation_1: [{ action: 'accept' }] }]) {
      const again = await round(once, { requestState: state, ...(inputResponses === undefined ? {} : { inputResponses }) });
      expect(again.inputRequests).toEqual({ elicitation_1: elicit('ok?') });
      state = again.requestState;
    }
    const answer = { action: 'decline' };
    expect(await round(once, { requestState: state, inputResponses: { elicitation_1: answer } })).toEqual({ content: [], answer });
  });
});
