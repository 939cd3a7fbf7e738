import { getEventListeners } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { OrchError, jsonRpcErrorOf } from '../../errors.js';
import {
  asking,
  bridgeHarness,
  elicit,
  everything,
  outcomeOf,
  sampling,
  soon,
  url,
  type Handler,
} from '../../../test/helpers/inputBridge.js';

describe('InputBridge: how a call ends', () => {
  it('cancels a waiting request whose client does not come back before the state expires', async () => {
    // The clock is the test's: the state's expiry and the bridge's timer both read it.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { round, bridge } = bridgeHarness(2_000);
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

  it('answers with the server’s own error when its request fails', async () => {
    const { round, bridge } = bridgeHarness();
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

  it('cancels every waiting call when the gateway shuts down, and refuses their states as gone', async () => {
    const { round, bridge } = bridgeHarness();
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
    const { round, bridge } = bridgeHarness();
    const client = new AbortController();
    let report!: (seen: unknown) => void;
    const seen = new Promise((resolve) => (report = resolve));
    const slow: Handler = async (ask, signal) => {
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      // A refusal settles at once; an ask that was let through would still be pending.
      const late = await soon(ask(elicit('late?')));
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
    const { round, bridge } = bridgeHarness();
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
    const { round } = bridgeHarness();
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

  it('answers with the result, or the refusal, that comes while requests sent together are gathered', async () => {
    const { round } = bridgeHarness();
    let unanswered: Promise<unknown> | undefined;
    const doesNotWait: Handler = async (ask) => {
      unanswered = outcomeOf(ask(elicit('never mind')));
      return { content: [{ type: 'text', text: 'done without it' }] };
    };
    expect(await round(doesNotWait)).toEqual({ content: [{ type: 'text', text: 'done without it' }] });
    // No round will carry its answer: the server's request fails rather than waiting forever.
    const ended = (await soon(unanswered!)) as OrchError;
    expect([ended.code, ended.message]).toEqual(['INTERNAL', 'mcp-orch: the client request this belongs to has ended']);
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
});
