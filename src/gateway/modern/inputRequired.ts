import { randomUUID } from 'node:crypto';
import type { ClientCapabilities, Request, Progress, Result } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Upstream } from '../../upstream/upstream.js';
import type { Params } from '../forward.js';
import type { Peer } from '../serverRequests.js';
import { RequestStateError, type RequestStateBinding, type RequestStateCodec } from './requestState.js';

/** Methods on which the 2026-07-28 revision allows an input_required result. */
export const INPUT_REQUIRED_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** Server->client requests of the 2025 protocol that cross as 2026 input requests, and the client capability each needs. */
const CROSSING: Record<string, { key: string; capability: keyof ClientCapabilities }> = {
  'sampling/createMessage': { key: 'sampling', capability: 'sampling' },
  'elicitation/create': { key: 'elicitation', capability: 'elicitation' },
  'roots/list': { key: 'roots', capability: 'roots' },
};

/** How long requests a server sends together are gathered into one input_required answer. */
const GATHER_MS = 20;

/** Why a server request fails once the call it belongs to is over. */
const ENDED = 'the client request this belongs to has ended';

export interface InputBridgeOptions {
  codec: RequestStateCodec;
  logger: Logger;
  /** How long a requestState stays valid, and a waiting upstream request waits for the client to come back. */
  ttlMs: number;
}

/** One 2026 request that a 2025 server is working on, across the client's rounds. */
export interface BridgedCall {
  upstream: Upstream;
  binding: RequestStateBinding;
  /** The client's capabilities, from the request's _meta. */
  capabilities: ClientCapabilities;
  /** The request's params as the client sent them: requestState and inputResponses are read from here. */
  params: Params;
  /** This round's HTTP request: its abort cancels the upstream request. */
  signal: AbortSignal;
  onprogress: ((progress: Progress) => void) | undefined;
  /**
   * Starts the upstream request (first round only) with the bridge's own abort signal, and the peer
   * its server->client requests are to go to: the bridge, which holds them for the next answer.
   */
  start(signal: AbortSignal, onprogress: (progress: Progress) => void, peer: Peer): Promise<Result>;
}

interface AskedInput {
  request: { method: string; params?: Params };
  resolve(result: Result): void;
  reject(error: Error): void;
}

interface Waiting {
  id: string;
  upstream: Upstream;
  capabilities: ClientCapabilities;
  abort: AbortController;
  asked: Map<string, AskedInput>;
  counter: number;
  outcome: { result: Result } | { error: unknown } | undefined;
  /** An error the client gets at once (a capability it did not declare). */
  failure: OrchError | undefined;
  progress: ((progress: Progress) => void) | undefined;
  wake: (() => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  done: boolean;
}

/**
 * Lets a 2026-07-28 client call a tool (or get a prompt, read a resource) of a 2025-11-25 server
 * whose handler asks its client for sampling, elicitation or roots. The upstream request is kept
 * waiting; the client is answered at once with an input_required result carrying those requests
 * and a signed requestState. Its retry, with the answers under the same keys, resumes the waiting
 * request (the answers go to the server), and the next round answers with the server's next
 * requests or its result. A call whose client never comes back is cancelled when its state expires.
 */
export class InputBridge {
  private readonly waiting = new Map<string, Waiting>();
  private readonly log: Logger;

  constructor(private readonly options: InputBridgeOptions) {
    // Stryker disable next-line ObjectLiteral,StringLiteral: the log context names the component in log lines; no behaviour depends on it
    this.log = options.logger.child({ component: 'input-required' });
  }

  /** One round of a bridged call: the first (no requestState) or a retry with answers. */
  async call(call: BridgedCall): Promise<Result> {
    const state = call.params.requestState;
    const waiting = state === undefined ? this.begin(call) : this.resume(call, state);
    return this.round(waiting, call);
  }

