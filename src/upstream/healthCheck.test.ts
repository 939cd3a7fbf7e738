import { describe, expect, it } from 'vitest';
import { fixtureUpstream } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import { passFirstHealthCheck } from './healthCheck.js';

const logger = createLogger({ level: 'silent' });

describe('passFirstHealthCheck', () => {
  it('leaves a server running once it has started and answered a ping', async () => {
    const upstream = fixtureUpstream('fresh', 'echo', { logger });
    try {
      await passFirstHealthCheck(upstream);
      expect(upstream.state).toBe('running');
      expect(upstream.lifecycle.history[0]?.cause).toBe('first health check before switching to it');
    } finally {
      await upstream.close();
    }
  });

  it('stops for good a server that does not start, and throws why, with its last stderr', async () => {
    const upstream = fixtureUpstream('broken', 'crash-on-start', { logger });
    // Its last stderr lines, in order, each set apart (all three, unless the exit came before the last was read).
    await expect(passFirstHealthCheck(upstream)).rejects.toThrow(
      /process exited with code 3; last stderr: crash-on-start: reading configuration( \| fatal: missing API token( \| hint: set CRASH_FIXTURE_TOKEN)?)?$/,
    );
    expect(upstream.state).toBe('stopped');
    expect(upstream.lifecycle.history.at(-1)?.cause).toBe('did not pass its first health check');
  });

  it('stops for good a server that starts but does not answer the ping', async () => {
    const upstream = fixtureUpstream('mute', 'no-ping', { logger, entry: { env: { PING_OK: '0' } } });
    // The ping is bounded by the server's timeout: a short one once it runs.
    upstream.on('state', (state) => {
      if (state === 'running') upstream.reconfigure({ ...upstream.config, timeout: 0.5 });
    });
    await expect(passFirstHealthCheck(upstream)).rejects.toThrow('server "mute" did not answer ping within 0.5s');
    expect(upstream.state).toBe('stopped');
  });
});
