import { randomUUID } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ResultSchema,
  type ClientCapabilities,
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
import { connectByKind } from '../upstream/messageKind.js';
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
  }

  async connect(transport: Transport): Promise<void> {
    await connectByKind(this.server, transport);
  }

  /** Who this session is, for the forwarding path; the client's name is known once it has initialized. */
  get caller(): Caller {
    const client = this.server.getClientVersion();
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

  private async dispatch(request: Request, extra: Extra): Promise<Result> {
    const peer: Peer = {
      capabilities: () => this.clientCapabilities(),
      // Sent as part of the client's request, so Streamable HTTP delivers it on that request's stream.
      request: (serverRequest, signal) =>
        extra.sendRequest(serverRequest as ServerRequest, ResultSchema, { signal, timeout: CLIENT_REQUEST_TIMEOUT_MS }),
      notify: (notification) => this.notify(notification),
    };
    this.inFlight++;
    try {
      return await this.deps.forwarder.forward(this.caller, this.view, request.method, request.params as Params | undefined, {
        signal: extra.signal,
        onProgress: (params) => void extra.sendNotification({ method: 'notifications/progress', params }).catch(() => undefined),
        peer,
        via: this.settleInput(peer, extra.signal),
        session: this,
      });
    } catch (error) {
      const wire = WireError.of(error);
      if (!isOrchError(error) && typeof (error as { code?: unknown }).code !== 'number') {
        this.log.warn({ method: request.method, err: wire.message }, 'request failed');
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
      if (result.resultType !== 'input_required') return result;
      return settleInputRequired(result, {
        server: upstream.name,
        capabilities: this.clientCapabilities(),
        ask: (input) => peer.request(input, signal),
        retry: (inputResponses, requestState) =>
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
    this.server.notification(notification as ServerNotification).catch((error: unknown) => {
      this.log.debug({ method: notification.method, err: (error as Error).message }, 'notification not delivered');
    });
  }

  /**
   * Forwards a server's log message at or above this client's level. A shared server's messages go
   * only to sessions that set a level: its logs say what it did for everyone.
   */
  logMessage(upstream: Upstream, params: Params): void {
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
    await this.deps.subscriptions.dropSubscriber(this);
    await this.deps.logLevels.drop(this, this.view.upstreams());
    await Promise.all(this.view.upstreams().map((upstream) => upstream.releaseInstance(this.id)));
    await this.server.close().catch(() => undefined);
    this.onclose?.();
  }
}
