import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  ResultSchema,
  type ClientCapabilities,
  type JSONRPCMessage,
  type RequestId,
  type Implementation,
  type LoggingLevel,
  type Notification,
  type Request,
  type Result,
  type ServerCapabilities,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { Principal } from '../auth/policy.js';
import { isOrchError, WireError } from '../errors.js';
import type { Logger } from '../log.js';
import { connectByKind, kindOf } from '../upstream/messageKind.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Caller, Connection, SessionTransport } from './caller.js';
import { CLIENT_REQUEST_TIMEOUT_MS } from './constants.js';
import type { Forwarder, Params, SessionState, Via } from './forward.js';
import { settleInputRequired } from './inputRounds.js';
import { LEVELS, type LogLevelRegistry } from './logLevels.js';
import type { Peer } from './serverRequests.js';
import type { SubscriptionRegistry } from './subscriptions.js';
import type { View } from './view.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The calls answered beside the SDK Protocol (see GatewaySession.direct): the hot path. */
const DIRECT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/** What answering one request needs of the session's SDK Server: the request's context. */
interface RequestContext {
  signal: AbortSignal;
  sendNotification(notification: ServerNotification): Promise<void>;
  sendRequest(request: ServerRequest, options: RequestOptions): Promise<Result>;
}

export interface SessionDeps {
  logger: Logger;
  forwarder: Forwarder;
  subscriptions: SubscriptionRegistry;
  logLevels: LogLevelRegistry;
  /** One validator shared by every session instead of one compiled per session. */
  validator: jsonSchemaValidator;
}

/** What a session advertises at initialize: its view's servers' capabilities and identity. */
export interface SessionSetup {
  view: View;
  capabilities: ServerCapabilities;
  serverInfo: Implementation;
  instructions?: string | undefined;
  transportKind: SessionTransport;
  connection: Connection;
}

/**
 * One downstream MCP session of the 2025-11-25 protocol (and earlier 2025 revisions): an SDK Server
 * whose every request goes through the gateway's one forwarding path. Methods the gateway does not
 * know are passed through on per-server endpoints, so nothing the protocol carries is dropped.
 */
export class GatewaySession implements SessionState {
  readonly id = randomUUID();
  readonly server: Server;
  readonly view: View;
  readonly transportKind: SessionTransport;
  private readonly capabilities: ServerCapabilities;
  private readonly connection: Connection;
  /** Who the session belongs to; refreshed on every request and when the store changes (a lowered role). */
  principal: Principal;
  private logLevel: LoggingLevel | undefined;
  private closed = false;
  /** Requests of this session being answered now (bounded by orch.limits.inFlight). */
  inFlight = 0;
  private readonly log: Logger;
  private callerCache: Caller | undefined;
  /** Requests answered beside the SDK Protocol (direct), by id, until answered. */
  private readonly calls = new Map<RequestId, AbortController>();
  onclose?: () => void;

  constructor(
    setup: SessionSetup,
    private readonly deps: SessionDeps,
  ) {
    this.view = setup.view;
    this.transportKind = setup.transportKind;
    this.capabilities = setup.capabilities;
    this.connection = setup.connection;
    this.principal = setup.connection.principal;
    // Stryker disable next-line ObjectLiteral: the log lines' bindings; no behaviour depends on them
    this.log = deps.logger.child({ session: this.id, endpoint: setup.view.label });
    this.server = new Server(setup.serverInfo, {
      capabilities: setup.capabilities,
      ...(setup.instructions ? { instructions: setup.instructions } : {}),
      jsonSchemaValidator: deps.validator,
    });
    // The SDK answers logging/setLevel itself when logging is advertised; the gateway must forward it.
    this.server.removeRequestHandler('logging/setLevel');
    this.server.fallbackRequestHandler = (request, extra) => this.fallback(request, extra);
    this.server.fallbackNotificationHandler = (notification) => this.onClientNotification(notification);
    this.server.onclose = () => void this.close();
    // Stryker disable next-line all: a transport error is only logged here; the SDK answers or closes the session itself
    this.server.onerror = (error) => this.log.debug({ err: error.message }, 'session transport error');
  }

  async connect(transport: Transport): Promise<void> {
    await connectByKind(this.server, transport, undefined, (message) => this.direct(message, transport));
  }

