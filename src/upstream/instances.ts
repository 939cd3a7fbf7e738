import { OrchError } from '../errors.js';
import type { Upstream } from './upstream.js';

export interface InstanceSetOptions {
  /** The server's name, for errors. */
  name: string;
  max: number;
  /** A new, not yet started instance owned by `owner`, supervised like any server. */
  create(owner: string): Upstream;
  /** Wires an instance's events where the pool's members' go; returns the unwiring. */
  watch(instance: Upstream): () => void;
}

/**
 * The instances of a server with `isolation: "session"`: one process per owner (a downstream session,
 * or one 2026-07-28 request), started on its first request and stopped when its owner lets go, at
 * most `max` at once. Nothing one owner sends reaches another owner's instance.
 */
export class InstanceSet {
  private readonly byOwner = new Map<string, { instance: Upstream; unwatch: () => void }>();

  constructor(private readonly options: InstanceSetOptions) {}

  /** The owner's instance, started and ready; a new one when it has none. */
  async acquire(owner: string): Promise<Upstream> {
    let entry = this.byOwner.get(owner);
    if (!entry) {
      if (this.byOwner.size >= this.options.max) {
        throw new OrchError(
          'LIMIT_REACHED',
          `server "${this.options.name}" runs ${this.options.max} instances already (isolation: "session")`,
          {
            hint: `raise "maxInstances" for ${this.options.name}, or close idle sessions`,
            retryAfterSec: 5,
            data: { server: this.options.name, maxInstances: this.options.max },
          },
        );
      }
      const instance = this.options.create(owner);
      entry = { instance, unwatch: this.options.watch(instance) };
      this.byOwner.set(owner, entry);
      void instance.start();
    }
    await entry.instance.ready();
    return entry.instance;
  }

  get(owner: string): Upstream | undefined {
    return this.byOwner.get(owner)?.instance;
  }

  /** Stops and forgets the owner's instance; resolves once its process is gone. */
  async release(owner: string): Promise<void> {
    const entry = this.byOwner.get(owner);
    if (!entry) return;
    this.byOwner.delete(owner);
    await entry.instance.close();
    entry.unwatch();
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.byOwner.keys()].map((owner) => this.release(owner)));
  }

  /** Instances running (or starting) for owners now. */
  get size(): number {
    return this.byOwner.size;
  }
}
