import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  ClientCapabilities,
  Implementation,
  Notification,
  Request,
  RequestId,
  Result,
  Root,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { ServerConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import { within, type ChildHandle, type ExitInfo, type SpawnChildOptions } from '../supervisor/childProcess.js';
import type { LogBuffer } from '../supervisor/logBuffer.js';
import { RequestChannel, type ChannelRequestOptions } from './channel.js';
import { enveloped, type Discovered, type ProtocolEra } from './envelope.js';

/**
 * How long a child whose stdout closed is given to exit before the closed pipe is reported instead:
 * its exit says more (and whether it was clean), and comes at once unless it lives on without stdout.
 */
const EXIT_AFTER_CLOSE_MS = 2000;

export interface ConnectionDeps {
  name: string;
  config: ServerConfig;
  logger: Logger;
  spawnChild: (options: SpawnChildOptions) => ChildHandle;
  clientInfo: Implementation;
  stopGraceMs: number;
  logs: LogBuffer;
  timeoutMs: number;
  /** What the gateway declares to the server it can answer on its clients' behalf. */
  capabilities: ClientCapabilities;
  /** Roots the gateway answers itself (a shared server's configured ones); undefined: roots/list goes to onServerRequest. */
  roots: Root[] | undefined;
  /** A server->client request; `related` is the id of the gateway's request it came with, when the transport says. */
  onServerRequest(request: Request, signal: AbortSignal, related: RequestId | undefined): Promise<Result>;
  onNotification(notification: Notification): void;
  /** The connection went away by itself (not by close()): the transport closed, or the server lost the session. */
  onClosed(reason: string): void;
  /** The child process exited by itself. */
  onExit(exit: ExitInfo): void;
  /**
   * The child's stdout is broken beyond stray lines (which are only logged): a message broke off,
   * or stray output came by the megabyte. The reason says what was seen; the line is in the log.
   */
  onCorrupt(reason: string): void;
}

/**
 * One live connection to a server: the child process (stdio) or the remote endpoint, in the era the
 * server was probed at (server/discover first, then initialize, which a 2026-only server refuses),
 * an SDK Client for the session's own traffic and a request channel beside it for everything the
 * gateway forwards. A reconnect is a new Connection.
 */
export class Connection {
  readonly channel: RequestChannel;
  private closing = false;
  /** Set once the connection ended, by whatever cause: it is reported once. */
  private ended = false;

  /** Built by openConnection (open.ts) once the server has answered; `client` is connected on `transport`. */
  constructor(
    readonly client: Client,
    transport: Transport,
    readonly era: ProtocolEra,
    /** Set for a server that speaks 2026-07-28 only: connected without initialize, spoken to with the envelope. */
    readonly discovered: Discovered | undefined,
    readonly transportKind: TransportKind,
    readonly child: ChildHandle | undefined,
    private readonly deps: ConnectionDeps,
  ) {
    this.channel = new RequestChannel(transport);
    client.onclose = () => this.end('connection closed');
  }

  /**
   * The server no longer holds the session this connection speaks in (a remote server restarted
   * and forgot it, or a legacy SSE stream, which is the session, broke): requests in flight fail with
   * `reason`, and the connection is reported gone, so that a new one initializes again. `undelivered`
   * is the id of a request the server refused with the session, unseen.
   */
  lost(reason: string, undelivered?: string): void {
    this.end(reason, undelivered);
    void this.client.close().catch(() => undefined);
  }

  private end(reason: string, undelivered?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.channel.close(reason, undelivered);
    const child = this.child;
    if (!child) {
      if (!this.closing) this.deps.onClosed(reason);
      return;
    }
    // The child's exit, reported by onExit, stops the connection (closing it) before this settles.
    void within(child.exited, EXIT_AFTER_CLOSE_MS).then(() => {
      if (!this.closing) this.deps.onClosed(reason);
    });
  }

  get modernOnly(): boolean {
    return this.discovered !== undefined;
  }

  /** What the server said of itself: in server/discover (2026-only), else at initialize. */
  get capabilities(): ServerCapabilities {
    return this.discovered?.capabilities ?? this.client.getServerCapabilities() ?? {};
  }
  get serverInfo(): Implementation | undefined {
    return this.discovered ? this.discovered.serverInfo : this.client.getServerVersion();
  }
  get instructions(): string | undefined {
    return this.discovered ? this.discovered.instructions : this.client.getInstructions();
  }

  /** Whether close() was called: what the child and transport report from then on is expected. */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Sends one request in the server's era: with the 2026 envelope for a 2026-only server, or when
   * `envelope` asks for it (a 2026 method to a dual-era server); as it is otherwise.
   */
  request(
    method: string,
    params: Request['params'],
    options: ChannelRequestOptions & { capabilities?: ClientCapabilities; envelope?: boolean },
  ): Promise<Result> {
    const request =
      this.discovered || options.envelope
        ? enveloped(method, params, options.capabilities ?? this.deps.capabilities, this.deps.clientInfo)
        : { method, params };
    return this.channel.request(request, options);
  }

  /** The liveness probe: ping, or server/discover for a 2026-only server (ping is gone from that revision). */
  async ping(timeoutMs: number): Promise<void> {
    if (this.discovered) await this.request('server/discover', {}, { timeoutMs });
    else await this.client.ping({ timeout: timeoutMs });
  }

  async notify(notification: Notification): Promise<void> {
    // 2026-07-28 has no client notifications to a server outside a request (roots changes included).
    if (this.discovered) return;
    await this.client.notification(notification);
  }

  /** Closes the connection and stops the child; the callbacks stay silent from here on. Idempotent. */
  async close(): Promise<void> {
    this.closing = true;
    this.channel.close();
    await this.client.close().catch(() => undefined);
    await this.child?.stop();
  }
}

export type TransportKind = 'stdio' | 'streamable-http' | 'sse';

export function describeExit(exit: ExitInfo): string {
  return exit.error ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