  /**
   * Takes the calls of tools, prompts and resources off the SDK Protocol's dispatch, which builds
   * for every request a context of closures, a chain of five promises and a zod check for task
   * parameters the gateway does not read. They get the same treatment here: an AbortController
   * that the client's notifications/cancelled and the session's end abort, progress and
   * server->client requests tied to the request's id (so Streamable HTTP sends them on its
   * stream), no answer once cancelled, and errors as the SDK answers them. Task-augmented requests
   * stay with the SDK, which refuses them (no endpoint offers tasks); a request that only names a
   * related task is served here like any other, where the SDK, with no task store, would drop its
   * progress and refuse its server's requests.
   */
  private direct(message: JSONRPCMessage, transport: Transport): boolean {
    const m = message as { id?: RequestId; method?: unknown; params?: Params };
    if (m.method === 'notifications/cancelled') {
      // Seen by the SDK too (false), for the requests it answers itself.
      const requestId = (m.params as { requestId?: RequestId } | undefined)?.requestId;
      // Stryker disable next-line ConditionalExpression: no call is kept under the id undefined (a request always has an id), so the lookup finds none either way
      if (requestId !== undefined) this.calls.get(requestId)?.abort((m.params as { reason?: unknown }).reason);
      return false;
    }
    if (!DIRECT_METHODS.has(m.method as string) || kindOf(message) !== 'request') return false;
    const params = m.params;
    if (params?.task !== undefined) return false;
    void this.answer(m.id!, m.method as string, params, transport);
    return true;
  }

  private async answer(id: RequestId, method: string, params: Params | undefined, transport: Transport): Promise<void> {
    const abort = new AbortController();
    const { signal } = abort;
    this.calls.set(id, abort);
    let response: JSONRPCMessage;
    try {
      const result = await this.dispatch(method, params, {
        signal,
        sendNotification: async (notification) => {
          if (!signal.aborted) await this.server.notification(notification, { relatedRequestId: id });
        },
        sendRequest: (request, options) => {
          // Stryker disable next-line ConditionalExpression,StringLiteral: a server's request reaches this call only while its tie is held, which ends as the call ends; after a cancel only in a race no test can order. Kept as the SDK keeps it
          if (signal.aborted) return Promise.reject(new McpError(ErrorCode.ConnectionClosed, 'Request was cancelled'));
          return this.server.request(request, ResultSchema, { ...options, relatedRequestId: id });
        },
      });
      response = { jsonrpc: '2.0', id, result };
    } catch (error) {
      const { code, message, data } = error as { code?: unknown; message?: string; data?: unknown };
      // Stryker disable next-line StringLiteral: dispatch throws only WireError values, whose message is always a string
      const wire = { code: Number.isSafeInteger(code) ? (code as number) : ErrorCode.InternalError, message: message ?? 'Internal error' };
      // Stryker disable next-line ConditionalExpression: a data of undefined is left out of the JSON every transport writes, so the two shapes are the same on the wire
      response = { jsonrpc: '2.0', id, error: data === undefined ? wire : { ...wire, data } };
    } finally {
      if (this.calls.get(id) === abort) this.calls.delete(id);
    }
    if (signal.aborted) return;
    // Stryker disable next-line BlockStatement: the failure stays caught either way; the block only logs it
    await transport.send(response).catch((error: unknown) => {
      // Stryker disable next-line all: log wording; no behaviour depends on it
      this.log.debug({ method, err: (error as Error).message }, 'response not delivered');
    });
  }

  /** Who this session is, for the forwarding path; the client's name is known once it has initialized. */
  get caller(): Caller {
    const client = this.server.getClientVersion();
    // Stryker disable next-line ConditionalExpression: rebuilt every time, the caller is an equal object (the cache only spares building it); the client and principal checks are killed by session.direct.test.ts through their EqualityOperator mutants and by hand
    if (!this.callerCache || this.callerCache.client !== client || this.callerCache.principal !== this.principal) {
      this.callerCache = {
        id: this.id,
        era: '2025-11-25',
        transport: this.transportKind,
        endpoint: this.view.label,
        address: this.connection.address,
        client,
        principal: this.principal,
      };
    }
    return this.callerCache;
  }

  clientCapabilities(): ClientCapabilities | undefined {
    return this.server.getClientCapabilities();
  }

  /** Whether notifications of `upstream` are for this session: a server its view shows, shared or its own instance. */
  sees(upstream: Upstream): boolean {
    return this.view.sees(upstream) && (upstream.owner === undefined || upstream.owner === this.id);
  }

  setLogLevel(level: LoggingLevel): void {
    this.logLevel = level;
  }

  /** Sends a request to the client outside of any request of its own (on the GET stream). */
  request(request: Request, signal: AbortSignal): Promise<Result> {
    return this.server.request(request as ServerRequest, ResultSchema, { signal, timeout: CLIENT_REQUEST_TIMEOUT_MS });
  }

  /** This session as a peer outside of any request: what its own server instances ask. */
  readonly peer: Peer = {
    capabilities: () => this.clientCapabilities(),
    request: (request, signal) => this.request(request, signal),
    notify: (notification) => this.notify(notification),
  };

  /** A request the SDK Protocol dispatched: every method but initialize, ping and the direct ones. */
  private fallback(request: Request, extra: Extra): Promise<Result> {
    return this.dispatch(request.method, request.params as Params | undefined, {
      signal: extra.signal,
      sendNotification: (notification) => extra.sendNotification(notification),
      sendRequest: (serverRequest, options) => extra.sendRequest(serverRequest, ResultSchema, options),
    });
  }

