import { EventEmitter } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Protocol, type RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  type ClientCapabilities,
  type Implementation,
  type JSONRPCMessage,
  type Notification,
  type Progress,
  type Request,
  type Result,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type RemoteServerConfig, type ServerConfig, type StdioServerConfig, type Supervision } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ChildHandle, ExitInfo, SpawnChildOptions } from '../supervisor/childProcess.js';
import { Lifecycle, type LifecycleState } from '../supervisor/lifecycle.js';
import { createLogBuffer, type LogBuffer } from '../supervisor/logBuffer.js';
import { PassThroughResult } from './passThrough.js';
import { CATALOG_KINDS, emptyCatalog, fetchList, type CatalogKind, type CatalogLists } from './catalog.js';
import { connectByKind } from './messageKind.js';
import { ModernHttpTransport } from './modernHttpTransport.js';
import { StreamTransport } from './streamTransport.js';

export type UpstreamState = LifecycleState;

/** The protocol era a server speaks: 2026-07-28 (stateless, answers server/discover) or 2025-11-25. */
export type UpstreamEra = '2026-07-28' | '2025-11-25';

const MODERN: UpstreamEra = '2026-07-28';
const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
/** The longest the server/discover probe waits before a silent server is taken for a 2025 one. */
const PROBE_MAX_MS = 10_000;
/** How long ensureListening() waits for a 2026 server to acknowledge the listen stream. */
const LISTEN_ACK_WAIT_MS = 2_000;
/** The listen stream is one long request; it is reopened when it ends while the connection lives. */
const LISTEN_TIMEOUT_MS = 24 * 3600_000;
const LISTEN_REOPEN_MS = 1_000;

/** What a 2026-only server said of itself in server/discover (it has no initialize result). */
interface Discovered {
  capabilities: ServerCapabilities;
  serverInfo: Implementation | undefined;
  instructions: string | undefined;
}

/** A request the server sends to its client (sampling, elicitation, roots); the gateway routes it. */
export type ServerRequestHandler = (upstream: Upstream, request: Request, signal: AbortSignal) => Promise<Result>;

export interface UpstreamDeps {
  logger: Logger;
  spawnChild: (options: SpawnChildOptions) => ChildHandle;
  clientInfo: Implementation;
  stopGraceMs: number;
  supervision: Supervision;
  onServerRequest: ServerRequestHandler;
}

export interface ForwardOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
  /**
   * For a 2026-only server, the capabilities the envelope declares when the request has no envelope
   * of its own (a 2025 session's request: its client's capabilities); the gateway's by default.
   */
  clientCapabilities?: ClientCapabilities;
}

interface UpstreamEvents {
  state: [UpstreamState];
  catalog: [CatalogKind];
  notification: [Notification];
}

/** Everything the gateway offers a server on its behalf, whatever the downstream client supports. */
const CLIENT_CAPABILITIES: ClientCapabilities = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

const LIST_CHANGED: Record<string, CatalogKind[]> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

/**
 * One configured MCP server as seen from the gateway: a single SDK Client shared by every
 * downstream session, the child process behind it (stdio) and its catalog. Never throws from
 * start(): a server that cannot start is `failed` with a reason, and the others keep serving.
 */