  private begin(call: BridgedCall): Waiting {
    const waiting: Waiting = {
      id: randomUUID(),
      upstream: call.upstream,
      capabilities: call.capabilities,
      abort: new AbortController(),
      asked: new Map(),
      counter: 0,
      outcome: undefined,
      failure: undefined,
      progress: undefined,
      wake: undefined,
      timer: undefined,
      done: false,
    };
    this.waiting.set(waiting.id, waiting);
    const peer: Peer = {
      // The bridge checks capabilities itself, to answer the 2026 client with -32021.
      capabilities: (): ClientCapabilities => ({
        sampling: {},
        // Stryker disable next-line ObjectLiteral: the router reads only which keys are present; the bridge checks elicitation's modes itself
        elicitation: { form: {}, url: {} },
        roots: {},
      }),
      request: (request, signal) => this.ask(waiting, request, signal),
    };
    call
      .start(waiting.abort.signal, (progress) => waiting.progress?.(progress), peer)
      .then(
        (result) => {
          waiting.outcome = { result };
        },
        (error: unknown) => {
          waiting.outcome = { error };
        },
      )
      .finally(() => this.wakeUp(waiting));
    return waiting;
  }

  /** Opens the client's requestState, and gives the server the answers it carried. */
  private resume(call: BridgedCall, state: unknown): Waiting {
    // Checked before the state is opened (which uses it up), so that a retry with proper answers can still resume.
    const responses = call.params.inputResponses;
    if (responses !== undefined && (typeof responses !== 'object' || responses === null || Array.isArray(responses))) {
      throw new OrchError('INVALID_PARAMS', 'Invalid params: inputResponses must be an object keyed like inputRequests');
    }
    let claims;
    try {
      claims = this.options.codec.open(state, call.binding);
    } catch (error) {
      if (error instanceof RequestStateError) {
        throw new OrchError('INVALID_PARAMS', `Invalid params: requestState refused (${error.reason}): ${error.message}`, {
          data: { reason: error.reason },
        });
      }
      throw error;
    }
    const waiting = this.waiting.get(claims.call);
    if (!waiting || waiting.done) {
      throw new OrchError(
        'INVALID_PARAMS',
        'Invalid params: requestState refused (gone): the request it resumes is no longer waiting (cancelled, finished, or the gateway restarted); call again without requestState',
        { data: { reason: 'gone' } },
      );
    }
    for (const [key, asked] of waiting.asked) {
      const answer = (responses as Params | undefined)?.[key];
      // A missing answer is asked again in the next input_required result.
      if (!answer || typeof answer !== 'object' || Array.isArray(answer)) continue;
      waiting.asked.delete(key);
      asked.resolve(answer as Result);
    }
    return waiting;
  }

