import { describe, expect, it } from 'vitest';
import { localPrincipal } from './policy.js';
import { createTicketBook, TICKET_PREFIX } from './tickets.js';

describe('ticket book', () => {
  const principal = localPrincipal('default');

  it('gives each ticket once, to the principal that asked', () => {
    const book = createTicketBook();
    const { ticket, expiresInSec } = book.issue(principal);
    expect(ticket.startsWith(TICKET_PREFIX)).toBe(true);
    expect(ticket.length).toBeGreaterThan(40);
    expect(expiresInSec).toBe(30);
    expect(book.redeem(ticket)).toBe(principal);
    expect(book.redeem(ticket)).toBeUndefined();
    expect(book.redeem(`${TICKET_PREFIX}made-up`)).toBeUndefined();
  });

  it('lets tickets expire, and bounds how many are outstanding', () => {
    let now = 1_000;
    const book = createTicketBook({ ttlMs: 10_000, max: 2, clock: () => now });
    const old = book.issue(principal).ticket;
    book.issue(principal);
    expect(() => book.issue(principal)).toThrow(/2 unused WebSocket tickets/);
    now += 10_000;
    // Expired ones make room, and no longer open anything.
    expect(book.issue(principal).ticket).toMatch(/^mcpt_/);
    expect(book.redeem(old)).toBeUndefined();
  });
});
