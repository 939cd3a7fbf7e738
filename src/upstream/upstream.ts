import { EventEmitter } from 'node:events';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  McpError,
  ResultSchema,
  type ClientCapabilities,
  type Implementation,
  type Notification,
  type Progress,
  type Request,
  type Result,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type RemoteServerConfig, type ServerConfig, type StdioServerConfig } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ChildHandle, ExitInfo, SpawnChildOptions } from '../supervisor/childProcess.js';
import { createLogBuffer, type LogBuffer } from '../supervisor/logBuffer.js';
import { CATALOG_KINDS, emptyCatalog, fetchList, type CatalogKind, type CatalogLists } from './catalog.js';
import { StreamTransport } from './streamTransport.js';

export type UpstreamState = 'starting' | 'running' | 'failed' | 'stopped';

/** A request the server sends to its client (sampling, elicitation, roots); the gateway routes it. */
export type ServerRequestHandler = (upstream: Upstream, request: Request, signal: AbortSignal) => Promise<Result>;

export interface UpstreamDeps {
  logger: Logger;
  spawnChild: (options: SpawnChildOptions) => ChildHandle;
  clientInfo: Implementation;
  stopGraceMs: number;
  logCapacity?: number;
  onServerRequest: ServerRequestHandler;
}

export interface ForwardOptions {
  signal?: AbortSignal;
  onprogress?: (progress: Progress) => void;
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
  private client: Client | undefined;
  private child: ChildHandle | undefined;
  private _state: UpstreamState = 'stopped';
  private _error: string | undefined;
  private _catalog: CatalogLists = emptyCatalog();
  private starting: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
    private readonly deps: UpstreamDeps,
  ) {
    super();
    this.setMaxListeners(0);
    this.log = deps.logger.child({ component: 'upstream', server: name });
    this.logs = createLogBuffer(deps.logCapacity ?? 500);
  }

  get state(): UpstreamState {
    return this._state;
  }
  get error(): string | undefined {
    return this._error;
  }
  get catalog(): Readonly<CatalogLists> {
    return this._catalog;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }
  get capabilities(): ServerCapabilities {
    return this.client?.getServerCapabilities() ?? {};
  }
  get serverInfo(): Implementation | undefined {
    return this.client?.getServerVersion();
  }
  get instructions(): string | undefined {
    return this.client?.getInstructions();
  }
  get timeoutMs(): number {
    return this.config.timeout * 1000;
  }
  get transportKind(): 'stdio' | 'streamable-http' | 'sse' {
    if (isStdioServer(this.config)) return 'stdio';
    return this.config.type === 'sse' ? 'sse' : 'streamable-http';
  }

  /** Connects, initializes and reads the catalog, all bounded by the server's timeout. */
  start(): Promise<void> {
    this.starting ??= this.connect().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Resolves once a start in progress has finished (running or failed); at once otherwise. */
  settled(): Promise<void> {
    return this.starting ?? Promise.resolve();
  }

  private async connect(): Promise<void> {
    this.setState('starting');
    this._error = undefined;
    try {
      const client = await withTimeout(this.open(), this.timeoutMs, () => `did not finish initialize within ${this.config.timeout}s`);
      this.client = client;
      const lists = await Promise.all(CATALOG_KINDS.map((kind) => fetchList(client, kind, client.getServerCapabilities() ?? {}, this.timeoutMs)));
      CATALOG_KINDS.forEach((kind, i) => {
        (this._catalog as Record<CatalogKind, unknown>)[kind] = lists[i];
      });
      if (this._state !== 'starting') return; // failed or stopped while the lists were read
      this.setState('running');
      this.log.info({ tools: this._catalog.tools.length, pid: this.pid }, 'server running');
    } catch (error) {
      await this.fail(await this.startFailure(error));
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
    if (isStdioServer(this.config)) return this.openStdio(this.config);
    const remote = this.config;
    if (remote.type === 'sse') return this.openClient(sseTransport(remote));
    if (remote.type) return this.openClient(streamableTransport(remote));
    try {
      return await this.openClient(streamableTransport(remote));
    } catch (error) {
      // Auto mode: servers that predate Streamable HTTP answer its POST with 4xx; try legacy SSE.
      this.log.debug({ err: describeError(error) }, 'streamable HTTP failed, trying SSE');
      return this.openClient(sseTransport(remote));
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
      if (this.child !== child || this._state === 'stopped') return;
      void this.fail(`process ${describeExit(exit)}${this.stderrTail()}`);
    });
    const transport = new StreamTransport(child.stdout, child.stdin, (line) => {
      void this.fail(`wrote something other than JSON-RPC to stdout (servers must log to stderr): ${JSON.stringify(line)}`);
    });
    return this.openClient(transport);
  }

  private async openClient(transport: Transport): Promise<Client> {
    const client = new Client(this.deps.clientInfo, { capabilities: CLIENT_CAPABILITIES });
    client.fallbackRequestHandler = (request, extra) => this.deps.onServerRequest(this, request, extra.signal);
    client.fallbackNotificationHandler = (notification) => this.onNotification(notification);
    client.onerror = (error) => this.log.debug({ err: error.message }, 'client transport error');
    client.onclose = () => {
      if (this.client === client && this._state === 'running') void this.fail(`connection closed${this.stderrTail()}`);
    };
    await client.connect(transport, { timeout: this.timeoutMs });
    return client;
  }

  private async onNotification(notification: Notification): Promise<void> {
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
      const list = await fetchList(client, kind, this.capabilities, this.timeoutMs);
      (this._catalog as Record<CatalogKind, unknown>)[kind] = list;
      this.emit('catalog', kind);
    } catch (error) {
      this.log.warn({ kind, err: describeError(error) }, 'could not refresh list');
    }
  }

  /** Waits for the server to be running, up to its timeout; then fails with the reason it is not. */
  async ready(): Promise<Client> {
    if (this._state === 'running' && this.client) return this.client;
    if (this._state === 'starting') {
      await withTimeout(
        new Promise<void>((resolve) => {
          const onState = (state: UpstreamState): void => {
            if (state === 'starting') return;
            this.off('state', onState);
            resolve();
          };
          this.on('state', onState);
        }),
        this.timeoutMs,
        () => `is still starting after ${this.config.timeout}s`,
      ).catch(() => undefined);
      if (this.isRunning() && this.client) return this.client;
    }
    throw this.unavailable();
  }

  private isRunning(): boolean {
    return this._state === 'running';
  }

  unavailable(): OrchError {
    const reason = this._state === 'starting' ? `is still starting after ${this.config.timeout}s` : this._error ?? `is ${this._state}`;
    return new OrchError('SERVER_UNAVAILABLE', `server "${this.name}" is unavailable: ${reason}`, {
      hint: `see \`mcp-orch logs ${this.name}\` and the server's entry in the config`,
      data: { server: this.name, state: this._state },
    });
  }

  /** Forwards one request, bounded by the server's timeout (extended while progress arrives). */
  async request(method: string, params: Request['params'], options: ForwardOptions = {}): Promise<Result> {
    const client = await this.ready();
    const requestOptions: RequestOptions = { timeout: this.timeoutMs, resetTimeoutOnProgress: true };
    if (options.signal) requestOptions.signal = options.signal;
    if (options.onprogress) requestOptions.onprogress = options.onprogress;
    try {
      return await client.request({ method, params } as Request, ResultSchema, requestOptions);
    } catch (error) {
      throw this.explain(error, method);
    }
  }

  async notify(notification: Notification): Promise<void> {
    if (this._state !== 'running' || !this.client) return;
    await this.client.notification(notification).catch((error: unknown) => {
      this.log.debug({ method: notification.method, err: describeError(error) }, 'notification not delivered');
    });
  }

  /** Names the server and the cause when the connection under a request goes away or times out. */
  private explain(error: unknown, method: string): unknown {
    if (!(error instanceof McpError)) return error;
    if (error.code === ErrorCode.ConnectionClosed) {
      return new OrchError('SERVER_UNAVAILABLE', `server "${this.name}" went away during ${method}: ${this._error ?? 'connection closed'}`, {
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

  private async fail(reason: string): Promise<void> {
    if (this._state === 'failed' || this._state === 'stopped') return;
    this._error = reason;
    this.setState('failed');
    this.log.error({ reason }, 'server failed');
    await this.teardown();
  }

  private setState(state: UpstreamState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  private async teardown(): Promise<void> {
    const client = this.client;
    const child = this.child;
    this.client = undefined;
    this.child = undefined;
    await client?.close().catch(() => undefined);
    await child?.stop();
  }

  /** Stops the server: closes the client, then the child (stdin close, SIGTERM, SIGKILL). Idempotent. */
  async close(): Promise<void> {
    this.setState('stopped');
    await this.teardown();
  }
}

function streamableTransport(config: RemoteServerConfig): Transport {
  return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
}

function sseTransport(config: RemoteServerConfig): Transport {
  const headers = config.headers;
  return new SSEClientTransport(new URL(config.url), {
    requestInit: { headers },
    eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
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