  private async dispatch(method: string, params: Params | undefined, extra: RequestContext): Promise<Result> {
    const peer: Peer = {
      capabilities: () => this.clientCapabilities(),
      // Sent as part of the client's request, so Streamable HTTP delivers it on that request's stream.
      request: (serverRequest, signal) => extra.sendRequest(serverRequest as ServerRequest, { signal, timeout: CLIENT_REQUEST_TIMEOUT_MS }),
      notify: (notification) => this.notify(notification),
    };
    this.inFlight++;
    try {
      return await this.deps.forwarder.forward(this.caller, this.view, method, params, {
        signal: extra.signal,
        onProgress: (params) => void extra.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined),
        peer,
        via: this.settleInput(peer, extra.signal),
        session: this,
      });
    } catch (error) {
      const wire = WireError.of(error);
      // Stryker disable next-line all: decides only whether an unexpected failure is logged; the client gets the same error
      if (!isOrchError(error) && typeof (error as { code?: unknown }).code !== 'number') {
        // Stryker disable next-line all: log wording; no behaviour depends on it
        this.log.warn({ method, err: wire.message }, 'request failed');
      }
      throw wire;
    } finally {
      this.inFlight--;
    }
  }

  /**
   * A 2026-only server asks for input in its result (the request went with the envelope, declaring
   * this client's capabilities): the client answers each input request as a server->client request
   * on this request's stream, and the request is sent again with the answers.
   */
  private settleInput(peer: Peer, signal: AbortSignal): Via {
    return async (upstream, _method, params, send) => {
      const result = await send(params);
      // Stryker disable next-line ConditionalExpression: settleInputRequired returns a result that asks for no input as it is; the check spares the call
      if (result.resultType !== 'input_required') return result;
      return settleInputRequired(result, {
        server: upstream.name,
        capabilities: this.clientCapabilities(),
        ask: (input) => peer.request(input, signal),
        retry: (inputResponses, requestState) =>
          // Stryker disable next-line ConditionalExpression: a requestState of undefined is left out of the JSON sent to the server, so the two shapes are the same on the wire
          send({ ...params, inputResponses, ...(requestState === undefined ? {} : { requestState }) }),
      });
    };
  }

  /** A client's roots changed: only its own server instances hear of it; shared servers keep their configured roots. */
  private async onClientNotification(notification: Notification): Promise<void> {
    if (notification.method !== 'notifications/roots/list_changed') return;
    const own = this.view.upstreams().map((upstream) => upstream.instanceOf(this.id));
    await Promise.all(own.map((instance) => instance?.notify(notification)));
  }

  /** Sends a notification from an upstream to this session's client, if the session is still open. */
  notify(notification: Notification): void {
    if (this.closed) return;
    // Stryker disable next-line BlockStatement: the failure stays caught either way; the block only logs it
    this.server.notification(notification as ServerNotification).catch((error: unknown) => {
      // Stryker disable next-line all: log wording; no behaviour depends on it
      this.log.debug({ method: notification.method, err: (error as Error).message }, 'notification not delivered');
    });
  }

  /**
   * Forwards a server's log message at or above this client's level. A shared server's messages go
   * only to sessions that set a level: its logs say what it did for everyone.
   */
  logMessage(upstream: Upstream, params: Params): void {
    // Stryker disable next-line ConditionalExpression: without the logging capability the SDK Server refuses notifications/message itself (and notify only logs that)
    if (!this.capabilities.logging) return;
    if (upstream.owner === undefined && this.logLevel === undefined) return;
    const level = params.level as LoggingLevel;
    if (this.logLevel && LEVELS.indexOf(level) < LEVELS.indexOf(this.logLevel)) return;
    const logger = this.view.loggerName(upstream, params.logger);
    this.notify({ method: 'notifications/message', params: { ...params, ...(logger ? { logger } : {}) } });
  }

  resourceUpdated(upstream: Upstream, uri: string): void {
    this.notify({ method: 'notifications/resources/updated', params: { uri: this.view.exposeUri(upstream, uri) } });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // As the SDK does for the requests it dispatched: whatever is still being answered stops.
    for (const abort of this.calls.values()) abort.abort();
    this.calls.clear();
    await this.deps.subscriptions.dropSubscriber(this);
    await this.deps.logLevels.drop(this, this.view.upstreams());
    // Stryker disable next-line ArrowFunction: static (runs as sessions close outside test bodies); killed by session.test.ts "stops the instance ...", checked by hand
    await Promise.all(this.view.upstreams().map((upstream) => upstream.releaseInstance(this.id)));
    await this.server.close().catch(() => undefined);
    // Stryker disable next-line OptionalChaining: every session is added to the registry, which sets onclose, as soon as it is created
    this.onclose?.();
  }
}
