/**
 * The subscription registry on its own: one server subscription per (server, URI) however many
 * sessions hold it, updates to exactly the sessions holding that URI of that server, and an update
 * nobody holds (it may cross an unsubscribe on the way) reaching no one.
 */
import { describe, expect, it } from 'vitest';
import type { Upstream } from '../upstream/upstream.js';
import { SubscriptionRegistry, type Subscriber } from './subscriptions.js';

/** A server as the registry uses it: the requests it was sent. */
function server(): Upstream & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    request: async (method: string, params: { uri: string }) => void sent.push(`${method} ${params.uri}`),
  } as unknown as Upstream & {
    sent: string[];
  };
}

function session(): Subscriber & { updates: string[] } {
  const updates: string[] = [];
  return { updates, resourceUpdated: (_upstream, uri) => void updates.push(uri) };
}

describe('SubscriptionRegistry', () => {
  it('subscribes a server once per URI, and tells only the sessions holding that URI of that server', async () => {
    const registry = new SubscriptionRegistry();
    const [a, b] = [server(), server()];
    const [one, two] = [session(), session()];
    await registry.subscribe(one, a, 'file:///x');
    await registry.subscribe(two, a, 'file:///x');
    await registry.subscribe(two, b, 'file:///x');
    expect(a.sent).toEqual(['resources/subscribe file:///x']);

    registry.notify(a, 'file:///x');
    registry.notify(b, 'file:///y');
    expect(one.updates).toEqual(['file:///x']);
    expect(two.updates).toEqual(['file:///x']);

    await registry.dropSubscriber(one);
    await registry.dropSubscriber(two);
    expect(a.sent).toEqual(['resources/subscribe file:///x', 'resources/unsubscribe file:///x']);
    // An update that crossed the last unsubscribe reaches no one.
    expect(() => registry.notify(a, 'file:///x')).not.toThrow();
    expect(two.updates).toEqual(['file:///x']);
  });
});
