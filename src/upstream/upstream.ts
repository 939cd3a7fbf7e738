import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { Implementation, Notification, Request, Result, Root, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type ServerConfig, type Supervision } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import { Lifecycle, type LifecycleState } from '../supervisor/lifecycle.js';
import { createLogBuffer, type LogBuffer } from '../supervisor/logBuffer.js';
import type { CatalogKind, CatalogLists } from './catalog.js';
import { clientCapabilitiesFor, configuredRoots } from './roots.js';
import { ChannelClosedError, ChannelUndeliveredError } from './channel.js';
import { isTransient, requestError, unavailableError } from './failures.js';
import { IdleStop } from './idleStop.js';
import { describeError, describeExit, type Connection, type ConnectionDeps, type TransportKind } from './connection.js';
import { openConnection } from './open.js';
import type { ProtocolEra } from './envelope.js';
import type { RequestOptions, UpstreamDeps } from './deps.js';
import { InstanceSet } from './instances.js';
import { LiveCatalog } from './liveCatalog.js';

export type UpstreamState = LifecycleState;

interface UpstreamEvents {
  state: [UpstreamState];
  catalog: [CatalogKind];
  notification: [Notification];
}

/**
 * One configured MCP server as the gateway sees it: its connection (the child process behind it, or
 * the remote endpoint) under a supervised lifecycle, and its catalog. Shared by every downstream
 * session by default; with `isolation: "session"` it keeps the catalog and each owner (a session, or
 * a 2026 request) gets an instance of its own. Never throws from start(): a server that cannot start
 * is `failed` with a reason, and the others keep serving.
 */
export class Upstream extends EventEmitter<UpstreamEvents> {
  readonly logs: LogBuffer;
  readonly lifecycle: Lifecycle;
  /** The session (or 2026 request) this is the instance of, for a server with `isolation: "session"`. */
  readonly owner: string | undefined;
  private connection: Connection | undefined;
  /** Gives up the connection attempt in progress (its start timeout, or a stop meanwhile). */
  private opening: AbortController | undefined;
  private readonly lists: LiveCatalog;
  /** Stopped by the daemon itself (lazy, idle): the next request starts it again. */
  private autoStart = false;
  private lastUsed = Date.now();
  private inFlight = 0;
  private readonly idle: IdleStop;
  /** Why the server is not available, as a client may read it: never its stderr, which the log and the admin API keep. */
  private publicError: string | undefined;
  private readonly instances: InstanceSet | undefined;
  private readonly roots: Root[] | undefined;
  private readonly log: Logger;

  private _config: ServerConfig;

  constructor(
    readonly name: string,
    config: ServerConfig,
    private readonly deps: UpstreamDeps,
    options: { owner?: string; logs?: LogBuffer } = {},
  ) {
    super();
    this._config = config;
    this.setMaxListeners(0);
    this.owner = options.owner;
    // Stryker disable next-line ObjectLiteral,StringLiteral: log fields; no behaviour depends on them
    this.log = deps.logger.child({ component: 'upstream', server: name, ...(this.owner ? { owner: this.owner } : {}) });
    this.logs = options.logs ?? createLogBuffer(deps.supervision.logLines);
    this.roots = this.owner === undefined ? configuredRoots(config) : undefined;
    this.lists = new LiveCatalog({
      log: this.log,
      connection: () => this.connection,
      timeoutMs: () => this.timeoutMs,
      changed: (kind) => this.emit('catalog', kind),
    });
    if (config.isolation === 'session' && this.owner === undefined) {
      this.instances = new InstanceSet({
        name,
        max: config.maxInstances,
        create: (owner) => new Upstream(name, config, deps, { owner, logs: this.logs }),
        watch: (instance) => deps.watch?.(instance) ?? (() => undefined),
      });
    }
    this.lifecycle = new Lifecycle(
      this.owner === undefined ? name : `${name}[${this.owner.slice(0, 8)}]`,
      {
        start: () => this.connect(),
        stop: () => this.teardown(),
        ping: async (timeoutMs) => {
          // Stryker disable next-line all: the lifecycle pings only while running, when a connection is there; without one the call below would throw as well
          if (!this.connection) throw new Error('not connected');
          await this.connection.ping(timeoutMs);
        },
        pid: () => this.pid,
      },
      deps.supervision,
      { logger: deps.logger },
    );
    this.idle = new IdleStop(
      deps.supervision.idleTimeoutSec * 1000,
      () => ({ running: this.state === 'running', inFlight: this.inFlight, lastUsed: this.lastUsed }),
      (idleFor) => {
        this.autoStart = true;
        void this.lifecycle.stop(`idle for ${Math.round(idleFor / 1000)}s`);
      },
    );
    this.lifecycle.on('state', (state) => {
      if (state === 'running') this.idle.schedule();
      this.emit('state', state);
    });
    if (deps.supervision.lazy) this.autoStart = true;
  }

