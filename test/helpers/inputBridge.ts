/** The 2026 input-round bridge over a scripted 2025 server handler, for unit tests of src/gateway/modern/inputRequired.ts. */
import type { Request, Result } from '@modelcontextprotocol/sdk/types.js';
import { InputBridge, type BridgedCall } from '../../src/gateway/modern/inputRequired.js';
import { RequestStateCodec } from '../../src/gateway/modern/requestState.js';
import type { Peer } from '../../src/gateway/serverRequests.js';
import { createLogger } from '../../src/log.js';
import type { Upstream } from '../../src/upstream/upstream.js';

export const upstream = { name: 'legacy' } as Upstream;
export const everything = { sampling: {}, elicitation: {}, roots: {} };

/** A 2025 server's handler: `ask` sends a server->client request (on the call's own signal unless given one). */
export type Handler = (ask: (request: Request, signal?: AbortSignal) => Promise<Result>, signal: AbortSignal) => Promise<Result>;

/** A bridge, and `round` to send one round of a call to it; `route` puts something (the gateway's router) between the server and the bridge. */
export function bridgeHarness(ttlMs = 60_000, route?: (peer: Peer) => Peer['request']) {
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
      binding: { caller: 'server:legacy|anonymous', request: 'tools/call legacy greet' },
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
export const outcomeOf = (promise: Promise<unknown>): Promise<unknown> => promise.catch((e: unknown) => e);

/** What a promise settled to by the next turn of the event loop, or 'still pending'. */
export const soon = (promise: Promise<unknown>): Promise<unknown> =>
  Promise.race([outcomeOf(promise), new Promise((resolve) => setImmediate(() => resolve('still pending')))]);

export const elicit = (message: string): Request => ({
  method: 'elicitation/create',
  params: { mode: 'form', message, requestedSchema: { type: 'object', properties: { v: { type: 'string' } } } },
});
export const sampling: Request = { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } };
export const roots: Request = { method: 'roots/list', params: {} };
export const url: Request = {
  method: 'elicitation/create',
  params: { mode: 'url', message: 'sign in', url: 'https://example.com/in', elicitationId: 'e1' },
};

/** A handler that asks one thing and returns the answer. */
export const asking =
  (request: Request): Handler =>
  async (ask) => ({ content: [], answer: await ask(request) });
