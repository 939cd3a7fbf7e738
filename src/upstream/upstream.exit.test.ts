/**
 * How an Upstream over stdio learns that its server went away by itself: its stdout closes a moment
 * before its exit is known, and the exit (with its status) is what counts.
 */
import { describe, expect, it } from 'vitest';
import { fixtureUpstream, orchErrorOf } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';

const logger = createLogger({ level: 'silent' });
const echo = { name: 'echo', arguments: { text: 'x' } };

describe('a server that goes away by itself', () => {
  it('with status 0 is stopped, not restarted on failure, and is said to have exited', async () => {
    const upstream = fixtureUpstream('done', 'crash-after', { logger, entry: { env: { CRASH_AFTER: '0', CRASH_CODE: '0' } } });
    try {
      await upstream.start();
      await orchErrorOf(upstream.request('tools/call', echo));
      await upstream.lifecycle.waitFor((state) => state !== 'running', 20_000);
      expect(upstream.state).toBe('stopped');
      // Its last stderr line goes with the reason when it was read before the exit was (a race).
      expect(upstream.error).toMatch(/^process exited with code 0(; last stderr: crash-after: crashing on call 1 \(CRASH_AFTER=0\))?$/);
      expect(upstream.unavailable().message).toBe('server "done" is unavailable: process exited with code 0');
    } finally {
      await upstream.close();
    }
  });

  it('with a crash fails the request under way with its exit, as soon as the server is on its way to a restart', async () => {
    const upstream = fixtureUpstream('crashy', 'crash-after', { logger, entry: { env: { CRASH_AFTER: '0' }, backoff: { initialMs: 1 } } });
    try {
      await upstream.start();
      const error = await orchErrorOf(upstream.request('tools/call', echo));
      // Its pipe closes a moment before its exit is known: the request waits for that, and no longer.
      expect(upstream.state).toBe('restarting');
      expect(error.code).toBe('SERVER_UNAVAILABLE');
      expect(error.message).toBe('server "crashy" went away during tools/call: process exited with code 1');
    } finally {
      await upstream.close();
    }
  });
});
