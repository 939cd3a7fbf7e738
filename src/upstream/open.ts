import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SseError, SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type RemoteServerConfig, type ServerConfig } from '../config/schema.js';
import { isOrchError, OrchError, WireError } from '../errors.js';
import type { ChildHandle } from '../supervisor/childProcess.js';
import { truncateLine } from '../supervisor/logBuffer.js';
import { probeEra, type Discovered, type ProtocolEra } from './envelope.js';
import { connectByKind } from './messageKind.js';
import { ModernHttpTransport } from './modernHttpTransport.js';
import { StreamTies } from './streamTies.js';
import { StreamTransport } from './streamTransport.js';
import { Connection, describeError, describeExit, type ConnectionDeps, type TransportKind } from './connection.js';

/** The longest the server/discover probe waits before a silent server is taken for a 2025 one. */
const PROBE_MAX_MS = 10_000;

/**
 * Connects, probes and initializes; throws the reason it could not. Aborting `signal` (the start
 * timeout) abandons the attempt: its child is stopped and its callbacks stay silent.
 */
export function openConnection(deps: ConnectionDeps, signal: AbortSignal): Promise<Connection> {
  return new Opener(deps).open(signal);
}

/** The steps of opening one connection; its state lives only as long as the attempt. */
class Opener {
  private connection: Connection | undefined;
  private ties: StreamTies | undefined;
  private child: ChildHandle | undefined;
  private client: Client | undefined;
  /** Set once the attempt failed or was given up: nothing it started may report anything. */
  private abandoned = false;

  constructor(private readonly deps: ConnectionDeps) {}

  private get probeWaitMs(): number {
    return Math.min(PROBE_MAX_MS, this.deps.timeoutMs / 2);
  }

  private get silent(): boolean {
    return this.abandoned || (this.connection?.isClosing ?? false);
  }

  async open(signal: AbortSignal): Promise<Connection> {
    const opening = this.openByTransport();
    const given = new Promise<never>((_, reject) => {
      // Silent from the moment it is given up: a line read in the same chunk reports nothing either.
      const giveUp = (): void => {
        this.abandoned = true;
        reject(signal.reason);
      };
      if (signal.aborted) giveUp();
      signal.addEventListener('abort', giveUp, { once: true });
    });
    try {
      return await Promise.race([opening, given]);
    } catch (error) {
      this.abandoned = true;
      // A connection that completes after the attempt was given up is closed as it arrives.
      opening.then(
        (late) => void late.close(),
        () => undefined,
      );
      const reason = await this.failure(error);
      await this.client?.close().catch(() => undefined);
      await this.child?.stop();
      throw new Error(reason, { cause: error });
    }
  }

