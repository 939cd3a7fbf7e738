import type { ClientCapabilities, Implementation, Progress, Request, RequestId, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Supervision } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { ChildHandle, SpawnChildOptions } from '../supervisor/childProcess.js';
import type { Upstream } from './upstream.js';

/** A request the server sends to its client (sampling, elicitation, roots); the gateway routes it. */
export type ServerRequestHandler = (upstream: Upstream, request: Request, signal: AbortSignal, related?: RequestId) => Promise<Result>;

export interface UpstreamDeps {
  logger: Logger;
  spawnChild: (options: SpawnChildOptions) => ChildHandle;
  clientInfo: Implementation;
  stopGraceMs: number;
  supervision: Supervision;
  onServerRequest: ServerRequestHandler;
  /** Wires an instance's events (isolation: "session") where the pool's members' go; returns the unwiring. */
  watch?: (instance: Upstream) => () => void;
  /**
   * Resolves when the servers this one depends on are running (or will not be), before each start;
   * `signal` aborts when the start is given up.
   */
  dependencies?: (signal: AbortSignal) => Promise<void>;
}

/** How one request to the server is sent: its cancellation, progress, envelope and id. */
export interface RequestOptions {
  signal?: AbortSignal | undefined;
  onprogress?: ((progress: Progress) => void) | undefined;
  /**
   * For a 2026-only server, the capabilities the envelope declares when the request has no envelope
   * of its own (a 2025 session's request: its client's capabilities); the gateway's by default.
   */
  clientCapabilities?: ClientCapabilities | undefined;
  /** Told the JSON-RPC id of the request as it is sent. */
  onSent?: ((id: RequestId) => void) | undefined;
}
