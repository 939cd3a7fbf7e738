import { createHash } from 'node:crypto';
import {
  McpError,
  type ClientCapabilities,
  type Progress,
  type Result,
  type ServerCapabilities,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcErrorOf, OrchError } from '../../errors.js';
import type { Logger } from '../../log.js';
import type { CatalogKind } from '../../upstream/catalog.js';
import type { UpstreamPool } from '../../upstream/pool.js';
import type { Upstream } from '../../upstream/upstream.js';
import { unionCapabilities } from '../capabilities.js';
import { exposeContentUris } from '../content.js';
import { requestIdOf } from '../responses.js';
import type { ServerRequestRouter } from '../serverRequests.js';
import type { RequestObserver } from '../session.js';
import { createView, routeRequest, type View, type ViewSpec } from '../view.js';
import { waitBounded } from '../wait.js';
import { META_CLIENT_CAPABILITIES, META_SUBSCRIPTION_ID, MODERN_VERSION } from './classify.js';
import { INVALID_PARAMS, METHOD_NOT_FOUND, ModernError, validateModernRequest, type JsonRpcId, type ModernRequest } from './headers.js';
import { INPUT_REQUIRED_METHODS, InputBridge } from './inputRequired.js';
import type { RequestStateCodec } from './requestState.js';
import { observed, splitProgressToken, type Extra, type Params } from '../forwarding.js';
import { discoverResult, legacyParams, modernCapabilities, modernResult, sseFrame } from './translate.js';

export interface ModernFrontOptions {
  pool: UpstreamPool;
  logger: Logger;
  separator: string;
  version: string;
  router: ServerRequestRouter;
  observer?: RequestObserver;
  /** Signs the requestState of input_required results the gateway issues for 2025 servers. */
  codec: RequestStateCodec;
  /** How long such a requestState is valid and the server's request waits for the client's answers. */
  requestStateTtlMs: number;
}

/** Methods of the 2025 session protocol that the 2026 revision removed: 404 and -32601. */
const REMOVED = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/** How long a new unified answer waits for servers still starting, as the 2025 sessions do. */
const UNIFIED_START_WAIT_MS = 10_000;

const LIST_CHANGED: Record<CatalogKind, { method: string; filter: string }> = {
  tools: { method: 'notifications/tools/list_changed', filter: 'toolsListChanged' },
  prompts: { method: 'notifications/prompts/list_changed', filter: 'promptsListChanged' },
  resources: { method: 'notifications/resources/list_changed', filter: 'resourcesListChanged' },
  resourceTemplates: { method: 'notifications/resources/list_changed', filter: 'resourcesListChanged' },
};

/** One open subscriptions/listen stream of a 2026 client. */
interface Listener {
  view: View;
  agreed: Set<string>;
  /** Sends a notification tagged with the stream's subscription id. */
  send(message: { method: string; params?: Params }): void;
}

/**
 * The 2026-07-28 front of every /mcp endpoint: stateless, one HTTP request per JSON-RPC request,
 * so any daemon instance could answer it. A per-server endpoint whose server speaks 2026 passes
 * each request through unchanged (names are the server's own); otherwise the gateway answers from
 * the view (server/discover, the lists) and forwards calls to the owning server in that server's
 * era. List changes reach 2026 clients on subscriptions/listen streams, fed by the catalog events
 * that the servers' own notifications (2025 or 2026) trigger.
 */
export class ModernFront {
  private readonly log: Logger;
  private readonly listeners = new Set<Listener>();
  private readonly detach: () => void;
  /** 2025 servers' sampling, elicitation and roots requests, turned into input_required rounds. */
  private readonly bridge: InputBridge;

  constructor(private readonly options: ModernFrontOptions) {
    this.log = options.logger.child({ component: 'modern' });
    this.bridge = new InputBridge({ codec: options.codec, router: options.router, logger: this.log, ttlMs: options.requestStateTtlMs });
    const onCatalog = (upstream: Upstream, kind: CatalogKind): void => this.listChanged(upstream, [kind]);
    const onState = (): void => {
      // A server appearing or leaving changes every list of the unified endpoint.
      for (const listener of this.listeners) {
        if (listener.view.spec.kind === 'unified') this.notifyListener(listener, ['tools', 'prompts', 'resources']);
      }
    };
    options.pool.on('catalog', onCatalog);
    options.pool.on('state', onState);
    this.detach = () => {
      options.pool.off('catalog', onCatalog);
      options.pool.off('state', onState);
    };
  }