  /** A child that died while starting explains itself better by its exit than by "connection closed". */
  private async failure(error: unknown): Promise<string> {
    const child = this.child;
    if (!child || isOrchError(error)) return describeError(error);
    const exit = await Promise.race([child.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500).unref())]);
    return exit ? `process ${describeExit(exit)}` : describeError(error);
  }

  private async openByTransport(): Promise<Connection> {
    const { config } = this.deps;
    if (isStdioServer(config)) return this.openStdio(config);
    const remote = config;
    // Legacy HTTP+SSE predates 2026-07-28, which is Streamable HTTP only.
    if (remote.type === 'sse') return this.connect(this.sse(remote), '2025-11-25', undefined, 'sse');
    // server/discover first, statelessly: a 2026-only server is kept on that transport; any other
    // answer (an error, a 4xx from a session-bound 2025 server) falls back to initialize.
    const modern = new ModernHttpTransport(new URL(remote.url), remote.headers);
    const probed = await probeEra(modern, this.deps.capabilities, this.deps.clientInfo, this.probeWaitMs);
    // Stryker disable next-line ObjectLiteral,StringLiteral: log wording and fields; no behaviour depends on them
    this.deps.logger.info({ era: probed.era }, 'protocol era probed');
    if (probed.discovered) {
      const discovered = probed.discovered;
      return this.initializeOr(
        () => this.connect(this.streamable(remote), probed.era, undefined, 'streamable-http', this.probeWaitMs),
        () => this.connect(modern, probed.era, discovered, 'streamable-http'),
      );
    }
    await modern.close();
    if (remote.type) return this.connect(this.streamable(remote), probed.era, undefined, 'streamable-http');
    try {
      return await this.connect(this.streamable(remote), probed.era, undefined, 'streamable-http');
    } catch (error) {
      // Auto mode: servers that predate Streamable HTTP answer its POST with 4xx; try legacy SSE.
      // Stryker disable next-line ObjectLiteral,StringLiteral: log wording and fields; no behaviour depends on them
      this.deps.logger.debug({ err: describeError(error) }, 'streamable HTTP failed, trying SSE');
      return this.connect(this.sse(remote), '2025-11-25', undefined, 'sse');
    }
  }

  private async openStdio(config: Extract<ServerConfig, { command: string }>): Promise<Connection> {
    const child = this.deps.spawnChild({
      name: this.deps.name,
      command: config.command,
      args: config.args,
      env: config.env,
      ...(config.cwd === undefined ? {} : { cwd: config.cwd }),
      logger: this.deps.logger,
      stopGraceMs: this.deps.stopGraceMs,
      logBuffer: this.deps.logs,
    });
    this.child = child;
    // No pid: the command could not be run (not found, not executable, no such cwd). Retrying will
    // not help, so it is a config error, and there is nothing to probe.
    if (child.pid === undefined) {
      const exit = await child.exited;
      throw new OrchError('CONFIG_INVALID', `mcpServers.${this.deps.name}.command: ${describeExit(exit)}`, {
        hint: `install it or fix "command" (a full path works), then \`mcp-orch start ${this.deps.name}\``,
      });
    }
    void child.exited.then((exit) => {
      if (!this.silent) this.deps.onExit(exit);
    });
    const transport = new StreamTransport(child.stdout, child.stdin, {
      onStray: (line) => logStray(this.deps, line),
      onCorrupt: (reason, line) => {
        this.deps.logs.pushStdout(line);
        if (!this.silent) this.deps.onCorrupt(reason);
      },
    });
    // The 2026-07-28 stdio probe: server/discover first, initialize on the same stream when it fails.
    const probed = await probeEra(transport, this.deps.capabilities, this.deps.clientInfo, this.probeWaitMs);
    this.deps.logger.info({ era: probed.era }, 'protocol era probed');
    if (!probed.discovered) return this.connect(transport, probed.era, undefined, 'stdio');
    const discovered = probed.discovered;
    return this.initializeOr(
      async () => {
        const lent = lend(transport);
        const connection = await this.connect(lent.transport, probed.era, undefined, 'stdio', this.probeWaitMs);
        lent.keep();
        return connection;
      },
      () => this.connect(transport, probed.era, discovered, 'stdio'),
    );
  }

  /**
   * A server that answered server/discover with 2026-07-28 is offered initialize next: a dual-era
   * server takes it, and 2025 sessions keep what only a session carries (logging, resource
   * subscriptions, server->client requests outside a call) while 2026 clients are passed through.
   * A server that refuses it (or stays silent) speaks 2026-07-28 only and is spoken to statelessly.
   */
  private async initializeOr(initialize: () => Promise<Connection>, modern: () => Promise<Connection>): Promise<Connection> {
    try {
      return await initialize();
    } catch (error) {
      // Stryker disable next-line ObjectLiteral,StringLiteral: log wording and fields; no behaviour depends on them
      this.deps.logger.info({ err: describeError(error) }, 'initialize refused after server/discover: the server speaks 2026-07-28 only');
      return modern();
    }
  }

  /**
   * An SDK Client on `transport`: with initialize, or (a 2026-only server, `discovered` set) with
   * the SDK's transport plumbing alone. Its inbound messages pass the request channel first.
   */
  private async connect(
    transport: Transport,
    era: ProtocolEra,
    discovered: Discovered | undefined,
    kind: TransportKind,
    timeoutMs = this.deps.timeoutMs,
  ): Promise<Connection> {
    const { deps } = this;
    const client = new Client(deps.clientInfo, { capabilities: deps.capabilities });
    this.client = client;
    const ties = this.ties;
    const roots = deps.roots;
    if (roots) client.setRequestHandler(ListRootsRequestSchema, () => ({ roots }));
    client.fallbackRequestHandler = async (request, extra) => {
      try {
        // Ties see only the Streamable HTTP transport's streams: after a fallback to SSE they know nothing.
        return await deps.onServerRequest(request, extra.signal, ties?.take(extra.requestId));
      } catch (error) {
        // The server gets the code, the message with its hint, and the data, without the SDK's prefix.
        throw WireError.of(error);
      }
    };
    client.fallbackNotificationHandler = async (notification) => deps.onNotification(notification);
    client.onerror = (error) => {
      // Stryker disable next-line ObjectLiteral,StringLiteral: log wording and fields; no behaviour depends on them
      deps.logger.debug({ err: error.message }, 'client transport error');
      // The legacy SSE session is its stream; the SDK would reconnect it into a new session, uninitialized.
      if (error instanceof SseError) this.connection?.lost(`the SSE stream broke (${error.message})`);
    };
    const connect = discovered
      ? () => Protocol.prototype.connect.call(client, transport)
      : () => client.connect(transport, { timeout: timeoutMs });
    // Stryker disable next-line BooleanLiteral,OptionalChaining: the interceptor is put in place after connect and called from a later turn, once this.connection is set
    await connectByKind(client, transport, connect, (message) => this.connection?.channel.accept(message) ?? false);
    this.connection = new Connection(client, transport, era, discovered, kind, this.child, deps);
    return this.connection;
  }

  private streamable(config: RemoteServerConfig): Transport {
    this.ties = new StreamTies(async (url, init) => {
      const response = await fetch(url, init);
      // A 404 to a request in the session: the server forgot it (it restarted); the spec's answer is a new initialize.
      // Stryker disable next-line OptionalChaining: the SDK's transport passes init with every request
      if (response.status === 404 && new Headers(init?.headers).has('mcp-session-id')) {
        // Stryker disable next-line OptionalChaining: the SDK's transport passes init with every request
        this.connection?.lost('the server no longer knows the session (HTTP 404; it may have restarted)', requestIdOf(init?.body));
      }
      return response;
    });
    return new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers }, fetch: this.ties.fetch });
  }

  private sse(config: RemoteServerConfig): Transport {
    // The SDK sends requestInit's headers on the event stream's GET too, beside its own Accept.
    return new SSEClientTransport(new URL(config.url), { requestInit: { headers: config.headers } });
  }
}