export class Upstream extends EventEmitter<UpstreamEvents> {
  readonly logs: LogBuffer;
  readonly lifecycle: Lifecycle;
  private client: Client | undefined;
  private child: ChildHandle | undefined;
  private _catalog: CatalogLists = emptyCatalog();
  private catalogKnown = false;
  /** Stopped by the daemon itself (lazy, idle): the next request starts it again. */
  private autoStart = false;
  private lastUsed = Date.now();
  private fellBackToSse = false;
  private inFlight = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** The era probed on the current connection (server/discover before anything else); a reconnect probes again. */
  private connectionEra: UpstreamEra | undefined;
  /** Set for a server that speaks 2026-07-28 only: connected without initialize, spoken to with the envelope. */
  private discovered: Discovered | undefined;
  /** The one subscriptions/listen stream to a 2026 server on the current connection. */
  private listenStream: { client: Client; abort: AbortController; acknowledged: Promise<void>; ack: () => void } | undefined;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
    private readonly deps: UpstreamDeps,
  ) {
    super();
    this.setMaxListeners(0);
    this.log = deps.logger.child({ component: 'upstream', server: name });
    this.logs = createLogBuffer(deps.supervision.logLines);
    this.lifecycle = new Lifecycle(
      name,
      {
        start: () => this.connect(),
        stop: () => this.teardown(),
        ping: async (timeoutMs) => {
          if (!this.client) throw new Error('not connected');
          // ping is deprecated in 2026-07-28: server/discover is the liveness probe there.
          if (this.discovered) await this.client.request(this.enveloped('server/discover', {}), PassThroughResult, { timeout: timeoutMs });
          else await this.client.ping({ timeout: timeoutMs });
        },
        pid: () => this.child?.pid,
      },
      deps.supervision,
      { logger: deps.logger },
    );
    this.lifecycle.on('state', (state) => {
      if (state === 'running') this.scheduleIdleCheck();
      this.emit('state', state);
    });
    if (deps.supervision.lazy) this.autoStart = true;
  }

  get state(): UpstreamState {
    return this.lifecycle.state;
  }
  get error(): string | undefined {
    return this.lifecycle.lastError;
  }
  get supervision(): Supervision {
    return this.deps.supervision;
  }
  /**
   * Whether clients should see this server's tools: while it runs or restarts, and while stopped by
   * the daemon (lazy, idle) once its catalog is known. Not when crashed or stopped by a person.
   */
  get available(): boolean {
    switch (this.state) {
      case 'running':
      case 'unhealthy':
      case 'restarting':
      case 'starting':
        return this.catalogKnown;
      case 'stopped':
        return this.autoStart && this.catalogKnown;
      default:
        return false;
    }
  }
  get catalog(): Readonly<CatalogLists> {
    return this._catalog;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get capabilities(): ServerCapabilities {
    if (this.discovered) return this.discovered.capabilities;
    return this.client?.getServerCapabilities() ?? {};
  }
  get serverInfo(): Implementation | undefined {
    if (this.discovered) return this.discovered.serverInfo;
    return this.client?.getServerVersion();
  }
  get instructions(): string | undefined {
    if (this.discovered) return this.discovered.instructions;
    return this.client?.getInstructions();
  }
  /**
   * The era of the current connection, for status: '2026-07-28' for a server that answered
   * server/discover listing it (spoken to without initialize when it lists no 2025 revision),
   * '2025-11-25' otherwise; undefined until connected.
   */
  get protocolEra(): UpstreamEra | undefined {
    return this.client ? this.connectionEra : undefined;
  }
  /** Whether the server speaks 2026-07-28 only, so that no session to it exists. */
  get modernOnly(): boolean {
    return this.discovered !== undefined;
  }
  get timeoutMs(): number {
    return this.config.timeout * 1000;
  }
  /** The transport in use; for a remote server without `type`, the one auto-detection settled on. */
  get transportKind(): 'stdio' | 'streamable-http' | 'sse' {
    if (isStdioServer(this.config)) return 'stdio';
    return this.config.type === 'sse' || this.fellBackToSse ? 'sse' : 'streamable-http';
  }

  /** Starts the server under its lifecycle (restarts by policy). Lazy servers wait for first use. */
  start(): Promise<void> {
    if (this.deps.supervision.lazy && !this.catalogKnown && this.state === 'stopped') return Promise.resolve();
    return this.lifecycle.start();
  }

  /** Resolves once a start in progress has settled (running, or failed and restarting/crashed). */
  async settled(): Promise<void> {
    if (this.state === 'starting') await this.waitForState((state) => state !== 'starting', this.timeoutMs * 2);
  }

  /** Connects, initializes and reads the catalog, all bounded by the server's timeout; throws the reason it could not. */
  private async connect(): Promise<void> {
    try {
      const client = await withTimeout(this.open(), this.timeoutMs, () => `did not finish initialize within ${this.config.timeout}s`);
      this.client = client;
      const lists = await Promise.all(CATALOG_KINDS.map((kind) => fetchList(this.lister(client), kind, this.capabilities)));
      const changed = CATALOG_KINDS.filter((kind, i) => JSON.stringify(this._catalog[kind]) !== JSON.stringify(lists[i]));
      CATALOG_KINDS.forEach((kind, i) => {
        (this._catalog as Record<CatalogKind, unknown>)[kind] = lists[i];
      });
      this.catalogKnown = true;
      // After a restart, sessions hear about lists that differ from the previous run's.
      for (const kind of changed) this.emit('catalog', kind);
      // A 2026-only server announces list changes on a listen stream only: keep one open.
      if (this.discovered) void this.ensureListening();
      this.log.info({ tools: this._catalog.tools.length, pid: this.pid, era: this.connectionEra }, 'server connected');
    } catch (error) {
      const reason = await this.startFailure(error);
      await this.teardown();
      throw new Error(reason, { cause: error });
    }
  }

  /** A child that died during initialize explains itself better by its exit and stderr than by "connection closed". */
  private async startFailure(error: unknown): Promise<string> {
    const child = this.child;
    if (!child) return describeError(error);
    const exit = await Promise.race([child.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500).unref())]);
    return exit ? `process ${describeExit(exit)}${this.stderrTail()}` : `${describeError(error)}${this.stderrTail()}`;
  }

  private async open(): Promise<Client> {
    this.connectionEra = undefined;
    this.discovered = undefined;
    if (isStdioServer(this.config)) return this.openStdio(this.config);
    const remote = this.config;
    if (remote.type === 'sse') {
      // Legacy HTTP+SSE predates 2026-07-28, which is Streamable HTTP only.
      this.connectionEra = '2025-11-25';
      return this.openClient(sseTransport(remote));
    }
    // server/discover first, statelessly: a 2026-only server is kept on that transport; any other
    // answer (an error, a 4xx from a session-bound 2025 server) falls back to initialize.
    const modern = new ModernHttpTransport(new URL(remote.url), remote.headers);
    const found = await this.probe(modern);
    if (found) {
      return this.openDiscovered(
        found,
        () => this.openClient(streamableTransport(remote), this.probeWaitMs),
        () => this.openModern(modern),
      );
    }
    await modern.close();
    if (remote.type) return this.openClient(streamableTransport(remote));
    try {
      const client = await this.openClient(streamableTransport(remote));
      this.fellBackToSse = false;
      return client;
    } catch (error) {
      // Auto mode: servers that predate Streamable HTTP answer its POST with 4xx; try legacy SSE.
      this.log.debug({ err: describeError(error) }, 'streamable HTTP failed, trying SSE');
      const client = await this.openClient(sseTransport(remote));
      this.fellBackToSse = true;
      return client;
    }
  }

  private async openStdio(config: StdioServerConfig): Promise<Client> {
    const child = this.deps.spawnChild({
      name: this.name,
      command: config.command,
      args: config.args,
      env: config.env,
      ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
      logger: this.deps.logger,
      stopGraceMs: this.deps.stopGraceMs,
      logBuffer: this.logs,
    });
    this.child = child;
    void child.exited.then((exit) => {
      if (this.child !== child) return;
      void this.lifecycle.failed(`process ${describeExit(exit)}${this.stderrTail()}`, { clean: exit.code === 0 && !exit.signal });
    });
    const transport = new StreamTransport(child.stdout, child.stdin, (line) => {
      if (this.child !== child) return;
      void this.lifecycle.failed(`wrote something other than JSON-RPC to stdout (servers must log to stderr): ${JSON.stringify(line)}`);
    });
    // The 2026-07-28 stdio probe: server/discover first, initialize on the same stream when it fails.
    const found = await this.probe(transport);
    if (!found) return this.openClient(transport);
    return this.openDiscovered(
      found,
      async () => {
        const lent = lend(transport);
        const client = await this.openClient(lent.transport, this.probeWaitMs);
        lent.keep();
        return client;
      },
      () => this.openModern(transport),
    );
  }

  /** How long each probe waits for an answer: 10 s at most, or half the server's timeout. */
  private get probeWaitMs(): number {
    return Math.min(PROBE_MAX_MS, this.timeoutMs / 2);
  }

  /**
   * A server that answered server/discover with 2026-07-28 is offered initialize next: a dual-era
   * server takes it, and 2025 sessions keep what only a session carries (logging, resource
   * subscriptions, server->client requests outside a call) while 2026 clients are passed through.
   * A server that refuses it (or stays silent) speaks 2026-07-28 only and is spoken to statelessly.
   */
  private async openDiscovered(found: Discovered, initialize: () => Promise<Client>, modern: () => Promise<Client>): Promise<Client> {
    try {
      return await initialize();
    } catch (error) {
      this.log.info({ err: describeError(error) }, 'initialize refused after server/discover: the server speaks 2026-07-28 only');
      this.discovered = found;
      return modern();
    }
  }

  /**
   * Sends server/discover (with the 2026 envelope) on a transport nobody has connected yet and
   * records the era; returns what the server said of itself when it lists 2026-07-28. An error, a
   * non-JSON-RPC answer or silence (up to probeWaitMs) means a server of the initialize era.
   */
  private async probe(transport: Transport): Promise<Discovered | undefined> {
    const id = 'mcp-orch-discover';
    const waitMs = this.probeWaitMs;
    const result = await new Promise<Result | undefined>((resolve) => {
      const finish = (value: Result | undefined): void => {
        clearTimeout(timer);
        transport.onmessage = undefined;
        transport.onclose = undefined;
        resolve(value);
      };
      const timer = setTimeout(() => finish(undefined), waitMs);
      transport.onmessage = (message: JSONRPCMessage) => {
        const reply = message as { id?: unknown; result?: Result };
        if (reply.id === id) finish(reply.result);
      };
      transport.onclose = () => finish(undefined);
      const request = { jsonrpc: '2.0', id, ...this.enveloped('server/discover', {}) } as JSONRPCMessage;
      transport
        .start()
        .then(() => transport.send(request))
        .catch(() => finish(undefined));
    });
    const versions = Array.isArray(result?.supportedVersions) ? (result.supportedVersions as unknown[]) : [];
    this.connectionEra = versions.includes(MODERN) ? MODERN : '2025-11-25';
    this.log.info({ era: this.connectionEra }, 'protocol era probed');
    if (this.connectionEra !== MODERN || !result) return undefined;
    const meta = (result._meta ?? {}) as Record<string, unknown>;
    return {
      capabilities: (result.capabilities ?? {}) as ServerCapabilities,
      serverInfo: (result.serverInfo ?? meta[META_SERVER_INFO]) as Implementation | undefined,
      instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
    };
  }

  /** A client on a 2026-only server: the SDK's transport plumbing without its initialize handshake. */
  private async openModern(transport: Transport): Promise<Client> {
    const client = this.newClient();
    await connectByKind(client, transport, () => Protocol.prototype.connect.call(client, transport));
    return client;
  }

  /** The request with the 2026 envelope in `_meta`, unless it carries one (a 2026 client's own). */
  private enveloped(
    method: string,
    params: Request['params'] | undefined,
    capabilities: ClientCapabilities = CLIENT_CAPABILITIES,
  ): { method: string; params: NonNullable<Request['params']> } {
    const meta = (params?._meta ?? {}) as Record<string, unknown>;
    if (meta[META_PROTOCOL_VERSION] !== undefined) return { method, params: params ?? {} };
    const _meta = {
      ...meta,
      [META_PROTOCOL_VERSION]: MODERN,
      [META_CLIENT_CAPABILITIES]: capabilities,
      [META_CLIENT_INFO]: this.deps.clientInfo,
    };
    return { method, params: { ...params, _meta } };
  }

  /** Sends catalog list requests in the server's era. */
  private lister(client: Client): (method: string, params: Record<string, unknown>) => Promise<Result> {
    return (method, params) =>
      client.request(this.discovered ? this.enveloped(method, params) : { method, params }, PassThroughResult, { timeout: this.timeoutMs });
  }

  /**
   * Keeps one subscriptions/listen stream open to a 2026 server for the life of the connection (a
   * 2026-only server from the start; a dual-era one once a 2026 client listens), reopened when the
   * server ends it. Its list changes refresh the catalog like a 2025 server's notifications do.
   * Resolves when the server acknowledges it (or after 2 s).
   */
  ensureListening(): Promise<void> {
    const client = this.client;
    if (!client || this.connectionEra !== MODERN) return Promise.resolve();
    if (this.listenStream?.client === client) return this.listenStream.acknowledged;
    const abort = new AbortController();
    let ack = (): void => undefined;
    const acknowledged = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LISTEN_ACK_WAIT_MS);
      timer.unref();
      ack = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    const stream = { client, abort, acknowledged, ack };
    this.listenStream = stream;
    const request = this.enveloped('subscriptions/listen', {
      notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true },
    });
    void client
      .request(request, PassThroughResult, { signal: abort.signal, timeout: LISTEN_TIMEOUT_MS })
      .catch((error: unknown) => this.log.debug({ err: describeError(error) }, 'listen stream ended'))
      .finally(() => {
        if (this.listenStream !== stream) return;
        this.listenStream = undefined;
        if (abort.signal.aborted || this.client !== client) return;
        setTimeout(() => {
          if (this.client === client) void this.ensureListening();
        }, LISTEN_REOPEN_MS).unref();
      });
    return acknowledged;
  }

  private async openClient(transport: Transport, timeoutMs = this.timeoutMs): Promise<Client> {
    const client = this.newClient();
    await connectByKind(client, transport, () => client.connect(transport, { timeout: timeoutMs }));
    return client;
  }

  private newClient(): Client {
    const client = new Client(this.deps.clientInfo, { capabilities: CLIENT_CAPABILITIES });
    client.fallbackRequestHandler = (request, extra) => this.deps.onServerRequest(this, request, extra.signal);
    client.fallbackNotificationHandler = (notification) => this.onNotification(notification);
    client.onerror = (error) => this.log.debug({ err: error.message }, 'client transport error');
    client.onclose = () => {
      if (this.client === client) void this.lifecycle.failed(`connection closed${this.stderrTail()}`);
    };
    return client;
  }

  private async onNotification(notification: Notification): Promise<void> {
    if (notification.method === 'notifications/subscriptions/acknowledged') this.listenStream?.ack();
    const kinds = LIST_CHANGED[notification.method];
    if (kinds && this.client) {
      await Promise.all(kinds.map((kind) => this.refresh(kind)));
    }
    this.emit('notification', notification);
  }

  /** Re-reads one list after a list_changed notification; a failure keeps the previous list. */
  private async refresh(kind: CatalogKind): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      const list = await fetchList(this.lister(client), kind, this.capabilities);
      (this._catalog as Record<CatalogKind, unknown>)[kind] = list;
      this.emit('catalog', kind);
    } catch (error) {
      this.log.warn({ kind, err: describeError(error) }, 'could not refresh list');
    }
  }

  /**
   * Starts a lazy server that has never run, so that its catalog is known: a client opening a
   * unified session is about to ask for the lists, which is this server's first use.
   */
  wakeForCatalog(): void {
    if (this.state === 'stopped' && this.autoStart && !this.catalogKnown) void this.lifecycle.start('first use: catalog requested');
  }

  /**
   * Waits for the server to be running, up to its timeout, starting it first if the daemon stopped
   * it (lazy, idle); then fails with the reason it is not available.
   */
  async ready(): Promise<Client> {
    if (this.state === 'running' && this.client) return this.client;
    if (this.state === 'stopped' && this.autoStart) void this.lifecycle.start('first use');
    if (isTransient(this.state)) {
      await this.waitForState((state) => !isTransient(state), this.timeoutMs);
    }
    if (this.state === 'running' && this.client) return this.client;
    throw this.unavailable();
  }

  private waitForState(done: (state: UpstreamState) => boolean, timeoutMs: number): Promise<void> {
    if (done(this.state)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.off('state', onState);
        resolve();
      };
      const onState = (state: UpstreamState): void => {
        if (done(state)) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.on('state', onState);
    });
  }

  unavailable(): OrchError {
    const state = this.state;
    const reason = isTransient(state)
      ? `is ${state} (not running after ${this.config.timeout}s)${this.error ? `; last error: ${this.error}` : ''}`
      : (this.error ?? `is ${state}`);
    return new OrchError('SERVER_UNAVAILABLE', `server "${this.name}" is unavailable: ${reason}`, {
      hint: `see \`mcp-orch logs ${this.name}\` and the server's entry in the config`,
      data: { server: this.name, state },
    });
  }

  /** Forwards one request, bounded by the server's timeout (extended while progress arrives). */
  async request(method: string, params: Request['params'], options: ForwardOptions = {}): Promise<Result> {
    const client = await this.ready();
    this.inFlight++;
    this.lastUsed = Date.now();
    const requestOptions: RequestOptions = { timeout: this.timeoutMs, resetTimeoutOnProgress: true };
    if (options.signal) requestOptions.signal = options.signal;
    if (options.onprogress) requestOptions.onprogress = options.onprogress;
    try {
      const request = this.discovered ? this.enveloped(method, params, options.clientCapabilities) : { method, params };
      return await client.request(request as Request, PassThroughResult, requestOptions);
    } catch (error) {
      throw await this.explain(error, method);
    } finally {
      this.inFlight--;
      this.lastUsed = Date.now();
    }
  }

  /**
   * The protocol era the server speaks, probed once per connection before anything else: a server
   * that lists 2026-07-28 in the supportedVersions of its server/discover answer is spoken to in 2026
   * requests (the _meta envelope on each); any other answer, an error included, means 2025-11-25.
   */
  async era(): Promise<UpstreamEra> {
    await this.ready();
    return this.connectionEra ?? '2025-11-25';
  }

  async notify(notification: Notification): Promise<void> {
    if (this.state !== 'running' || !this.client) return;
    // 2026-07-28 has no client notifications to a server outside a request (roots changes included).
    if (this.discovered) return;
    await this.client.notification(notification).catch((error: unknown) => {
      this.log.debug({ method: notification.method, err: describeError(error) }, 'notification not delivered');
    });
  }

  /** Names the server and the cause when the connection under a request goes away or times out. */
  private async explain(error: unknown, method: string): Promise<unknown> {
    if (!(error instanceof McpError)) return error;
    if (error.code === ErrorCode.ConnectionClosed) {
      // The connection closes a moment before the exit is reported; wait briefly for the real cause.
      await this.waitForState((state) => state !== 'running', 250);
      return new OrchError('SERVER_UNAVAILABLE', `server "${this.name}" went away during ${method}: ${this.error ?? 'connection closed'}`, {
        data: { server: this.name },
      });
    }
    if (error.code === ErrorCode.RequestTimeout) {
      return new OrchError('UPSTREAM_TIMEOUT', `server "${this.name}" did not answer ${method} within ${this.config.timeout}s`, {
        hint: `raise "timeout" for ${this.name} in the config if it needs longer`,
        data: { server: this.name },
      });
    }
    return error;
  }

  private stderrTail(): string {
    const lines = this.logs.lines(5).map((entry) => entry.line);
    return lines.length ? `; last stderr: ${lines.join(' | ')}` : '';
  }

  private async teardown(): Promise<void> {
    const client = this.client;
    const child = this.child;
    this.client = undefined;
    this.child = undefined;
    this.listenStream?.abort.abort();
    this.listenStream = undefined;
    await client?.close().catch(() => undefined);
    await child?.stop();
  }

  /** Stops the server at a person's request; it stays stopped until started again. */
  async stop(cause = 'stop requested'): Promise<void> {
    this.autoStart = false;
    await this.lifecycle.stop(cause);
  }

  /** Stops the server after `idleTimeoutSec` without requests; the next request starts it again. */
  private scheduleIdleCheck(): void {
    const idleMs = this.deps.supervision.idleTimeoutSec * 1000;
    if (idleMs <= 0) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(
      () => {
        if (this.state !== 'running') return;
        const idleFor = Date.now() - this.lastUsed;
        if (this.inFlight > 0 || idleFor < idleMs) return this.scheduleIdleCheck();
        this.autoStart = true;
        void this.lifecycle.stop(`idle for ${Math.round(idleFor / 1000)}s`);
      },
      Math.max(1000, idleMs - (Date.now() - this.lastUsed)),
    );
    this.idleTimer.unref();
  }

  /** Stops the server for good (removed from the config, daemon shutdown). Idempotent. */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.autoStart = false;
    await this.lifecycle.stop('closed');
  }
}

