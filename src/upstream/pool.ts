import { EventEmitter } from 'node:events';
import type { Notification } from '@modelcontextprotocol/sdk/types.js';
import { CATALOG_KINDS, type CatalogKind } from './catalog.js';
import type { Upstream, UpstreamState } from './upstream.js';

interface PoolEvents {
  /** Membership, a state or a catalog changed: derived views must be rebuilt. */
  changed: [];
  catalog: [Upstream, CatalogKind];
  state: [Upstream, UpstreamState];
  notification: [Upstream, Notification];
  /** A member crossed a CPU or memory limit. */
  threshold: [Upstream, string];
}

/**
 * The set of live upstreams by name. Views and sessions read it; the daemon adds and removes
 * members as the config changes. `version` lets readers cache what they derive from it.
 */
export class UpstreamPool extends EventEmitter<PoolEvents> {
  private readonly members = new Map<string, { upstream: Upstream; detach: () => void }>();
  private _version = 0;

  constructor() {
    super();
    this.setMaxListeners(0);
  }

  get version(): number {
    return this._version;
  }

  get(name: string): Upstream | undefined {
    return this.members.get(name)?.upstream;
  }

  all(): Upstream[] {
    return [...this.members.values()].map((member) => member.upstream);
  }

  names(): string[] {
    return [...this.members.keys()];
  }

  add(upstream: Upstream): void {
    this.remove(upstream.name);
    const detach = this.watch(upstream);
    this.members.set(upstream.name, { upstream, detach });
    this.touch();
    // One that joins started (a new deployment taking another's place) says what it is, as it
    // would have while starting in the pool: sessions hear its lists may differ.
    if (upstream.state !== 'stopped') {
      this.emit('state', upstream, upstream.state);
      for (const kind of CATALOG_KINDS) this.emit('catalog', upstream, kind);
    }
  }

  /**
   * Passes an upstream's events on as the pool's own without making it a member: how a server's
   * per-session instances (isolation: "session") reach the gateway. Returns the unwiring.
   */
  watch(upstream: Upstream): () => void {
    const onState = (state: UpstreamState): void => {
      this.touch();
      this.emit('state', upstream, state);
    };
    const onCatalog = (kind: CatalogKind): void => {
      this.touch();
      this.emit('catalog', upstream, kind);
    };
    const onNotification = (notification: Notification): void => {
      this.emit('notification', upstream, notification);
    };
    const onThreshold = (reason: string): void => {
      this.emit('threshold', upstream, reason);
    };
    upstream.on('state', onState);
    upstream.on('catalog', onCatalog);
    upstream.on('notification', onNotification);
    upstream.lifecycle.on('threshold', onThreshold);
    return () => {
      upstream.off('state', onState);
      upstream.off('catalog', onCatalog);
      upstream.off('notification', onNotification);
      upstream.lifecycle.off('threshold', onThreshold);
    };
  }

  /**
   * What clients see of a member's list changed though the server's own did not (a held tool was
   * approved): views rebuild and clients hear of it as of a change of the list.
   */
  relist(upstream: Upstream, kind: CatalogKind): void {
    this.touch();
    this.emit('catalog', upstream, kind);
  }

  /** Removes a member from the pool (the caller closes it). */
  remove(name: string): Upstream | undefined {
    const member = this.members.get(name);
    if (!member) return undefined;
    member.detach();
    this.members.delete(name);
    this.touch();
    return member.upstream;
  }

  private touch(): void {
    this._version++;
    this.emit('changed');
  }
}