/**
 * Lends a stdio transport to a client for an initialize attempt: if the attempt fails, the client's
 * close() only lets go of it, so that the same stream can then be spoken to without initialize.
 * `keep()` after a successful attempt hands it over for good.
 */
function lend(inner: Transport): { transport: Transport; keep(): void } {
  let kept = false;
  const lent: Transport = {
    // Stryker disable next-line ArrowFunction: the era probe has started the stream already
    start: () => inner.start(),
    send: (message, options) => inner.send(message, options),
    close: async () => {
      if (kept) return inner.close();
      inner.onmessage = undefined;
      inner.onclose = undefined;
      inner.onerror = undefined;
    },
  };
  // Stryker disable next-line OptionalChaining: the client sets its handlers on the lent transport in this turn, before anything is read
  inner.onmessage = (message, extra) => lent.onmessage?.(message, extra);
  // Stryker disable next-line OptionalChaining: as above
  inner.onclose = () => lent.onclose?.();
  // Stryker disable next-line all: as above; and a stream error reaches the client only for a debug log line
  inner.onerror = (error) => lent.onerror?.(error);
  return { transport: lent, keep: () => (kept = true) };
}

/**
 * Keeps a line the server wrote to stdout that is no message in its log (the SDK's own client skips
 * such lines too); the first one of the server's life is worth a warning, the rest are counted.
 */
function logStray({ logs, logger }: Pick<ConnectionDeps, 'logs' | 'logger'>, line: string): void {
  logs.pushStdout(line);
  if (logs.stdoutLines === 1) {
    // Stryker disable next-line OptionalChaining: pushStdout has just kept the first line
    logger.warn({ stdout: logs.firstStdout?.line }, 'server wrote a line to stdout that is not JSON-RPC: skipped, kept in its log');
  } else {
    logger.debug({ stdout: truncateLine(line) });
  }
}

/** The id of the channel's request a POST carried (the SDK sends one message as JSON text), if it held one. */
function requestIdOf(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  const message = JSON.parse(body) as { id?: unknown; method?: unknown };
  // An answer to the server's own request carries the server's id, which may be a string too.
  // Stryker disable next-line ConditionalExpression,LogicalOperator: an id that is no string matches none of the channel's; a server numbering its own requests as the channel does ("o1", ...) is the only case the method check is for
  return typeof message.id === 'string' && typeof message.method === 'string' ? message.id : undefined;
}
