import type { Upstream } from './upstream.js';

/**
 * Starts `upstream` and resolves once it runs and has answered a ping: the first health check of a
 * new instance before it takes another's place (a deployment's new commit). Otherwise it is
 * stopped for good and the reason, with its last stderr lines, is thrown.
 */
export async function passFirstHealthCheck(upstream: Upstream): Promise<void> {
  await upstream.lifecycle.start('first health check before switching to it');
  try {
    // Stryker disable next-line StringLiteral: a start that did not end running always leaves its error; the fallback is defensive
    if (upstream.state !== 'running') throw new Error(upstream.error ?? `it is ${upstream.state}`);
    await upstream.request('ping', {});
  } catch (error) {
    await upstream.close('did not pass its first health check');
    throw error;
  }
}
