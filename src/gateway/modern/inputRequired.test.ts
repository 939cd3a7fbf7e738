import { describe, expect, it } from 'vitest';
import { localPrincipal } from '../../auth/policy.js';
import { jsonRpcErrorOf, OrchError } from '../../errors.js';
import type { Caller } from '../caller.js';
import { ServerRequestRouter } from '../serverRequests.js';
import {
  asking,
  bridgeHarness,
  elicit,
  outcomeOf,
  roots,
  sampling,
  upstream,
  url,
  type Handler,
} from '../../../test/helpers/inputBridge.js';

describe('InputBridge', () => {
  it('turns a server request into input_required and resumes the waiting request with the answer, round after round', async () => {
    const { bridge, round, starts } = bridgeHarness();
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
    const { round } = bridgeHarness();
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
    const { round, bridge } = bridgeHarness();
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

  it('refuses a replayed or forged state with -32602 naming why', async () => {
    const { round } = bridgeHarness();
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

  it('refuses inputResponses that is not an object without using up the state, and asks again for answers that are not results', async () => {
    const { round } = bridgeHarness();
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

  it('answers a ping itself, and refuses a server request that has no 2026 input request', async () => {
    const { round } = bridgeHarness();
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
    const { round } = bridgeHarness();
    const refused = (await outcomeOf(round(asking(request), {}, declared))) as OrchError;
    expect([jsonRpcErrorOf(refused, 'modern').code, refused.data]).toEqual([-32021, { requiredCapabilities: required }]);
    expect(refused.message).toContain(`sent ${request.method} and the client did not declare ${label} in`);
  });

  it.each([
    { asked: 'roots/list', request: roots, declared: { roots: {} } },
    { asked: 'a URL elicitation', request: url, declared: { elicitation: { url: {} } } },
    { asked: 'a form elicitation', request: elicit('name?'), declared: { elicitation: { form: {} } } },
  ])('asks $asked of a client that declared $declared', async ({ request, declared }) => {
    const { round } = bridgeHarness();
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
    const { round } = bridgeHarness(60_000, (peer) => {
      router.track(upstream, caller, peer);
      return (request, signal) => router.route(upstream, request, signal);
    });
    expect((await round(asking(sampling), {}, { sampling: {} })).inputRequests).toEqual({ sampling_1: sampling });
    const refused = await outcomeOf(round(asking(sampling), {}, { elicitation: {} }));
    expect(jsonRpcErrorOf(refused, 'modern').code).toBe(-32021);
  });
});