  /**
   * Waits until the server either finishes (its result) or asks something (input_required), while
   * this round's HTTP request is open; its abort cancels the upstream request.
   */
  private async round(waiting: Waiting, call: BridgedCall): Promise<Result> {
    clearTimeout(waiting.timer);
    waiting.progress = call.onprogress;
    const onAbort = (): void => this.cancel(waiting, 'the client closed the request');
    call.signal.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (waiting.failure) {
          this.cancel(waiting, waiting.failure.message);
          throw waiting.failure;
        }
        if (waiting.outcome) {
          this.finish(waiting);
          if ('error' in waiting.outcome) throw waiting.outcome.error;
          return waiting.outcome.result;
        }
        if (waiting.done) throw new OrchError('INTERNAL', 'mcp-orch: the request was cancelled');
        if (waiting.asked.size > 0) {
          // Requests a server sends together (Promise.all) go out in one answer.
          await new Promise((resolve) => setTimeout(resolve, GATHER_MS));
          if (waiting.outcome || waiting.failure) continue;
          return this.inputRequired(waiting, call.binding);
        }
        await new Promise<void>((resolve) => {
          waiting.wake = resolve;
        });
      }
    } finally {
      call.signal.removeEventListener('abort', onAbort);
      waiting.progress = undefined;
      waiting.wake = undefined;
    }
  }

  private inputRequired(waiting: Waiting, binding: RequestStateBinding): Result {
    const inputRequests = Object.fromEntries([...waiting.asked].map(([key, asked]) => [key, asked.request]));
    const ttlMs = this.options.ttlMs;
    waiting.timer = setTimeout(() => this.cancel(waiting, `the client did not come back within ${Math.round(ttlMs / 1000)}s`), ttlMs);
    waiting.timer.unref();
    return { resultType: 'input_required', inputRequests, requestState: this.options.codec.mint(binding, waiting.id, ttlMs) };
  }

  /** A server->client request of the waiting upstream request: becomes an input request of the next answer. */
  private ask(waiting: Waiting, request: Request, signal: AbortSignal): Promise<Result> {
    if (request.method === 'ping') return Promise.resolve({});
    const crossing = CROSSING[request.method];
    if (!crossing) {
      return Promise.reject(
        new OrchError(
          'METHOD_NOT_FOUND',
          `mcp-orch: server "${waiting.upstream.name}" sent ${request.method}, which has no 2026-07-28 input request; ` +
            'only sampling/createMessage, elicitation/create and roots/list cross to a 2026-07-28 client',
        ),
      );
    }
    if (waiting.done) return Promise.reject(new OrchError('INTERNAL', `mcp-orch: ${ENDED}`));
    const params = (request.params ?? {}) as Params;
    const missing = missingCapability(waiting.capabilities, request.method, params);
    if (missing) {
      const message =
        `Missing required client capability: server "${waiting.upstream.name}" sent ${request.method} ` +
        `and the client did not declare ${missing.label} in io.modelcontextprotocol/clientCapabilities`;
      waiting.failure = new OrchError('MISSING_CLIENT_CAPABILITY', message, { data: { requiredCapabilities: missing.required } });
      this.wakeUp(waiting);
      return Promise.reject(new OrchError('METHOD_NOT_FOUND', `mcp-orch: ${message}`));
    }
    return new Promise<Result>((resolve, reject) => {
      const key = `${crossing.key}_${++waiting.counter}`;
      const onAbort = (): void => {
        waiting.asked.delete(key);
        reject(new OrchError('INTERNAL', `mcp-orch: ${request.method} was cancelled by the server`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal.removeEventListener('abort', onAbort);
      const { _meta: _dropped, ...rest } = params;
      waiting.asked.set(key, {
        request: { method: request.method, params: rest },
        resolve: (result) => {
          done();
          resolve(result);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      this.wakeUp(waiting);
    });
  }

  private wakeUp(waiting: Waiting): void {
    const wake = waiting.wake;
    waiting.wake = undefined;
    wake?.();
  }

  /** Ends a call: server requests still unanswered fail, as no round will carry their answers (a server that did not wait for one). */
  private finish(waiting: Waiting, reason = ENDED): void {
    waiting.done = true;
    clearTimeout(waiting.timer);
    this.waiting.delete(waiting.id);
    for (const asked of waiting.asked.values()) asked.reject(new OrchError('INTERNAL', `mcp-orch: ${reason}`));
    waiting.asked.clear();
  }

  /** Ends a waiting call: its server requests fail and the upstream request is cancelled. */
  private cancel(waiting: Waiting, reason: string): void {
    if (waiting.done) return;
    this.finish(waiting, reason);
    // Stryker disable next-line ObjectLiteral,StringLiteral: debug log wording; no behaviour depends on it
    this.log.debug({ server: waiting.upstream.name, reason }, 'waiting request cancelled');
    waiting.abort.abort(new Error(reason));
    this.wakeUp(waiting);
  }

  /** Cancels every waiting call (gateway shutdown). */
  close(): void {
    for (const waiting of [...this.waiting.values()]) this.cancel(waiting, 'the gateway is shutting down');
  }

  /** Calls waiting for their client to come back, for tests and status. */
  get size(): number {
    return this.waiting.size;
  }
}

/** The capability a 2026 client must have declared for a server->client request, when it did not. */
function missingCapability(
  capabilities: ClientCapabilities,
  method: string,
  params: Params,
): { label: string; required: ClientCapabilities } | undefined {
  switch (method) {
    case 'sampling/createMessage':
      return capabilities.sampling ? undefined : { label: '"sampling"', required: { sampling: {} } };
    case 'roots/list':
      return capabilities.roots ? undefined : { label: '"roots"', required: { roots: {} } };
    case 'elicitation/create': {
      const elicitation = capabilities.elicitation as { form?: object; url?: object } | undefined;
      if (params.mode === 'url') {
        return elicitation?.url ? undefined : { label: '"elicitation" with "url"', required: { elicitation: { url: {} } } };
      }
      // An empty elicitation object means form mode.
      const form = elicitation && (elicitation.form || !elicitation.url);
      return form ? undefined : { label: '"elicitation" with "form"', required: { elicitation: { form: {} } } };
    }
    // Stryker disable next-line ConditionalExpression: ask() passes only the methods of CROSSING, all handled above; an empty default ends the function the same way
    default:
      return undefined;
  }
}
