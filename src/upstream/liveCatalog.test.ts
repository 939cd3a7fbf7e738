/**
 * A 2026-07-28 server's catalog kept current through its listen stream, with the real modern-only
 * fixture over stdio: a change made while no stream was open is found by reading the lists again,
 * and only the server's acknowledgement counts as one.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { fixtureUpstream } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import type { CatalogKind } from './catalog.js';

const logger = createLogger({ level: 'silent' });
const toolNames = (tools: readonly { name: string }[]): string[] => tools.map((tool) => tool.name);

describe('the catalog of a 2026 server', () => {
  it('reads the lists again when the listen stream reopens, for a change made while it was closed', async () => {
    const upstream = fixtureUpstream('quiet', 'modern-only', { logger });
    try {
      await upstream.start();
      await upstream.ensureListening();
      expect(toolNames(upstream.catalog.tools)).not.toContain('extra_4');
      // The server ends the stream, then adds a tool without a word; the stream reopens a second later.
      await upstream.request('tools/call', { name: 'grow_quietly', arguments: {} });
      await expect.poll(() => toolNames(upstream.catalog.tools), { timeout: 15_000 }).toContain('extra_4');
    } finally {
      await upstream.close();
    }
  });

  it('takes only the acknowledgement for one: a list change heard before it leaves the wait open', async () => {
    const upstream = fixtureUpstream('slow-ack', 'modern-only', { logger, entry: { env: { MODERN_HOLD_ACK: '1' } } });
    try {
      await upstream.start();
      let ready = false;
      const listening = upstream.ensureListening().then(() => (ready = true));
      // The unacknowledged stream carries a list change: the list is read again, and the wait goes on.
      const changed = once(upstream, 'catalog') as Promise<[CatalogKind]>;
      await upstream.request('tools/call', { name: 'grow', arguments: {} });
      expect(await changed).toEqual(['tools']);
      expect(toolNames(upstream.catalog.tools)).toContain('extra_4');
      await new Promise((resolve) => setImmediate(resolve));
      expect(ready).toBe(false);
      await upstream.request('tools/call', { name: 'acknowledge', arguments: {} });
      await listening;
      expect(ready).toBe(true);
    } finally {
      await upstream.close();
    }
  });
});
