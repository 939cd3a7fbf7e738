import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import type { EventStream, EventStreamOptions } from '../eventStream.js';
import { kindOf } from '../upstream/messageKind.js';
import { negotiatedVersion } from './limits.js';
import { errorResponse, requestIdOf } from './responses.js';

export interface StreamableTransportOptions {
  /** Called once, when the initialize request arrives: the id the session is known by. */
  sessionIdGenerator: () => string;
  /** A new event stream, admitted by the gateway's quotas (throws an OrchError past them). */
  openStream: (options: EventStreamOptions) => EventStream;
}

/** The requests of one POST and where their responses go: one JSON body, or the POST's event stream. */
interface Exchange {
  /** Responses still owed. */
  pending: number;
  /** JSON mode: resolves the POST with the body once every response is in. */
  resolve: ((response: Response) => void) | undefined;
  /** JSON mode: the responses, in arrival order (one for a single request). */
  responses: JSONRPCMessage[] | undefined;
  /** SSE mode: the POST's stream. */
  stream: EventStream | undefined;
}

/**
 * The server side of Streamable HTTP (protocol 2025-11-25 and earlier 2025 revisions) for one
 * session, on web-standard Request/Response. POST carries a JSON-RPC message or batch: initialize
 * creates the session and its Mcp-Session-Id; notifications and responses are answered 202; requests
 * get their responses on the POST. A POST is answered with one JSON body when nothing but the
 * responses can flow on it (no progress token, and a client that declared none of sampling,
 * elicitation and roots, so no server->client request rides on it), and with an event stream
 * otherwise: messages sent for one of its requests go on it, and it ends after the last response.
 * GET opens the session's one standalone event stream; DELETE ends the session.
 *
 * Inbound messages get an envelope check only; the SDK Protocol validates what it dispatches.
 */
