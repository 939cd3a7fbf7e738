/**
 * SDK clients connected to the daemon the way AI clients connect: over Streamable HTTP or legacy SSE
 * in 2025-11-25 (@modelcontextprotocol/sdk), or pinned to 2026-07-28 (@modelcontextprotocol/client).
 * Server->client features (sampling, elicitation, roots) are declared only when the test asks for them,
 * because the gateway is expected to pass each session's own capabilities upstream.
 */
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
  type CreateMessageRequest as ModernCreateMessageRequest,
  type CreateMessageResult as ModernCreateMessageResult,
  type ElicitRequest as ModernElicitRequest,
  type ElicitResult as ModernElicitResult,
} from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type ClientCapabilities,
  type CreateMessageRequest,
  type CreateMessageResult,
  type ElicitRequest,
  type ElicitResult,
  type Implementation,
  type Notification,
  type Root,
} from '@modelcontextprotocol/sdk/types.js';

export { waitFor, type WaitForOptions } from './wait.js';

export interface ConnectOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
  clientInfo?: Implementation;
  /** Declares the sampling capability and answers sampling/createMessage. */
  sampling?: (request: CreateMessageRequest) => CreateMessageResult | Promise<CreateMessageResult>;
  /** Declares the elicitation (form) capability and answers elicitation/create. */
  elicitation?: (request: ElicitRequest) => ElicitResult | Promise<ElicitResult>;
  /** Declares the roots capability (with listChanged) and answers roots/list. */
  roots?: Root[] | (() => Root[] | Promise<Root[]>);
  /**
   * More capabilities to declare, e.g. `{ sampling: {} }` when the handler is set later with
   * `client.setRequestHandler(CreateMessageRequestSchema, ...)`.
   */
  capabilities?: ClientCapabilities;
}

export function connectStreamable(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: requestInit(options) });
  return connectTransport(transport, options);
}

export function connectSse(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  const transport = new SSEClientTransport(new URL(url), { requestInit: requestInit(options) });
  return connectTransport(transport, options);
}

/** Ends each client's session (Streamable HTTP: DELETE) and closes it, ignoring clients already gone. */
export async function closeClients(clients: Client[]): Promise<void> {
  await Promise.all(
    clients.map(async (client) => {
      if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    }),
  );
}

/**
 * The clients of one daemon in a test file: `connect(path)` opens one on the daemon's URL (read at
 * each call, as the daemon starts in beforeAll) over the transport the path names (legacy SSE for
 * `.../sse`, else Streamable HTTP); `closeAll()` ends every one of them.
 */
export function daemonClients(baseUrl: () => string) {
  const open: Client[] = [];
  return {
    async connect(path: string, options: ConnectOptions = {}): Promise<Client> {
      const client = await (path.endsWith('/sse') ? connectSse : connectStreamable)(`${baseUrl()}${path}`, options);
      open.push(client);
      return client;
    },
    closeAll: (): Promise<void> => closeClients(open.splice(0)),
  };
}

/**
 * Collects every notification that has no handler of its own (logging, resources/updated,
 * list_changed, ...) into the returned array, in arrival order. Progress is not among them: the SDK
 * delivers it to the call's `onprogress`.
 */
export function recordNotifications(client: Client): Notification[] {
  const seen: Notification[] = [];
  client.fallbackNotificationHandler = async (notification) => {
    seen.push(notification);
  };
  return seen;
}

function requestInit({ token, headers }: ConnectOptions): RequestInit {
  return { headers: { ...headers, ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) } };
}

/** Connects over any transport (the fixture tests use stdio) with the same capability handling. */
export async function connectTransport(transport: Transport, options: ConnectOptions = {}): Promise<Client> {
  const { sampling, elicitation, roots } = options;
  const capabilities: ClientCapabilities = {
    ...(sampling ? { sampling: {} } : {}),
    ...(elicitation ? { elicitation: { form: {} } } : {}),
    ...(roots ? { roots: { listChanged: true } } : {}),
    ...options.capabilities,
  };
  const client = new Client(options.clientInfo ?? { name: 'mcp-orch-test', version: '0.0.0' }, { capabilities });
  if (sampling) client.setRequestHandler(CreateMessageRequestSchema, (request) => sampling(request));
  if (elicitation) client.setRequestHandler(ElicitRequestSchema, (request) => elicitation(request));
  if (roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: typeof roots === 'function' ? await roots() : roots,
    }));
  }
  await client.connect(transport);
  progressAtOnce(client, transport);
  return client;
}

/**
 * The SDK Client hands a notification to its handler a microtask after it arrives but settles a
 * response at once, so a last progress read in the same chunk as its response finds its request
 * gone and is dropped: how many arrive then depends on the machine's load. Tests count every
 * progress the wire carries, so this client handles progress as it arrives.
 */
function progressAtOnce(client: Client, transport: Transport): void {
  const dispatch = transport.onmessage;
  const protocol = client as unknown as { _onprogress(notification: unknown): void };
  transport.onmessage = (message, extra) => {
    if ('method' in message && message.method === 'notifications/progress' && !('id' in message)) return protocol._onprogress(message);
    dispatch?.(message, extra);
  };
}

export type { ModernClient };
export const MODERN_VERSION = '2026-07-28';

export interface ConnectModernOptions {
  clientInfo?: Implementation;
  headers?: Record<string, string>;
  /** Declares sampling and answers the server's sampling requests (input_required rounds). */
  sampling?: (request: ModernCreateMessageRequest) => ModernCreateMessageResult | Promise<ModernCreateMessageResult>;
  /** Declares elicitation (form) and answers the server's elicitation requests. */
  elicitation?: (request: ModernElicitRequest) => ModernElicitResult | Promise<ModernElicitResult>;
}

/** A client of the 2026-07-28 era (stateless, no initialize), pinned to that version. */
export async function connectModern(url: string | URL, options: ConnectModernOptions = {}): Promise<ModernClient> {
  const { sampling, elicitation } = options;
  const client = new ModernClient(options.clientInfo ?? { name: 'v2-client', version: '2.0.0' }, {
    versionNegotiation: { mode: { pin: MODERN_VERSION } },
    capabilities: { ...(sampling ? { sampling: {} } : {}), ...(elicitation ? { elicitation: { form: {} } } : {}) },
  });
  if (sampling) client.setRequestHandler('sampling/createMessage', (request) => sampling(request));
  if (elicitation) client.setRequestHandler('elicitation/create', (request) => elicitation(request));
  await client.connect(new ModernTransport(new URL(url), { requestInit: { headers: { ...options.headers } } }));
  return client;
}

/**
 * A raw 2026-07-28 `subscriptions/listen` POST (no client library): the open response is the
 * listen stream, read as text by the test; `token` is sent as a Bearer key.
 */
export function openModernListen(
  url: string | URL,
  options: { notifications: Record<string, boolean>; token?: string; id?: string | number },
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN_VERSION,
      'mcp-method': 'subscriptions/listen',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: options.id ?? 1,
      method: 'subscriptions/listen',
      params: {
        notifications: options.notifications,
        _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} },
      },
    }),
  });
}
