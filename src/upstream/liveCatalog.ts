import type { Notification, Result } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../log.js';
import { Catalog, LIST_CHANGED_KINDS, type CatalogKind, type CatalogLists } from './catalog.js';
import { describeError, type Connection } from './connection.js';
import { ListenStream } from './listen.js';

/** What a live catalog needs from the server it belongs to. */
export interface LiveCatalogHost {
  log: Logger;
  /** The server's connection now, if any. */
  connection: () => Connection | undefined;
  /** The bound on each list request (the server's timeout). */
  timeoutMs: () => number;
  /** A list may differ from what sessions saw: they hear of it. */
  changed: (kind: CatalogKind) => void;
}

/**
 * One server's catalog kept current with its connection: read in full on each new connection, one
 * list again when the server says it changed (a 2025 notification, or the 2026 listen stream), and
 * in full again when a listen stream reopens after a gap in which changes may have gone unheard.
 */
export class LiveCatalog {
  private readonly lists = new Catalog();
  private readonly listen: ListenStream;

  constructor(private readonly host: LiveCatalogHost) {
    this.listen = new ListenStream(host.log, host.connection, (connection) => {
      // Stryker disable next-line ArrowFunction,ObjectLiteral,StringLiteral: a failed re-read keeps the lists as they were and is only logged
      this.load(connection).catch((error: unknown) => host.log.warn({ err: describeError(error) }, 'could not read the lists again'));
    });
  }

  get current(): Readonly<CatalogLists> {
    return this.lists.lists;
  }
  /** Whether the lists were read at least once (a server that never ran has none to show). */
  get known(): boolean {
    return this.lists.known;
  }

  /** Reads every list; sessions hear of those that differ from what they saw (after a restart, the previous run's). */
  async load(connection: Connection): Promise<void> {
    const changed = await this.lists.load(this.lister(connection), connection.capabilities);
    for (const kind of changed) this.host.changed(kind);
  }

  /** See ListenStream: one subscriptions/listen stream to a 2026 server, for its list changes. */
  ensureListening(): Promise<void> {
    return this.listen.ensure();
  }

  /** Closes the listen stream, if any (the connection is going away). */
  stopListening(): void {
    this.listen.stop();
  }

  /** A notification from the server: an acknowledged listen stream, or lists it says changed. */
  async heard(notification: Notification): Promise<void> {
    if (notification.method === 'notifications/subscriptions/acknowledged') this.listen.acknowledged();
    const kinds = LIST_CHANGED_KINDS[notification.method];
    const connection = this.host.connection();
    if (kinds && connection) await Promise.all(kinds.map((kind) => this.refresh(kind, connection)));
  }

  /** Re-reads one list after the server said it changed; a failure keeps the previous list. */
  private async refresh(kind: CatalogKind, connection: Connection): Promise<void> {
    try {
      await this.lists.refresh(kind, this.lister(connection), connection.capabilities);
      this.host.changed(kind);
    } catch (error) {
      this.host.log.warn({ kind, err: describeError(error) }, 'could not refresh list');
    }
  }

  /** Sends list requests in the connection's era, bounded by the server's timeout. */
  private lister(connection: Connection): (method: string, params: Record<string, unknown>) => Promise<Result> {
    return (method, params) => connection.request(method, params, { timeoutMs: this.host.timeoutMs() });
  }
}
