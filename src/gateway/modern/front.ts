import { randomUUID } from 'node:crypto';
import type { ClientCapabilities, Implementation, Progress, Result } from '@modelcontextprotocol/sdk/types.js';
import { answerStatusOf, httpStatusOf, jsonRpcErrorOf, OrchError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { Upstream } from '../../upstream/upstream.js';
import type { Caller, Connection } from '../caller.js';
import type { Forwarder, Params, Via } from '../forward.js';
import type { Quotas } from '../limits.js';
import { splitProgressToken } from '../forward.js';
import { requestIdOf, retryAfter } from '../responses.js';
import type { Peer } from '../serverRequests.js';
import type { View } from '../view.js';
import { META_CLIENT_CAPABILITIES, META_CLIENT_INFO, MODERN_VERSION } from '../../upstream/envelope.js';
import { validateModernRequest, type JsonRpcId, type ModernRequest } from './headers.js';
import { INPUT_REQUIRED_METHODS, InputBridge } from './inputRequired.js';
import type { ListenStreams } from './listen.js';
import type { RequestStateCodec } from './requestState.js';
import { discoverResult, legacyParams, modernResult } from './translate.js';

export interface ModernFrontOptions {
  forwarder: Forwarder;
  quotas: Quotas;
  listen: ListenStreams;
  logger: Logger;
  version: string;
  /** Signs the requestState of input_required results the gateway issues for 2025 servers. */
  codec: RequestStateCodec;
  /** How long such a requestState is valid and the server's request waits for the client's answers. */
  requestStateTtlMs: number;
}

/** Methods of the 2025 session protocol that the 2026 revision removed: 404 and -32601. */
const REMOVED = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

type Notify = (notification: { method: string; params: Params }) => void;

/**
 * The 2026-07-28 front of every /mcp endpoint: stateless, one HTTP request per JSON-RPC request,
 * so any daemon instance could answer it. Every request takes the gateway's one forwarding path; the
 * era differences live here: a per-server endpoint whose server speaks 2026 passes each request
 * through unchanged (names and results are the server's own), and a 2025 server gets the params
 * without the envelope, its sampling, elicitation and roots requests crossing as input_required.
 */
export class ModernFront {
  private readonly log: Logger;
  /** 2025 servers' sampling, elicitation and roots requests, turned into input_required rounds. */
  private readonly bridge: InputBridge;

  constructor(private readonly options: ModernFrontOptions) {
    // Stryker disable next-line ObjectLiteral,StringLiteral: a log field; no behaviour depends on it
    this.log = options.logger.child({ component: 'modern' });
    this.bridge = new InputBridge({ codec: options.codec, logger: this.log, ttlMs: options.requestStateTtlMs });
  }

  /** One 2026 POST on an endpoint whose view is `view`. */
  async handle(http: Request, view: View, body: unknown, connection: Connection): Promise<Response> {
    let request: ModernRequest;
    try {
      request = validateModernRequest((name) => http.headers.get(name), body);
    } catch (error) {
      return errorJson(requestIdOf(body), error, httpStatusOf(error));
    }
    let release: () => void;
    try {
      release = this.options.quotas.admitRequest(connection.address);
    } catch (error) {
      return errorJson(request.id, error, httpStatusOf(error));
    }
    // Held until the answer starts; an answer that streams holds a place among the streams instead.
    try {
      return await this.answer(request, view, http, connection);
    } catch (error) {
      return errorJson(request.id, error, answerStatus(error));
    } finally {
      release();
    }
  }

  private async answer(request: ModernRequest, view: View, http: Request, connection: Connection): Promise<Response> {
    if (REMOVED.has(request.method)) {
      throw new OrchError('METHOD_NOT_FOUND', `Method not found: ${request.method} is not part of the ${MODERN_VERSION} protocol`);
    }
    const caller: Caller = {
      id: randomUUID(),
      era: MODERN_VERSION,
      transport: 'streamable-http',
      endpoint: view.label,
      address: connection.address,
      client: request.meta[META_CLIENT_INFO] as Implementation | undefined,
      principal: connection.principal,
    };
    // List changes reach 2026 clients on the gateway's own listen streams, fed by every server's catalog.
    if (request.method === 'subscriptions/listen') {
      const { capabilities } = await view.describe(this.options.version);
      return this.options.listen.open(request, view, capabilities, http.signal, connection);
    }
    const direct = view.passThrough();
    if (direct && (await direct.era()) === MODERN_VERSION) {
      // The server speaks 2026 itself: everything goes through as the client sent it.
      return this.respond(request, http, connection, (onProgress) =>
        this.options.forwarder.forward(caller, view, request.method, request.params, {
          signal: http.signal,
          peer: STATELESS,
          direct,
          ...(onProgress ? { onProgress: (params) => onProgress({ method: 'notifications/progress', params }) } : {}),
        }),
      );
    }
    if (request.method === 'server/discover') {
      const { capabilities, serverInfo, instructions } = await view.describe(this.options.version);
      return this.respond(request, http, connection, async () => discoverResult(capabilities, serverInfo, instructions));
    }
    await view.settled();
    return this.respond(request, http, connection, (onProgress) =>
      this.options.forwarder.forward(caller, view, request.method, request.params, {
        signal: http.signal,
        peer: STATELESS,
        via: this.via(request, http, view, onProgress),
        ...(onProgress ? { onProgress: (params) => onProgress({ method: 'notifications/progress', params }) } : {}),
      }),
    );
  }

  /**
   * How a request reaches its server in that server's era: a 2026 server gets the client's envelope
   * as sent; a 2025 server gets the params without it, over the gateway's session, and its sampling,
   * elicitation or roots requests during tools/call, prompts/get or resources/read reach the client
   * as an input_required result (the bridge); during any other method they are refused.
   */
  private via(request: ModernRequest, http: Request, view: View, onProgress: Notify | undefined): Via {
    return async (upstream, method, params, send) => {
      if ((await upstream.era()) === MODERN_VERSION) return send(params);
      if (!INPUT_REQUIRED_METHODS.has(method)) return send(legacyParams(params), { peer: refusing(upstream) });
      const { requestState: _state, inputResponses: _responses, ...fresh } = params;
      const token = splitProgressToken(request.params).progressToken;
      return this.bridge.call({
        upstream,
        binding: { caller: bindingOf(view, http), request: `${method} ${upstream.name} ${String(params.name ?? params.uri)}` },
        capabilities: (request.meta[META_CLIENT_CAPABILITIES] ?? {}) as ClientCapabilities,
        params: request.params,
        signal: http.signal,
        // The answer streams (onProgress) only when the client sent a progress token.
        onprogress:
          onProgress &&
          ((progress: Progress) => onProgress({ method: 'notifications/progress', params: { ...progress, progressToken: token } })),
        start: (signal, onprogress, peer) => send(legacyParams(fresh), { signal, onProgress: onprogress, peer }),
      });
    };
  }

  /**
   * The HTTP answer: JSON, or an event stream when the client asked for progress and accepts it,
   * so that progress notifications arrive before the result.
   */
  private async respond(
    request: ModernRequest,
    http: Request,
    connection: Connection,
    produce: (onProgress: Notify | undefined) => Promise<Result>,
  ): Promise<Response> {
    const wantsProgress = splitProgressToken(request.params).progressToken !== undefined;
    const acceptsSse = http.headers.get('accept')?.includes('text/event-stream') === true;
    if (!wantsProgress || !acceptsSse) {
      const result = await produce(undefined);
      return Response.json({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, result) });
    }
    const stream = this.options.quotas.openStream(connection.address);
    void produce((notification) => stream.send({ jsonrpc: '2.0', ...notification }))
      .then(
        (result) => stream.send({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, result) }),
        (error: unknown) => stream.send({ jsonrpc: '2.0', id: request.id, error: jsonRpcErrorOf(error, 'modern') }),
      )
      .finally(() => stream.end());
    return stream.response();
  }

  /** Ends every waiting bridged call. */
  // Stryker disable next-line BlockStatement: the daemon stops every server first (which fails each bridged request) and refuses new requests while it stops; what this ends is bookkeeping that goes with the process
  close(): void {
    this.bridge.close();
  }
}

