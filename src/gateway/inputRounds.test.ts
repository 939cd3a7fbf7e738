import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { settleInputRequired } from './inputRounds.js';

const elicit = (message: string) => ({
  method: 'elicitation/create',
  params: { mode: 'form', message, requestedSchema: { type: 'object', properties: {} } },
});

describe('settleInputRequired', () => {
  it('asks the 2025 client each input request and retries with the answers and the state, round after round', async () => {
    const asked: string[] = [];
    const retries: Array<{ inputResponses: Record<string, Result>; requestState: string | undefined }> = [];
    const rounds: Result[] = [
      { resultType: 'input_required', inputRequests: { step2: elicit('color?') }, requestState: 's2' },
      { resultType: 'complete', content: [{ type: 'text', text: 'done' }] },
    ];
    const result = await settleInputRequired(
      {
        resultType: 'input_required',
        inputRequests: { step1: elicit('name?'), sample: { method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } } },
        requestState: 's1',
      },
      {
        server: 'modern',
        capabilities: { elicitation: {}, sampling: {} },
        ask: async (request) => {
          asked.push(request.method === 'elicitation/create' ? String(request.params.message) : request.method);
          return request.method === 'elicitation/create'
            ? { action: 'accept', content: { v: asked.length } }
            : { role: 'assistant', model: 'm', content: { type: 'text', text: 'x' } };
        },
        retry: async (inputResponses, requestState) => {
          retries.push({ inputResponses, requestState });
          return rounds.shift()!;
        },
      },
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(asked).toEqual(['name?', 'sampling/createMessage', 'color?']);
    expect(retries.map((retry) => [Object.keys(retry.inputResponses).sort(), retry.requestState])).toEqual([
      [['sample', 'step1'], 's1'],
      [['step2'], 's2'],
    ]);
  });

  it('names the capability the 2025 client lacks, and input a 2025 client cannot be asked for', async () => {
    const options = { server: 'modern', capabilities: { elicitation: {} }, ask: async () => ({}), retry: async () => ({}) };
    await expect(
      settleInputRequired(
        { resultType: 'input_required', inputRequests: { s: { method: 'sampling/createMessage', params: {} } } },
        options,
      ),
    ).rejects.toThrow(/needs sampling\/createMessage, but the client did not declare the "sampling" capability/);
    await expect(
      settleInputRequired({ resultType: 'input_required', inputRequests: { t: { method: 'tasks/get', params: {} } } }, options),
    ).rejects.toThrow(/tasks\/get, which has no 2025-11-25 server->client request/);
  });

  it('refuses with the code a client can act on, also for a client that declared nothing and input that is not a request', async () => {
    const options = { server: 'modern', capabilities: undefined, ask: async () => ({}), retry: async () => ({}) };
    const refusal = (inputRequests: object) =>
      settleInputRequired({ resultType: 'input_required', inputRequests }, options).catch((error: unknown) => error);
    expect(await refusal({ s: elicit('name?') })).toMatchObject({
      code: 'CLIENT_REQUEST_REFUSED',
      message: 'mcp-orch: server "modern" needs elicitation/create, but the client did not declare the "elicitation" capability',
    });
    expect(await refusal({ odd: null })).toMatchObject({
      code: 'METHOD_NOT_FOUND',
      message: 'mcp-orch: server "modern" asked for input "odd" with undefined, which has no 2025-11-25 server->client request',
    });
  });

  it('gives up on a server that never stops asking, after the rounds it is allowed', async () => {
    const again: Result = { resultType: 'input_required', requestState: 'again' };
    let retries = 0;
    const retry = async () => {
      retries++;
      return again;
    };
    const error = await settleInputRequired(again, { server: 'loop', capabilities: {}, ask: async () => ({}), retry, maxRounds: 3 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'INTERNAL', message: 'mcp-orch: server "loop" still asked for input after 3 rounds' });
    expect(retries).toBe(3);
  });

  it('echoes only a requestState that is a string', async () => {
    const states: unknown[] = [];
    const result = await settleInputRequired(
      { resultType: 'input_required', inputRequests: {}, requestState: 7 },
      {
        server: 'odd',
        capabilities: {},
        ask: async () => ({}),
        retry: async (_answers, state) => {
          states.push(state);
          return { resultType: 'complete' };
        },
      },
    );
    expect(result).toEqual({});
    expect(states).toEqual([undefined]);
  });
});