export class StreamableHttpServerTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  sessionId: string | undefined;
  /** The revision initialize settled on (what decides whether JSON-RPC batches are allowed). */
  protocolVersion: string | undefined;

  private initialized = false;
  private closed = false;
  /** The client declared sampling, elicitation or roots: a request of ours may ride on any POST. */
  // Stryker disable next-line BooleanLiteral: initialize sets it, and only requests of an initialized session read it
  private clientRequests = false;
  /** By request id; a message without one (a notification) finds none, as no exchange is kept under undefined. */
  private readonly exchanges = new Map<RequestId | undefined, Exchange>();
  private standalone: EventStream | undefined;
  private readonly streams = new Set<EventStream>();
  /** The 200 of a JSON answer; one per session, the headers never change. */
  private jsonInit: ResponseInit | undefined;

  constructor(private readonly options: StreamableTransportOptions) {}

  /** The session's GET stream is open: the client is there, listening, though it may send nothing. */
  get streaming(): boolean {
    return this.standalone !== undefined;
  }

  async start(): Promise<void> {}

  /** One HTTP request on the session's endpoint; `parsedBody` is the POST's JSON. */
  async handleRequest(request: Request, options?: { parsedBody?: unknown }): Promise<Response> {
    if (this.closed) return unknownSession(this.sessionId, options?.parsedBody);
    switch (request.method) {
      case 'POST':
        return this.post(request, options?.parsedBody);
      case 'GET':
        return this.get(request);
      case 'DELETE':
        return this.delete(request);
      default:
        return errorResponse(new OrchError('METHOD_NOT_ALLOWED', 'Method not allowed.'), null, { allow: 'GET, POST, DELETE' });
    }
  }

  private post(request: Request, body: unknown): Response | Promise<Response> {
    const headers = request.headers;
    const accept = headers.get('accept');
    const json = acceptsJson(accept);
    const sse = acceptsEventStream(accept);
    if (!json && !sse) {
      return errorResponse(
        new OrchError('NOT_ACCEPTABLE', 'Not Acceptable: Client must accept both application/json and text/event-stream'),
        requestIdOf(body),
      );
    }
    const contentType = headers.get('content-type');
    if (!isJsonMediaType(contentType)) {
      return errorResponse(
        new OrchError('UNSUPPORTED_MEDIA_TYPE', 'Unsupported Media Type: Content-Type must be application/json'),
        requestIdOf(body),
      );
    }

    const batch = Array.isArray(body);
    const messages = (batch ? body : [body]) as JSONRPCMessage[];
    if (messages.length === 0) return errorResponse(new OrchError('BAD_REQUEST', 'Invalid Request: empty batch'));
    let requests = 0;
    let initialize = false;
    let progress = false;
    for (const message of messages) {
      const kind = kindOf(message);
      if (kind === undefined) {
        return errorResponse(
          new OrchError('PARSE_ERROR', 'Parse error: Invalid JSON-RPC message', {
            hint: 'each message needs jsonrpc "2.0" and a method, or an id with a result or an error',
          }),
          requestIdOf(body),
        );
      }
      if (kind !== 'request') continue;
      requests++;
      const params = (message as { params?: { _meta?: { progressToken?: unknown } } }).params;
      if (params?._meta?.progressToken !== undefined) progress = true;
      if (
        (message as { method: string }).method === 'initialize' &&
        typeof (params as { protocolVersion?: unknown } | undefined)?.protocolVersion === 'string'
      ) {
        initialize = true;
      }
    }

    if (initialize) {
      if (this.initialized) {
        return errorResponse(new OrchError('BAD_REQUEST', 'Invalid Request: Server already initialized'), requestIdOf(body));
      }
      if (messages.length > 1) {
        return errorResponse(
          new OrchError('BAD_REQUEST', 'Invalid Request: Only one initialization request is allowed'),
          requestIdOf(body),
        );
      }
      const capabilities = (messages[0] as { params: { capabilities?: Record<string, unknown> } }).params.capabilities;
      this.clientRequests = Boolean(capabilities && (capabilities.sampling || capabilities.elicitation || capabilities.roots));
      const requested = (messages[0] as unknown as { params: { protocolVersion: string } }).params.protocolVersion;
      this.protocolVersion = negotiatedVersion(requested);
      this.sessionId = this.options.sessionIdGenerator();
      this.initialized = true;
      this.jsonInit = { status: 200, headers: { 'content-type': 'application/json', 'mcp-session-id': this.sessionId } };
    } else {
      const refused = this.checkSession(headers, body);
      if (refused) return refused;
    }

    if (requests === 0) {
      for (const message of messages) {
        // Stryker disable next-line OptionalChaining: the gateway connects the SDK Server, which sets onmessage, before the first request
        this.onmessage?.(message);
        if ((message as { method?: unknown }).method === 'notifications/cancelled') this.cancelled(message);
      }
      return new Response(null, { status: 202 });
    }

    // JSON unless something besides the responses may flow; whichever the client accepts otherwise.
    const stream = sse && (!json || (!initialize && (progress || this.clientRequests)));
    const exchange: Exchange = { pending: requests, resolve: undefined, responses: undefined, stream: undefined };
    if (stream) {
      try {
        exchange.stream = this.openStream();
      } catch (error) {
        return errorResponse(error, requestIdOf(body));
      }
      for (const message of messages) {
        if (kindOf(message) === 'request') this.exchanges.set((message as { id: RequestId }).id, exchange);
      }
      // Stryker disable next-line OptionalChaining: the gateway connects the SDK Server, which sets onmessage, before the first request
      for (const message of messages) this.onmessage?.(message);
      return exchange.stream.response({ 'mcp-session-id': this.sessionId! });
    }
    for (const message of messages) {
      if (kindOf(message) === 'request') this.exchanges.set((message as { id: RequestId }).id, exchange);
    }
    exchange.responses = batch ? [] : undefined;
    return new Promise<Response>((resolve) => {
      exchange.resolve = resolve;
      // Stryker disable next-line OptionalChaining: the gateway connects the SDK Server, which sets onmessage, before the first request
      for (const message of messages) this.onmessage?.(message);
    });
  }

  private get(request: Request): Response {
    const headers = request.headers;
    if (!acceptsEventStream(headers.get('accept'))) {
      return errorResponse(new OrchError('NOT_ACCEPTABLE', 'Not Acceptable: Client must accept text/event-stream'));
    }
    const refused = this.checkSession(headers, undefined);
    if (refused) return refused;
    if (this.standalone) return errorResponse(new OrchError('CONFLICT', 'Conflict: Only one SSE stream is allowed per session'));
    try {
      this.standalone = this.openStream();
    } catch (error) {
      return errorResponse(error);
    }
    return this.standalone.response({ 'mcp-session-id': this.sessionId! });
  }

  private async delete(request: Request): Promise<Response> {
    const refused = this.checkSession(request.headers, undefined);
    if (refused) return refused;
    await this.close();
    // Stryker disable next-line ObjectLiteral: 200 is also what a Response without options has
    return new Response(null, { status: 200 });
  }

  /** The session and protocol version headers of a request after initialize. */
  private checkSession(headers: Headers, body: unknown): Response | undefined {
    if (!this.initialized) {
      return errorResponse(new OrchError('MISSING_SESSION', 'Bad Request: Server not initialized'), requestIdOf(body));
    }
    const id = headers.get('mcp-session-id');
    if (!id) {
      return errorResponse(
        new OrchError('MISSING_SESSION', 'Bad Request: Mcp-Session-Id header is required', {
          hint: 'start with an initialize request; its response carries the session id',
        }),
        requestIdOf(body),
      );
    }
    if (id !== this.sessionId) return unknownSession(id, body);
    const version = headers.get('mcp-protocol-version');
    if (version !== null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) {
      return errorResponse(
        new OrchError(
          'UNSUPPORTED_PROTOCOL_VERSION',
          `Bad Request: Unsupported protocol version: ${version} (supported versions: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
        ),
        requestIdOf(body),
      );
    }
    return undefined;
  }

  private openStream(): EventStream {
    const stream: EventStream = this.options.openStream({
      onend: () => {
        this.streams.delete(stream);
        if (this.standalone === stream) this.standalone = undefined;
      },
    });
    this.streams.add(stream);
    return stream;
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const response = 'result' in message || 'error' in message;
    const id = response ? (message as { id: RequestId }).id : options?.relatedRequestId;
    const exchange = this.exchanges.get(id);
    if (!exchange) {
      if (response) throw new Error(`No connection established for request ID: ${String(id)}`);
      return this.sendStandalone(message);
    }
    if (!response) {
      // A JSON exchange carries nothing but its responses; the rest goes where it can.
      if (exchange.stream) exchange.stream.send(message);
      else this.sendStandalone(message);
      return;
    }
    this.exchanges.delete(id);
    exchange.pending--;
    if (exchange.stream) {
      exchange.stream.send(message);
      if (exchange.pending === 0) exchange.stream.end();
      return;
    }
    if (exchange.responses) exchange.responses.push(message);
    if (exchange.pending > 0) return;
    exchange.resolve!(new Response(JSON.stringify(exchange.responses ?? message), this.jsonInit));
  }

  /**
   * A request the client cancelled gets no response (the Protocol drops it), so its POST is settled
   * here: a stream ends once nothing else is owed on it, a JSON body goes out with the responses
   * owed to the rest of its batch, or as 202 when there are none.
   */
  private cancelled(notification: JSONRPCMessage): void {
    const id = (notification as { params?: { requestId?: RequestId } }).params?.requestId;
    const exchange = this.exchanges.get(id);
    if (!exchange) return;
    this.exchanges.delete(id);
    if (--exchange.pending > 0) return;
    if (exchange.stream) exchange.stream.end();
    else if (exchange.responses?.length) exchange.resolve!(new Response(JSON.stringify(exchange.responses), this.jsonInit!));
    else exchange.resolve!(new Response(null, { status: 202 }));
  }

  /** A message outside of any open POST: on the GET stream, or nowhere when there is none. */
  private sendStandalone(message: JSONRPCMessage): void {
    if (this.closed) throw new Error('the session is closed');
    if (this.standalone) {
      this.standalone.send(message);
      return;
    }
    // A request of ours with nowhere to go must fail now rather than wait for its timeout.
    if ('method' in message && 'id' in message) {
      throw new Error(`no stream open to send ${message.method} to the client (open one with GET)`);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams]) stream.end();
    // A batch's requests share one exchange: its POST is answered once.
    for (const exchange of new Set(this.exchanges.values())) exchange.resolve?.(unknownSession(this.sessionId, undefined));
    this.exchanges.clear();
    this.onclose?.();
  }
}

function unknownSession(id: string | undefined, body: unknown): Response {
  return errorResponse(
    new OrchError('UNKNOWN_SESSION', `unknown session "${id ?? ''}"`, {
      hint: 'the session ended or belongs to another endpoint; send initialize again without Mcp-Session-Id',
    }),
    requestIdOf(body),
  );
}

/** Accept lists application/json (or a wildcard covering it). */
function acceptsJson(accept: string | null): boolean {
  if (!accept) return false;
  return accept.includes('application/json') || accept.includes('*/*') || accept.includes('application/*');
}

/** Accept lists text/event-stream (or a wildcard covering it). */
function acceptsEventStream(accept: string | null): boolean {
  if (!accept) return false;
  return accept.includes('text/event-stream') || accept.includes('*/*') || accept.includes('text/*');
}

function isJsonMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const semicolon = contentType.indexOf(';');
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === 'application/json';
}