  /** One 2026 POST on an endpoint of `spec`. */
  async handle(request: Request, spec: ViewSpec, body: unknown): Promise<Response> {
    let modern: ModernRequest;
    try {
      modern = validateModernRequest((name) => request.headers.get(name), body);
    } catch (error) {
      return errorJson(requestIdOf(body), error);
    }
    try {
      return await this.answer(modern, createView(spec, this.options.pool, this.options.separator), request);
    } catch (error) {
      return errorJson(modern.id, error);
    }
  }

  private async answer(request: ModernRequest, view: View, http: Request): Promise<Response> {
    if (REMOVED.has(request.method)) {
      throw new ModernError(404, METHOD_NOT_FOUND, `Method not found: ${request.method} is not part of the ${MODERN_VERSION} protocol`);
    }
    if (request.method === 'subscriptions/listen') return this.listen(request, view, http);
    const call: CallContext = { request, signal: http.signal, caller: callerOf(view, http) };
    if (view.spec.kind === 'server') {
      const [upstream] = view.upstreams();
      if (!upstream) view.tools(); // throws the unknown-server error naming the known ones
      if ((await upstream!.era()) === MODERN_VERSION) {
        return this.respond(request, http, (onprogress) => this.forward(upstream!, call, request.params, onprogress));
      }
    } else {
      await waitBounded(
        view.upstreams().map((u) => u.settled()),
        UNIFIED_START_WAIT_MS,
      );
    }
    return this.respond(request, http, (onprogress) => this.translated(call, view, onprogress));
  }

  /** A request the gateway answers from the view, forwarding calls to the server that owns the name. */
  private async translated(context: CallContext, view: View, onprogress: OnProgress): Promise<Result> {
    const { method, params } = context.request;
    if (method === 'server/discover') return this.discover(view);
    const route = routeRequest(view, method, params);
    if (!route) throw new ModernError(404, METHOD_NOT_FOUND, `Method not found: ${method}`);
    if ('answer' in route) return route.answer;
    const result = await this.forward(route.upstream, context, route.params ?? {}, onprogress);
    return exposeContentUris(result, view, route.upstream);
  }

  private async discover(view: View): Promise<Result> {
    if (view.spec.kind === 'server') {
      const [upstream] = view.upstreams();
      await upstream!.ready();
      return discoverResult(
        upstream!.capabilities,
        upstream!.serverInfo ?? { name: upstream!.name, version: this.options.version },
        upstream!.instructions,
      );
    }
    const running = view.upstreams().filter((u) => u.available);
    const instructions = running
      .filter((u) => u.instructions)
      .map((u) => `## ${u.name}\n${u.instructions}`)
      .join('\n\n');
    return discoverResult(
      unionCapabilities(running.map((u) => u.capabilities)),
      { name: 'mcp-orch', title: 'mcp-orch unified endpoint', version: this.options.version },
      instructions || undefined,
    );
  }

  /**
   * Sends one request to a server in its era: a 2026 server gets the client's envelope as sent,
   * a 2025 server the params without it, over the gateway's session. Progress comes back under
   * the client's own token; the HTTP request's abort cancels the upstream request. A 2025 server's
   * sampling, elicitation or roots request during tools/call, prompts/get or resources/read reaches
   * the client as an input_required result (the bridge); during any other method it fails.
   */
  private async forward(upstream: Upstream, context: CallContext, params: Params, onprogress: OnProgress): Promise<Result> {
    const { request, signal } = context;
    const modern = (await upstream.era()) === MODERN_VERSION;
    const { params: withoutToken, progressToken } = splitProgressToken(params);
    const relay =
      progressToken === undefined || !onprogress
        ? undefined
        : (progress: Progress) => onprogress({ method: 'notifications/progress', params: { ...progress, progressToken } });
    if (!modern && INPUT_REQUIRED_METHODS.has(request.method)) {
      const { requestState: _state, inputResponses: _responses, ...fresh } = withoutToken;
      return this.bridge.call({
        upstream,
        binding: { caller: context.caller, request: `${request.method} ${upstream.name} ${String(params.name ?? params.uri)}` },
        capabilities: (request.meta[META_CLIENT_CAPABILITIES] ?? {}) as ClientCapabilities,
        params,
        signal,
        onprogress: relay,
        start: (bridgeSignal, bridgeProgress) => this.send(upstream, request.method, legacyParams(fresh), bridgeSignal, bridgeProgress),
      });
    }
    const untrack = modern
      ? () => undefined
      : this.options.router.track(upstream, carrier(request, upstream), noClientRequests(request, upstream));
    try {
      return await this.send(upstream, request.method, modern ? withoutToken : legacyParams(withoutToken), signal, relay);
    } finally {
      untrack();
    }
  }

