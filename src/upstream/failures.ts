import { OrchError } from '../errors.js';
import type { LifecycleState } from '../supervisor/lifecycle.js';
import { ChannelClosedError, ChannelSendError, ChannelTimeoutError } from './channel.js';

/**
 * What a client is told when a server cannot answer: its name, its state and why, never its stderr
 * (which may hold secrets; `mcp-orch logs` and the admin API show it to the operator).
 */

/** States that end by themselves in running or in a final state. */
export function isTransient(state: LifecycleState): boolean {
  return state === 'starting' || state === 'restarting' || state === 'unhealthy' || state === 'stopping';
}

/** Why a server is not available: disabled, still starting (with its last error) or failed. */
export function unavailableError(name: string, state: LifecycleState, timeoutSec: number, lastError: string | undefined): OrchError {
  if (state === 'disabled') {
    return new OrchError('SERVER_UNAVAILABLE', `server "${name}" is disabled in the config`, {
      hint: `remove "disabled": true from mcpServers.${name} (a running daemon applies the edit), or \`mcp-orch start ${name}\` until it restarts`,
      data: { server: name, state },
    });
  }
  const reason = isTransient(state)
    ? `is ${state} (not running after ${timeoutSec}s)${lastError ? `; last error: ${lastError}` : ''}`
    : (lastError ?? `is ${state}`);
  return new OrchError('SERVER_UNAVAILABLE', `server "${name}" is unavailable: ${reason}`, {
    hint: `see \`mcp-orch logs ${name}\` and the server's entry in the config`,
    data: { server: name, state },
  });
}

/**
 * A request's failure as its client reads it: the server that went away, could not be reached or
 * timed out, by name; anything else (the server's own error) as it is.
 */
export function requestError(error: unknown, name: string, method: string, timeoutSec: number, lastError: string | undefined): unknown {
  if (error instanceof ChannelClosedError) {
    return new OrchError('SERVER_UNAVAILABLE', `server "${name}" went away during ${method}: ${lastError ?? 'connection closed'}`, {
      hint: `see \`mcp-orch logs ${name}\``,
      data: { server: name },
    });
  }
  if (error instanceof ChannelSendError) {
    return new OrchError('SERVER_UNAVAILABLE', `server "${name}" could not be sent ${method}: ${error.message}`, {
      hint: `see \`mcp-orch logs ${name}\`; a remote server's origin may be down or restarting`,
      data: { server: name },
    });
  }
  if (error instanceof ChannelTimeoutError) {
    return new OrchError('UPSTREAM_TIMEOUT', `server "${name}" did not answer ${method} within ${timeoutSec}s`, {
      hint: `raise "timeout" for ${name} in the config if it needs longer`,
      data: { server: name },
    });
  }
  return error;
}
