import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  ResultSchema,
  type ClientCapabilities,
  type Implementation,
  type LoggingLevel,
  type Notification,
  type Request,
  type Progress,
  type Result,
  type ServerCapabilities,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { jsonRpcErrorOf, OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import { connectByKind } from '../upstream/messageKind.js';
import type { Upstream } from '../upstream/upstream.js';
import { exposeContentUris } from './content.js';
import { observed, splitProgressToken, type Extra, type Params } from './forwarding.js';
import { settleInputRequired } from './inputRounds.js';
import type { ServerRequestRouter } from './serverRequests.js';
import { LEVELS, type LogLevelRegistry } from './logLevels.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import { routeRequest, type View } from './view.js';

/** Sampling and elicitation can wait on a person. */
const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

/** Told about every request forwarded to a server, for metrics. */
export interface RequestObserver {
  requestFinished(info: { server: string; method: string; name: string | undefined; durationMs: number; error: boolean }): void;
}

export interface SessionDeps {
  logger: Logger;
  observer?: RequestObserver;
  router: ServerRequestRouter;
  subscriptions: SubscriptionRegistry;
  logLevels: LogLevelRegistry;
  /** One validator shared by every session instead of one compiled per session. */
  validator: jsonSchemaValidator;
  version: string;
}

export interface SessionSetup {
  view: View;
  capabilities: ServerCapabilities;
  serverInfo: Implementation;
  instructions?: string;
  transportKind: 'streamable-http' | 'sse' | 'stdio';
}

/**
 * An error as it goes on the wire. The SDK's McpError prefixes its message with "MCP error <code>:",
 * which clients then print twice; the Protocol layer sends `code`, `message` and `data` of whatever
 * a handler throws, so this carries them unprefixed.
 */
class WireError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

function stripSdkPrefix(message: string): string {
  return message.replace(/^MCP error -?\d+: /, '');
}

/**
 * One downstream MCP session: an SDK Server whose every request is answered from the view's
 * catalog or forwarded to the upstream that owns the name. Requests are dispatched by method in
 * one place so that nothing the protocol carries is dropped: methods the gateway does not know
 * are passed through on per-server endpoints.
 */
export class GatewaySession {
  readonly id = randomUUID();
  readonly server: Server;
  readonly view: View;
  readonly transportKind: SessionSetup['transportKind'];
  private readonly capabilities: ServerCapabilities;
  private logLevel: LoggingLevel | undefined;
  private closed = false;
  private readonly log: Logger;
  private readonly detachRouter: () => void;
  onclose?: () => void;

  constructor(
    setup: SessionSetup,
    private readonly deps: SessionDeps,
  ) {
    this.view = setup.view;
    this.transportKind = setup.transportKind;
    this.capabilities = setup.capabilities;
    this.log = deps.logger.child({ session: this.id, endpoint: setup.view.label });
    this.server = new Server(setup.serverInfo, {
      capabilities: setup.capabilities,
      ...(setup.instructions ? { instructions: setup.instructions } : {}),
      jsonSchemaValidator: deps.validator,
    });
    // The SDK answers logging/setLevel itself when logging is advertised; the gateway must forward it.
    this.server.removeRequestHandler('logging/setLevel');
    this.server.fallbackRequestHandler = (request, extra) => this.dispatch(request, extra);
    this.server.fallbackNotificationHandler = (notification) => this.onClientNotification(notification);
    this.server.onclose = () => void this.close();
    this.server.onerror = (error) => this.log.debug({ err: error.message }, 'session transport error');
    this.detachRouter = deps.router.addSession(this);
  }

  async connect(transport: Transport): Promise<void> {
    await connectByKind(this.server, transport);
  }

  clientCapabilities(): ClientCapabilities | undefined {
    return this.server.getClientCapabilities();
  }

  sees(upstream: Upstream): boolean {
    return this.view.sees(upstream);
  }

  request(request: Request, signal: AbortSignal): Promise<Result> {
    return this.server.request(request as ServerRequest, ResultSchema, { signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
  }

  private async dispatch(request: Request, extra: Extra): Promise<Result> {
    try {
      return await this.answer(request, extra);
    } catch (error) {
      if (error instanceof McpError) throw new WireError(error.code, stripSdkPrefix(error.message), error.data);
      const wire = jsonRpcErrorOf(error);
      if (!(error instanceof OrchError)) this.log.warn({ method: request.method, err: wire.message }, 'request failed');
      throw new WireError(wire.code, wire.message, wire.data);
    }
  }

  private async answer(request: Request, extra: Extra): Promise<Result> {
    const params = (request.params ?? {}) as Params;
    const view = this.view;
    switch (request.method) {
      case 'resources/subscribe': {
        const target = view.resolveUri(String(params.uri));
        await this.deps.subscriptions.subscribe(this, target.upstream, target.name);
        return {};
      }
      case 'resources/unsubscribe': {
        const target = view.resolveUri(String(params.uri));
        await this.deps.subscriptions.unsubscribe(this, target.upstream, target.name);
        return {};
      }
      case 'logging/setLevel':
        return this.setLevel(params);
    }
    const route = routeRequest(view, request.method, request.params as Params | undefined);
    if (!route) throw new McpError(ErrorCode.MethodNotFound, `method not found: ${request.method}`);
    if ('answer' in route) return route.answer;
    const result = await this.forward(route.upstream, request.method, route.params, extra);
    return exposeContentUris(result, view, route.upstream);
  }

  private async setLevel(params: Params): Promise<Result> {
    const level = params.level as LoggingLevel;
    if (!LEVELS.includes(level)) {
      throw new McpError(ErrorCode.InvalidParams, `unknown log level "${String(level)}"; expected one of ${LEVELS.join(', ')}`);
    }
    this.logLevel = level;
    await this.deps.logLevels.set(this, level, this.view.upstreams());
    return {};
  }

  /**
   * Forwards one request with its cancellation and progress: the downstream abort signal cancels
   * the upstream request, and upstream progress goes back under the client's own progress token.
   */
  private async forward(upstream: Upstream, method: string, params: Params | undefined, extra: Extra): Promise<Result> {
    const { params: upstreamParams, progressToken } = params ? splitProgressToken(params) : { params, progressToken: undefined };
    const untrack = this.deps.router.track(upstream, this, extra);
    const clientCapabilities = this.clientCapabilities();
    const options = {
      signal: extra.signal,
      ...(clientCapabilities ? { clientCapabilities } : {}),
      ...(progressToken === undefined
        ? {}
        : {
            onprogress: (progress: Progress) => {
              void extra
                .sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } })
                .catch(() => undefined);
            },
          }),
    };
    try {
      return await observed(this.deps.observer, { server: upstream.name, method, params }, async () => {
        const result = await upstream.request(method, upstreamParams, options);
        if (result.resultType !== 'input_required') return result;
        // A 2026-only server asked for input in its result (the request went with the envelope,
        // declaring this client's capabilities): the client answers each input request as a
        // server->client request on this request's stream, and the request is retried with them.
        return settleInputRequired(result, {
          server: upstream.name,
          capabilities: clientCapabilities,
          ask: (input) =>
            extra.sendRequest(input as ServerRequest, ResultSchema, { signal: extra.signal, timeout: CLIENT_REQUEST_TIMEOUT_MS }),
          retry: (inputResponses, requestState) =>
            upstream.request(
              method,
              { ...upstreamParams, inputResponses, ...(requestState === undefined ? {} : { requestState }) },
              options,
            ),
        });
      });
    } finally {
      untrack();
    }
  }

  private async onClientNotification(notification: Notification): Promise<void> {
    if (notification.method !== 'notifications/roots/list_changed') return;
    await Promise.all(this.view.upstreams().map((upstream) => upstream.notify(notification)));
  }

  /** Sends a notification from an upstream to this session's client, if the session is still open. */
  notify(notification: Notification): void {
    if (this.closed) return;
    this.server.notification(notification as ServerNotification).catch((error: unknown) => {
      this.log.debug({ method: notification.method, err: (error as Error).message }, 'notification not delivered');
    });
  }

  /** Forwards a server's log message if it is at or above the level this client asked for. */
  logMessage(upstream: Upstream, params: Params): void {
    const level = params.level as LoggingLevel;
    if (this.logLevel && LEVELS.indexOf(level) < LEVELS.indexOf(this.logLevel)) return;
    if (!this.capabilities.logging) return;
    const logger = this.view.spec.kind === 'unified' ? [upstream.name, params.logger].filter(Boolean).join('/') : params.logger;
    this.notify({ method: 'notifications/message', params: { ...params, ...(logger ? { logger } : {}) } });
  }

  resourceUpdated(upstream: Upstream, uri: string): void {
    this.notify({ method: 'notifications/resources/updated', params: { uri: this.view.exposeUri(upstream, uri) } });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detachRouter();
    await this.deps.subscriptions.dropSubscriber(this);
    await this.deps.logLevels.drop(this, this.view.upstreams());
    await this.server.close().catch(() => undefined);
    this.onclose?.();
  }
}