  /** One upstream request, observed for metrics. */
  private send(
    upstream: Upstream,
    method: string,
    params: Params,
    signal: AbortSignal,
    onprogress: ((progress: Progress) => void) | undefined,
  ): Promise<Result> {
    return observed(this.options.observer, { server: upstream.name, method, params }, () =>
      upstream.request(method, params, { signal, ...(onprogress ? { onprogress } : {}) }),
    );
  }

  /**
   * The HTTP answer: JSON, or an SSE stream when the client asked for progress and accepts SSE,
   * so that progress notifications arrive before the result.
   */
  private async respond(request: ModernRequest, http: Request, produce: (onprogress: OnProgress) => Promise<Result>): Promise<Response> {
    const wantsProgress = splitProgressToken(request.params).progressToken !== undefined;
    const acceptsSse = (http.headers.get('accept') ?? '').includes('text/event-stream');
    if (!wantsProgress || !acceptsSse) {
      const result = await produce(undefined);
      return Response.json({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, result) });
    }
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const write = (message: unknown): void => {
          try {
            controller.enqueue(encoder.encode(sseFrame(message)));
          } catch {
            // the client went away; the abort signal cancels the upstream request
          }
        };
        try {
          const result = await produce((notification) => write({ jsonrpc: '2.0', ...notification }));
          write({ jsonrpc: '2.0', id: request.id, result: modernResult(request.method, result) });
        } catch (error) {
          write({ jsonrpc: '2.0', id: request.id, error: wireErrorOf(error).error });
        }
        try {
          controller.close();
        } catch {
          // already cancelled
        }
      },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
  }

  /**
   * subscriptions/listen: an SSE stream that starts with the acknowledgement and then carries the
   * list changes the client asked for, each tagged with the subscription id (the request's id).
   */
  private async listen(request: ModernRequest, view: View, http: Request): Promise<Response> {
    const asked = (request.params.notifications ?? {}) as Params;
    const offered = modernCapabilities(await this.capabilitiesOf(view));
    const agreed = new Set<string>();
    if (asked.toolsListChanged === true && offered.tools) agreed.add('toolsListChanged');
    if (asked.promptsListChanged === true && offered.prompts) agreed.add('promptsListChanged');
    if (asked.resourcesListChanged === true && offered.resources) agreed.add('resourcesListChanged');
    // 2026 servers announce list changes on a listen stream only; open the gateway's own first.
    // The stream is the upstream's own (one per connection), which also keeps its catalog fresh.
    await Promise.all(
      view
        .upstreams()
        .filter((u) => u.available)
        .map((u) => u.ensureListening()),
    );

    const encoder = new TextEncoder();
    let listener: Listener | undefined;
    const stop = (): void => {
      if (listener) this.listeners.delete(listener);
    };
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        listener = {
          view,
          agreed,
          send: (message) => {
            const params = message.params ?? {};
            const meta = { ...(params._meta as Params | undefined), [META_SUBSCRIPTION_ID]: request.id };
            try {
              controller.enqueue(encoder.encode(sseFrame({ jsonrpc: '2.0', ...message, params: { ...params, _meta: meta } })));
            } catch {
              stop();
            }
          },
        };
        const notifications = Object.fromEntries([...agreed].map((key) => [key, true]));
        listener.send({ method: 'notifications/subscriptions/acknowledged', params: { notifications } });
        this.listeners.add(listener);
        http.signal.addEventListener('abort', () => {
          stop();
          try {
            controller.close();
          } catch {
            // already closed
          }
        });
      },
      cancel: stop,
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
  }

  private async capabilitiesOf(view: View): Promise<ServerCapabilities> {
    if (view.spec.kind === 'unified')
      return unionCapabilities(
        view
          .upstreams()
          .filter((u) => u.available)
          .map((u) => u.capabilities),
      );
    const [upstream] = view.upstreams();
    if (!upstream) view.tools(); // throws the unknown-server error naming the known ones
    await upstream!.ready();
    return upstream!.capabilities;
  }

  private listChanged(upstream: Upstream, kinds: CatalogKind[]): void {
    for (const listener of this.listeners) if (listener.view.sees(upstream)) this.notifyListener(listener, kinds);
  }

  private notifyListener(listener: Listener, kinds: CatalogKind[]): void {
    const methods = new Set(
      kinds.filter((kind) => listener.agreed.has(LIST_CHANGED[kind].filter)).map((kind) => LIST_CHANGED[kind].method),
    );
    for (const method of methods) listener.send({ method });
  }

  /** Ends every listen stream, the gateway's own included. */
  close(): void {
    this.detach();
    this.bridge.close();
    this.listeners.clear();
  }
}

