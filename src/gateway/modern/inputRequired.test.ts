import { getEventListeners } from 'node:events';
import type { Request, Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it, vi } from 'vitest';
import { localPrincipal } from '../../auth/policy.js';
import { createLogger } from '../../log.js';
import type { Upstream } from '../../upstream/upstream.js';
import { jsonRpcErrorOf, OrchError } from '../../errors.js';
import type { Caller } from '../caller.js';
import { ServerRequestRouter, type Peer } from '../serverRequests.js';
import { InputBridge, type BridgedCall } from './inputRequired.js';
import { RequestStateCodec } from './requestState.js';

const upstream = { name: 'legacy' } as Upstream;
const binding = { caller: 'server:legacy|anonymous', request: 'tools/call legacy greet' };
const everything = { sampling: {}, elicitation: {}, roots: {} };

/** A 2025 server's handler: `ask` sends a server->client request (on the call's own signal unless given one). */
type Handler = (ask: (request: Request, signal?: AbortSignal) => Promise<Result>, signal: AbortSignal) => Promise<Result>;

function setup(ttlMs = 60_000, route?: (peer: Peer) => Peer['request']) {
  const bridge = new InputBridge({
    codec: new RequestStateCodec(Buffer.alloc(32, 1)),
    logger: createLogger({ level: 'silent' }),
    ttlMs,
  });
  let started = 0;
  /** One round: the server's handler runs on the first, later rounds carry answers and the state. */
  const round = (
    handler: Handler,
    params: Record<string, unknown> = {},
    capabilities: object = everything,
    signal = new AbortController().signal,
  ): Promise<Result> => {
    const call: BridgedCall = {
      upstream,
      binding,
      capabilities,
      params,
      signal,
      onprogress: undefined,
      start: (callSignal, _onprogress, peer: Peer) => {
        started++;
        const send = route ? route(peer) : peer.request;
        return handler((request, askSignal) => send(request, askSignal ?? callSignal), callSignal);
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
const sampling: Request = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } };
const roots: Request = { method: 'roots/list', params: {} };
const url: Request = {
  method: 'elicitation/create',
  params: { mode: 'url', message: 'sign in', url: 'https://example.com/in', elicitationId: 'e1' },
};
/** A handler that asks one thing and returns the answer. */
const asking =
  (request: Request): Handler =>
  async (ask) => ({ content: [], answer: await ask(request) });

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
    let toServer: unknown;
    const sample: Handler = async (ask, signal) => {
      signal.addEventListener('abort', () => (cancelled = true));
      toServer = await outcomeOf(ask({ method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } }));
      return { content: [] };
    };
    const error = await outcomeOf(round(sample, {}, { elicitation: {} }));
    const message =
      'Missing required client capability: server "legacy" sent sampling/createMessage ' +
      'and the client did not declare "sampling" in io.modelcontextprotocol/clientCapabilities';
    expect(error).toBeInstanceOf(OrchError);
    expect([jsonRpcErrorOf(error, 'modern').code, (error as OrchError).message]).toEqual([-32021, message]);
    expect((error as OrchError).data).toEqual({ requiredCapabilities: { sampling: {} } });
    // The server's own request fails as a method its client does not have.
    expect([(toServer as OrchError).code, (toServer as OrchError).message]).toEqual(['METHOD_NOT_FOUND', `mcp-orch: ${message}`]);
    expect(cancelled).toBe(true);
    expect(bridge.size).toBe(0);
  });

  it('cancels a waiting request whose client does not come back before the state expires', async () => {
    // The clock is the test's: the state's expiry and the bridge's timer both read it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { round, bridge } = setup(2_000);
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
      await vi.advanceTimersByTimeAsync(1_999);
      expect(bridge.size).toBe(1);
      expect(upstreamError).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(bridge.size).toBe(0);
      expect((upstreamError as OrchError).message).toBe('mcp-orch: the client did not come back within 2s');
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
    expect(forged.message).toBe(
      'Invalid params: requestState refused (forged): requestState failed its integrity check (forged or altered)',
    );
  });

  it('answers with the server’s own error when its request fails', async () => {
    const { round, bridge } = setup();
    const crash = new Error('tool crashed');
    const failing: Handler = async (ask) => {
      await ask(elicit('ok?'));
      throw crash;
    };
    const first = await round(failing);
    const accepted = { elicitation_1: { action: 'accept', content: {} } };
    expect(await outcomeOf(round(failing, { requestState: first.requestState, inputResponses: accepted }))).toBe(crash);
    expect(bridge.size).toBe(0);
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

  it('cancels every waiting call when the gateway shuts down, and refuses their states as gone', async () => {
    const { round, bridge } = setup();
    let report!: (seen: unknown) => void;
    const seen = new Promise((resolve) => (report = resolve));
    const waits: Handler = async (ask, signal) => {
      const error = await outcomeOf(ask(elicit('still there?')));
      report([signal.aborted, (error as OrchError).code, (error as OrchError).message]);
      return { content: [] };
    };
    const first = await round(waits);
    expect(bridge.size).toBe(1);
    bridge.close();
    expect(bridge.size).toBe(0);
    expect(await seen).toEqual([true, 'INTERNAL', 'mcp-orch: the gateway is shutting down']);
    const gone = (await outcomeOf(round(waits, { requestState: first.requestState, inputResponses: {} }))) as OrchError;
    expect([jsonRpcErrorOf(gone, 'modern').code, gone.data]).toEqual([-32602, { reason: 'gone' }]);
    expect(gone.message).toBe(
      'Invalid params: requestState refused (gone): the request it resumes is no longer waiting ' +
        '(cancelled, finished, or the gateway restarted); call again without requestState',
    );
  });

  it('cancels the upstream request when the client closes its request, and refuses what the server asks after', async () => {
    const { round, bridge } = setup();
    const client = new AbortController();
    let report!: (seen: unknown) => void;
    const seen = new Promise((resolve) => (report = resolve));
    const slow: Handler = async (ask, signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      // A refusal settles at once; an ask that was let through would still be pending on the next turn.
      const pending = new Promise((resolve) => setImmediate(() => resolve('still pending')));
      const late = await Promise.race([outcomeOf(ask(elicit('late?'))), pending]);
      report([(signal.reason as Error).message, late instanceof OrchError ? [late.code, late.message] : late]);
      return { content: [{ type: 'text', text: 'finished anyway' }] };
    };
    const answer = outcomeOf(round(slow, {}, everything, client.signal));
    client.abort();
    const error = (await answer) as OrchError;
    expect([error.code, error.message]).toEqual(['INTERNAL', 'mcp-orch: the request was cancelled']);
    expect(await seen).toEqual(['the client closed the request', ['INTERNAL', 'mcp-orch: the client request this belongs to has ended']]);
    expect(bridge.size).toBe(0);
  });

  it('keeps the call waiting when an earlier round’s request closes after its answer', async () => {
    const { round, bridge } = setup();
    const firstRequest = new AbortController();
    const first = await round(asking(elicit('ok?')), {}, everything, firstRequest.signal);
    firstRequest.abort();
    expect(bridge.size).toBe(1);
    const answer = { action: 'accept', content: { v: 'yes' } };
    expect(await round(asking(elicit('ok?')), { requestState: first.requestState, inputResponses: { elicitation_1: answer } })).toEqual({
      content: [],
      answer,
    });
  });

  it('drops a request the server cancels from the next round, and leaves no listener on the signals of its requests', async () => {
    const { round } = setup();
    const dropped = new AbortController();
    const answered = new AbortController();
    let cancel!: () => void;
    const serverCancels = new Promise<void>((resolve) => (cancel = resolve));
    const changesItsMind: Handler = async (ask) => {
      const first = outcomeOf(ask(elicit('name?'), dropped.signal));
      await serverCancels;
      dropped.abort();
      const error = (await first) as OrchError;
      const answer = await ask(elicit('nickname?'), answered.signal);
      const listeners = [getEventListeners(dropped.signal, 'abort').length, getEventListeners(answered.signal, 'abort').length];
      return { content: [], error: [error.code, error.message], answer, listeners };
    };
    const first = await round(changesItsMind);
    expect(first.inputRequests).toEqual({ elicitation_1: elicit('name?') });
    cancel();
    const second = await round(changesItsMind, { requestState: first.requestState });
    expect(second.inputRequests).toEqual({ elicitation_2: elicit('nickname?') });
    const answer = { action: 'accept', content: { v: 'Ace' } };
    expect(await round(changesItsMind, { requestState: second.requestState, inputResponses: { elicitation_2: answer } })).toEqual({
      content: [],
      error: ['INTERNAL', 'mcp-orch: elicitation/create was cancelled by the server'],
      answer,
      listeners: [0, 0],
    });
  });

  it('answers a ping itself, and refuses a server request that has no 2026 input request', async () => {
    const { round } = setup();
    const asksOddly: Handler = async (ask) => {
      const pong = await ask({ method: 'ping' });
      const refused = (await outcomeOf(ask({ method: 'tasks/list', params: {} }))) as OrchError;
      return { content: [], pong, refused: [refused.code, refused.message] };
    };
    expect(await round(asksOddly)).toEqual({
      content: [],
      pong: {},
      refused: [
        'METHOD_NOT_FOUND',
        'mcp-orch: server "legacy" sent tasks/list, which has no 2026-07-28 input request; ' +
          'only sampling/createMessage, elicitation/create and roots/list cross to a 2026-07-28 client',
      ],
    });
  });

  it('answers with the result, or the refusal, that comes while requests sent together are gathered', async () => {
    const { round } = setup();
    const doesNotWait: Handler = async (ask) => {
      void outcomeOf(ask(elicit('never mind')));
      return { content: [{ type: 'text', text: 'done without it' }] };
    };
    expect(await round(doesNotWait)).toEqual({ content: [{ type: 'text', text: 'done without it' }] });
    const thenUndeclared: Handler = async (ask) => {
      const sample = outcomeOf(ask(sampling));
      await Promise.resolve();
      await outcomeOf(ask(url));
      return { content: [], sample: await sample };
    };
    const refused = (await outcomeOf(round(thenUndeclared, {}, { sampling: {}, elicitation: {} }))) as OrchError;
    expect([jsonRpcErrorOf(refused, 'modern').code, refused.data]).toEqual([
      -32021,
      { requiredCapabilities: { elicitation: { url: {} } } },
    ]);
  });

  it.each([
    { asked: 'roots/list', request: roots, declared: { sampling: {} }, required: { roots: {} }, label: '"roots"' },
    {
      asked: 'a URL elicitation',
      request: url,
      declared: { elicitation: { form: {} } },
      required: { elicitation: { url: {} } },
      label: '"elicitation" with "url"',
    },
    { asked: 'a URL elicitation', request: url, declared: {}, required: { elicitation: { url: {} } }, label: '"elicitation" with "url"' },
    {
      asked: 'a form elicitation',
      request: elicit('name?'),
      declared: { elicitation: { url: {} } },
      required: { elicitation: { form: {} } },
      label: '"elicitation" with "form"',
    },
  ])('answers -32021 for $asked when the client declared $declared', async ({ request, declared, required, label }) => {
    const { round } = setup();
    const refused = (await outcomeOf(round(asking(request), {}, declared))) as OrchError;
    expect([jsonRpcErrorOf(refused, 'modern').code, refused.data]).toEqual([-32021, { requiredCapabilities: required }]);
    expect(refused.message).toContain(`sent ${request.method} and the client did not declare ${label} in`);
  });

  it.each([
    { asked: 'roots/list', request: roots, declared: { roots: {} } },
    { asked: 'a URL elicitation', request: url, declared: { elicitation: { url: {} } } },
    { asked: 'a form elicitation', request: elicit('name?'), declared: { elicitation: { form: {} } } },
  ])('asks $asked of a client that declared $declared', async ({ request, declared }) => {
    const { round } = setup();
    expect((await round(asking(request), {}, declared)).inputRequests).toEqual({ [`${String(request.method.split('/')[0])}_1`]: request });
  });

  it('takes server requests from the gateway’s router whatever the client declared, to answer -32021 itself', async () => {
    const router = new ServerRequestRouter();
    const caller: Caller = {
      id: 'c1',
      era: '2026-07-28',
      transport: 'streamable-http',
      endpoint: 'legacy',
      principal: localPrincipal('default'),
    };
    const { round } = setup(60_000, (peer) => {
      router.track(upstream, caller, peer);
      return (request, signal) => router.route(upstream, request, signal);
    });
    expect((await round(asking(sampling), {}, { sampling: {} })).inputRequests).toEqual({ sampling_1: sampling });
    const refused = await outcomeOf(round(asking(sampling), {}, { elicitation: {} }));
    expect(jsonRpcErrorOf(refused, 'modern').code).toBe(-32021);
  });
});
