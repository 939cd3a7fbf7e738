import type { ClientCapabilities, Result } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import { CAPABILITY_FOR } from './constants.js';
import type { Params } from './forward.js';

/** Rounds after which a server that keeps answering input_required is given up on. */
export const MAX_INPUT_ROUNDS = 10;

export interface InputRoundsOptions {
  /** The server, for errors. */
  server: string;
  /** What the 2025 client declared at initialize. */
  capabilities: ClientCapabilities | undefined;
  /** Sends one server->client request to the 2025 client (on the stream of its own request). */
  ask(request: { method: string; params: Params }): Promise<Result>;
  /** Sends the original request again with the answers and the server's requestState. */
  retry(inputResponses: Record<string, Result>, requestState: string | undefined): Promise<Result>;
  maxRounds?: number;
}

/**
 * For a 2025 client whose request a 2026 server answered with input_required: each input request
 * becomes the matching server->client request to the client (sampling, elicitation, roots), the
 * answers go back under their keys with the requestState echoed, round after round, until the
 * server's result is complete. Returns that result without `resultType`, as a 2025 client expects it.
 */
export async function settleInputRequired(first: Result, options: InputRoundsOptions): Promise<Result> {
  let result = first;
  const maxRounds = options.maxRounds ?? MAX_INPUT_ROUNDS;
  for (let round = 1; result.resultType === 'input_required'; round++) {
    if (round > maxRounds) {
      throw new OrchError('INTERNAL', `mcp-orch: server "${options.server}" still asked for input after ${maxRounds} rounds`);
    }
    const requests = Object.entries((result.inputRequests ?? {}) as Record<string, { method?: unknown; params?: unknown }>);
    for (const [key, request] of requests) {
      const method = String(request?.method);
      const capability = CAPABILITY_FOR[method];
      if (!capability) {
        throw new OrchError(
          'METHOD_NOT_FOUND',
          `mcp-orch: server "${options.server}" asked for input "${key}" with ${method}, which has no 2025-11-25 server->client request`,
        );
      }
      if (!options.capabilities?.[capability]) {
        throw new OrchError(
          'CLIENT_REQUEST_REFUSED',
          `mcp-orch: server "${options.server}" needs ${method}, but the client did not declare the "${capability}" capability`,
        );
      }
    }
    const answers = await Promise.all(
      requests.map(
        async ([key, request]) =>
          [key, await options.ask({ method: String(request.method), params: (request.params ?? {}) as Params })] as const,
      ),
    );
    const state = typeof result.requestState === 'string' ? result.requestState : undefined;
    result = await options.retry(Object.fromEntries(answers), state);
  }
  const { resultType: _resultType, ...complete } = result;
  return complete as Result;
}