/** States that end by themselves in running or in a final state. */
function isTransient(state: UpstreamState): boolean {
  return state === 'starting' || state === 'restarting' || state === 'unhealthy' || state === 'stopping';
}

/**
 * Lends a stdio transport to a client for an initialize attempt: if the attempt fails, the client's
 * close() only lets go of it, so that the same stream can then be spoken to without initialize.
 * `keep()` after a successful attempt hands it over for good.
 */
function lend(inner: Transport): { transport: Transport; keep(): void } {
  let kept = false;
  const lent: Transport = {
    start: () => inner.start(),
    send: (message, options) => inner.send(message, options),
    close: async () => {
      if (kept) return inner.close();
      inner.onmessage = undefined;
      inner.onclose = undefined;
      inner.onerror = undefined;
    },
  };
  inner.onmessage = (message, extra) => lent.onmessage?.(message, extra);
  inner.onclose = () => lent.onclose?.();
  inner.onerror = (error) => lent.onerror?.(error);
  return { transport: lent, keep: () => (kept = true) };
}

function streamableTransport(config: RemoteServerConfig): Transport {
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
}

function sseTransport(config: RemoteServerConfig): Transport {
  const headers = config.headers;
  return new SSEClientTransport(new URL(config.url), {
    requestInit: { headers },
    eventSourceInit: {
      fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
    },
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, reason: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(reason())), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function describeExit(exit: ExitInfo): string {
  return exit.error ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
