import type { Context } from 'hono';
import type { Principal } from '../auth/policy.js';
import type { OrchError } from '../errors.js';
import type { TransportKind } from '../gateway/caller.js';

/** What the HTTP layer knows of a request before anything in its body is read. */
export interface IdentifyInput {
  authorization: string | undefined;
  /** A WebSocket ticket from the URL (browsers cannot send Authorization on a WebSocket); used instead of the header. */
  ticket?: string | undefined;
  /** The project the path names (the short paths: the default project). */
  project: string;
  address: string | undefined;
  transport: TransportKind;
}

/**
 * Who sent a request: its principal, or why not (401 with the headers to send, 403 for a key of
 * another project, 404 for an unknown project when there are no keys). The daemon supplies it.
 */
export type Identify = (input: IdentifyInput) => { principal: Principal } | { error: OrchError; headers?: Record<string, string> };

/** The client's address, from the Node request under hono's Request. */
export function addressOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}