type OnProgress = ((notification: { method: string; params: Params }) => void) | undefined;

/** One 2026 request on its way to a server, with who sent it. */
interface CallContext {
  request: ModernRequest;
  signal: AbortSignal;
  /** The caller a requestState is bound to: the endpoint, and a digest of the Authorization header when sent. */
  caller: string;
}

function callerOf(view: View, http: Request): string {
  const authorization = http.headers.get('authorization');
  const credentials = authorization ? createHash('sha256').update(authorization).digest('base64url') : 'anonymous';
  return `${view.spec.kind}:${view.label}|${credentials}`;
}

/**
 * The 2026 client behind a request to a 2025 server, as the server-request router sees it: its
 * declared capabilities decide whether a sampling or elicitation request could be answered at all.
 */
function carrier(request: ModernRequest, upstream: Upstream): Parameters<ServerRequestRouter['track']>[1] {
  return {
    id: `modern:${String(request.id)}`,
    clientCapabilities: () => request.meta[META_CLIENT_CAPABILITIES] as ClientCapabilities,
    sees: (candidate) => candidate === upstream,
    request: () => Promise.reject(crossingError(upstream)),
  };
}

/** Outside tools/call, prompts/get and resources/read, a 2025 server's sampling or elicitation cannot reach a 2026 client. */
function noClientRequests(_request: ModernRequest, upstream: Upstream): Extra {
  return { sendRequest: (req: ServerRequest) => Promise.reject(crossingError(upstream, req.method)) } as unknown as Extra;
}

function crossingError(upstream: Upstream, method = 'a server->client request'): McpError {
  return new McpError(
    -32601,
    `mcp-orch: server "${upstream.name}" speaks 2025-11-25 and sent ${method}, which cannot reach a 2026-07-28 client here: ` +
      'input_required results are allowed only on tools/call, prompts/get and resources/read; call it from a 2025-11-25 session',
  );
}

/** The HTTP status and JSON-RPC error a 2026 client gets for an error. */
function wireErrorOf(error: unknown): { status: number; error: { code: number; message: string; data?: unknown } } {
  if (error instanceof ModernError) {
    return {
      status: error.status,
      error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) },
    };
  }
  if (error instanceof McpError) {
    const message = error.message.replace(/^MCP error -?\d+: /, '');
    return {
      status: statusOfCode(error.code),
      error: { code: error.code, message, ...(error.data === undefined ? {} : { data: error.data }) },
    };
  }
  const wire = jsonRpcErrorOf(error);
  // SEP-2164: 2026 clients get -32602 for an unknown resource, not the earlier -32002.
  if (error instanceof OrchError && error.code === 'UNKNOWN_RESOURCE') wire.code = INVALID_PARAMS;
  return { status: error instanceof OrchError ? statusOfCode(wire.code) : 500, error: wire };
}

/** Protocol-level rejections have their own statuses; any other error is the answer to a request. */
function statusOfCode(code: number): number {
  if (code === METHOD_NOT_FOUND) return 404;
  if (code === -32020 || code === -32021 || code === -32022 || code === -32600 || code === -32700) return 400;
  return 200;
}

function errorJson(id: JsonRpcId | null, error: unknown): Response {
  const { status, error: body } = wireErrorOf(error);
  return Response.json({ jsonrpc: '2.0', id, error: body }, { status });
}