/**
 * The caller a requestState is bound to: the endpoint, and the Authorization header as sent (null
 * when none; JSON keeps the two apart). The codec puts only a digest of it into the state.
 */
function bindingOf(view: View, http: Request): string {
  return `${view.spec.kind}:${view.label}|${JSON.stringify(http.headers.get('authorization'))}`;
}

/**
 * The client of a 2026 request, as the forwarding path sees it: it declares nothing outside the
 * request's envelope (the gateway's own tools see no sampling), and is asked only through
 * input_required results (a 2025 server's requests through the bridge, a 2026 server's as its own).
 */
const STATELESS: Peer = {
  capabilities: () => undefined,
  // Stryker disable next-line all: the router refuses sampling, elicitation and roots for a peer that declares none; only another request of a 2026 server, which that protocol has no way to send, gets here
  request: (request) => Promise.reject(new OrchError('METHOD_NOT_FOUND', `mcp-orch: ${request.method} cannot reach a 2026-07-28 client`)),
};

/** Outside tools/call, prompts/get and resources/read, a 2025 server's requests cannot reach a 2026 client. */
function refusing(upstream: Upstream): Peer {
  return {
    // Every capability, so that the router hands each request here to be refused for the real
    // reason, instead of telling a client that declared sampling that it did not.
    capabilities: () => ({ sampling: {}, elicitation: {}, roots: {} }),
    request: (request) =>
      Promise.reject(
        new OrchError(
          'METHOD_NOT_FOUND',
          `mcp-orch: server "${upstream.name}" sent ${request.method}, which cannot reach a 2026-07-28 client here: ` +
            'input_required results are allowed only on tools/call, prompts/get and resources/read; call it from a 2025-11-25 session',
        ),
      ),
  };
}

/** The status of an answer carrying an error: by its JSON-RPC code; a failure of the gateway itself is 500. */
function answerStatus(error: unknown): number {
  // Stryker disable next-line OptionalChaining: only a thrown null or undefined has no code to read, and nothing throws those
  const code = (error as { code?: unknown } | null)?.code;
  // Stryker disable next-line ConditionalExpression: "true" gives a plain Error 200, and only a gateway bug throws one (servers' errors carry their code, upstream/failures.ts wraps transport failures); "false" fails the tests of OrchErrors and of a server's own error
  if (error instanceof OrchError || typeof code === 'number') return answerStatusOf(error);
  return 500;
}

function errorJson(id: JsonRpcId | null, error: unknown, status: number): Response {
  return Response.json({ jsonrpc: '2.0', id, error: jsonRpcErrorOf(error, 'modern') }, { status, headers: retryAfter(error) });
}
