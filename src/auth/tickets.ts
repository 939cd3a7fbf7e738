import { createHash, randomBytes } from 'node:crypto';
import { OrchError } from '../errors.js';
import type { Principal } from './policy.js';

/**
 * Tickets for browsers, which cannot set headers on a WebSocket: a client with a key asks for a
 * ticket (with the key in its Authorization header), then opens the socket with `?ticket=...`. A
 * ticket is random, lives for seconds, works once, and stands for the principal that asked, so a
 * URL that ends up in a log or a history is worth nothing. Kept in memory, as hashes only.
 */

export const TICKET_PREFIX = 'mcpt_';

export interface TicketBookOptions {
  /** How long a ticket may wait for its connection. Default 30 s. */
  ttlMs?: number;
  /** Tickets outstanding at most, across all principals. */
  max?: number;
  clock?: () => number;
}

export interface Ticket {
  ticket: string;
  expiresInSec: number;
}

export interface TicketBook {
  /** A new ticket standing for `principal`; LIMIT_REACHED when too many are outstanding. */
  issue(principal: Principal): Ticket;
  /** The principal a ticket stands for, once; undefined for a ticket unknown, used or expired. */
  redeem(ticket: string): Principal | undefined;
}

const hash = (ticket: string): string => createHash('sha256').update(ticket).digest('hex');

export function createTicketBook(options: TicketBookOptions = {}): TicketBook {
  const { ttlMs = 30_000, max = 10_000, clock = Date.now } = options;
  const tickets = new Map<string, { principal: Principal; expires: number }>();

  const sweep = (now: number): void => {
    for (const [key, entry] of tickets) if (entry.expires <= now) tickets.delete(key);
  };

  return {
    issue(principal) {
      const now = clock();
      if (tickets.size >= max) sweep(now);
      if (tickets.size >= max) {
        throw new OrchError('LIMIT_REACHED', `mcp-orch holds ${max} unused WebSocket tickets already`, {
          hint: 'ask for a ticket right before connecting; unused ones expire within seconds',
          retryAfterSec: Math.ceil(ttlMs / 1000),
        });
      }
      const ticket = `${TICKET_PREFIX}${randomBytes(32).toString('base64url')}`;
      tickets.set(hash(ticket), { principal, expires: now + ttlMs });
      return { ticket, expiresInSec: Math.round(ttlMs / 1000) };
    },
    redeem(ticket) {
      const key = hash(ticket);
      const entry = tickets.get(key);
      tickets.delete(key);
      return entry && entry.expires > clock() ? entry.principal : undefined;
    },
  };
}