  get state(): UpstreamState {
    return this.lifecycle.state;
  }
  /** The server's entry in the config; its filters, overrides, group and dependsOn follow reloads. */
  get config(): ServerConfig {
    return this._config;
  }

  /**
   * Takes a config whose changes need no restart (filters, overrides, group, dependsOn); clients of
   * the lists whose rules changed hear that those lists may differ.
   */
  reconfigure(config: ServerConfig): void {
    const before = this._config;
    this._config = config;
    const differs = (...keys: (keyof ServerConfig)[]): boolean => keys.some((key) => !isDeepStrictEqual(before[key], config[key]));
    if (differs('tools', 'overrides')) this.emit('catalog', 'tools');
    if (differs('prompts', 'promptOverrides')) this.emit('catalog', 'prompts');
    if (differs('resources')) this.emit('catalog', 'resources');
  }
  /** The last failure with the server's last stderr lines, for its operator (status, the admin API). */
  get error(): string | undefined {
    return this.lifecycle.lastError;
  }
  get supervision(): Supervision {
    return this.deps.supervision;
  }
  /** Whether every owner gets an instance of its own (`isolation: "session"`). */
  get isolated(): boolean {
    return this.instances !== undefined;
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
        return this.lists.known;
      case 'stopped':
        return this.autoStart && this.lists.known;
      default:
        return false;
    }
  }
  get catalog(): Readonly<CatalogLists> {
    return this.lists.current;
  }
  get pid(): number | undefined {
    return this.connection?.child?.pid;
  }
  get capabilities(): ServerCapabilities {
    return this.connection?.capabilities ?? {};
  }
  get serverInfo(): Implementation | undefined {
    return this.connection?.serverInfo;
  }
  get instructions(): string | undefined {
    return this.connection?.instructions;
  }
  /**
   * The era of the current connection, for status: '2026-07-28' for a server that answered
   * server/discover listing it (spoken to without initialize when it lists no 2025 revision),
   * '2025-11-25' otherwise; undefined until connected.
   */
  get protocolEra(): ProtocolEra | undefined {
    return this.connection?.era;
  }
  /** Whether the server speaks 2026-07-28 only, so that no session to it exists. */
  get modernOnly(): boolean {
    return this.connection?.modernOnly ?? false;
  }
  get timeoutMs(): number {
    return this.config.timeout * 1000;
  }
  /** The transport in use; for a remote server without `type`, the one auto-detection settled on. */
  get transportKind(): TransportKind {
    if (this.connection) return this.connection.transportKind;
    if (isStdioServer(this.config)) return 'stdio';
    return this.config.type === 'sse' ? 'sse' : 'streamable-http';
  }
  /** Instances running for owners, for status (isolation: "session"). */
  get instanceCount(): number {
    return this.instances?.size ?? 0;
  }

  /** Starts the server under its lifecycle (restarts by policy). Lazy servers wait for first use. */
  start(): Promise<void> {
    if (this.deps.supervision.lazy && !this.lists.known && this.state === 'stopped') return Promise.resolve();
    return this.lifecycle.start();
  }

  /** Resolves once a start in progress has settled (running, or failed and restarting/crashed). */
  async settled(): Promise<void> {
    if (this.state === 'starting') await this.lifecycle.waitFor((state) => state !== 'starting', this.timeoutMs * 2);
  }

  /** Connects, initializes and reads the catalog, all bounded by the server's timeout; throws the reason it could not. */
  private async connect(): Promise<void> {
    const abort = new AbortController();
    this.opening = abort;
    let timer: NodeJS.Timeout | undefined;
    try {
      // Its own timeout starts once its dependencies are up.
      await this.deps.dependencies?.(abort.signal);
      abort.signal.throwIfAborted();
      timer = setTimeout(() => abort.abort(new Error(`did not finish initialize within ${this.config.timeout}s`)), this.timeoutMs);
      const connection = await openConnection(this.connectionDeps(), abort.signal);
      this.connection = connection;
      await this.lists.load(connection);
      this.publicError = undefined;
      // A 2026-only server announces list changes on a listen stream only: keep one open.
      if (connection.modernOnly) void this.lists.ensureListening();
      this.log.info({ tools: this.catalog.tools.length, pid: this.pid, era: connection.era }, 'server connected');
    } catch (error) {
      const reason = describeError(error);
      this.publicError = reason;
      await this.teardown();
      throw new Error(`${reason}${this.stderrTail()}`, { cause: error });
    } finally {
      clearTimeout(timer);
      if (this.opening === abort) this.opening = undefined;
    }
  }

  private connectionDeps(): ConnectionDeps {
    return {
      name: this.name,
      config: this.config,
      logger: this.log,
      spawnChild: this.deps.spawnChild,
      clientInfo: this.deps.clientInfo,
      stopGraceMs: this.deps.stopGraceMs,
      logs: this.logs,
      timeoutMs: this.timeoutMs,
      capabilities: clientCapabilitiesFor(this.owner !== undefined, this.roots),
      roots: this.roots,
      onServerRequest: (request, signal, related) => this.deps.onServerRequest(this, request, signal, related),
      onNotification: (notification) => void this.onNotification(notification),
      onClosed: (reason) => this.failed(reason),
      onExit: (exit) => this.failed(`process ${describeExit(exit)}`, { clean: exit.code === 0 && !exit.signal }),
      onCorrupt: (reason) => this.failed(reason),
    };
  }

  /** A failure of the running connection: the client-visible reason, and the full one (with stderr) for the lifecycle. */
  private failed(reason: string, options: { clean?: boolean } = {}): void {
    this.publicError = reason;
    void this.lifecycle.failed(`${reason}${this.stderrTail()}`, options);
  }

  /** See ListenStream: one subscriptions/listen stream to a 2026 server, for its list changes. */
  ensureListening(): Promise<void> {
    return this.lists.ensureListening();
  }

  /** Sessions hear a notification once the lists it says changed are read again. */
  private async onNotification(notification: Notification): Promise<void> {
    await this.lists.heard(notification);
    this.emit('notification', notification);
  }

  /**
   * Starts a lazy server that has never run, so that its catalog is known: a client opening a
   * unified session is about to ask for the lists, which is this server's first use.
   */
  wakeForCatalog(): void {
    if (this.state === 'stopped' && this.autoStart && !this.lists.known) void this.lifecycle.start('first use: catalog requested');
  }

  /**
   * Waits for the server to be running, up to its timeout, starting it first if the daemon stopped
   * it (lazy, idle); then fails with the reason it is not available.
   */
  async ready(): Promise<Connection> {
    if (this.state === 'running' && this.connection) return this.connection;
    if (this.state === 'stopped' && this.autoStart) void this.lifecycle.start('first use');
    if (isTransient(this.state)) {
      await this.lifecycle.waitFor((state) => !isTransient(state), this.timeoutMs);
    }
    if (this.state === 'running' && this.connection) return this.connection;
    throw this.unavailable();
  }

  /** Why the server cannot answer, as a client may read it (no stderr: `mcp-orch logs` has that). */
  unavailable(): OrchError {
    return unavailableError(this.name, this.state, this.config.timeout, this.publicError);
  }

  /** This server for `owner`: itself when shared, the owner's own instance with `isolation: "session"`. */
  instanceFor(owner: string): Promise<Upstream> {
    return this.instances ? this.instances.acquire(owner) : Promise.resolve(this);
  }

  /** The owner's instance if it has one (isolation: "session"). */
  instanceOf(owner: string): Upstream | undefined {
    return this.instances?.get(owner);
  }

  /** Stops the owner's instance, if any: its session ended, or its 2026 request is done. */
  releaseInstance(owner: string): Promise<void> {
    return this.instances?.release(owner) ?? Promise.resolve();
  }

  /**
   * Forwards one request, bounded by the server's timeout (extended while progress arrives). A
   * request the server never saw because it forgot the session (a remote server that restarted) is
   * sent once more, in the new session.
   */
  async request(method: string, params: Request['params'], options: RequestOptions = {}): Promise<Result> {
    this.inFlight++;
    this.lastUsed = Date.now();
    try {
      return await this.send(method, params, options).catch(async (error: unknown) => {
        if (!(error instanceof ChannelUndeliveredError)) throw error;
        // ready() waits for the new connection once the lifecycle has left the lost one.
        await this.lifecycle.waitFor((state) => state !== 'running', this.timeoutMs);
        return this.send(method, params, options);
      });
    } catch (error) {
      // The connection closes a moment before the exit is reported; wait briefly for the real cause.
      if (error instanceof ChannelClosedError) await this.lifecycle.waitFor((state) => state !== 'running', 250);
      throw requestError(error, this.name, method, this.config.timeout, this.publicError);
    } finally {
      this.inFlight--;
      this.lastUsed = Date.now();
    }
  }

  private async send(method: string, params: Request['params'], options: RequestOptions): Promise<Result> {
    // A running server is used without waiting a turn for ready().
    const connection = this.state === 'running' && this.connection ? this.connection : await this.ready();
    return connection.request(method, params, {
      timeoutMs: this.timeoutMs,
      signal: options.signal,
      onprogress: options.onprogress,
      onSent: options.onSent,
      // Undefined means the gateway's own, as when the key is absent: one object shape for every call.
      capabilities: options.clientCapabilities,
    });
  }

  /** The protocol era the server speaks, probed once per connection before anything else. */
  async era(): Promise<ProtocolEra> {
    return (await this.ready()).era;
  }

  async notify(notification: Notification): Promise<void> {
    if (this.state !== 'running' || !this.connection) return;
    await this.connection.notify(notification).catch((error: unknown) => {
      this.log.debug({ method: notification.method, err: describeError(error) }, 'notification not delivered');
    });
  }

  private stderrTail(): string {
    const lines = this.logs.lines(5).map((entry) => entry.line);
    return lines.length ? `; last stderr: ${lines.join(' | ')}` : '';
  }

  private async teardown(): Promise<void> {
    this.opening?.abort(new Error('stopped while starting'));
    const connection = this.connection;
    this.connection = undefined;
    this.lists.stopListening();
    await connection?.close();
  }

  /** Stops the server at a person's request; it stays stopped until started again. */
  async stop(cause = 'stop requested'): Promise<void> {
    this.autoStart = false;
    await this.lifecycle.stop(cause);
  }

  /** Stops the server and its instances for good (removed from the config, daemon shutdown); `cause` says which. Idempotent. */
  async close(cause = 'closed'): Promise<void> {
    this.idle.clear();
    this.autoStart = false;
    await Promise.all([this.lifecycle.stop(cause), this.instances?.closeAll()]);
  }
}
