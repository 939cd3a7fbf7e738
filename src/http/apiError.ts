import type { Context } from 'hono';
import { apiErrorBody, httpStatusOf } from '../errors.js';
import { retryAfter } from '../gateway/responses.js';

/**
 * An error as the REST API (and the dashboard's actions, and unknown routes) answer it: the one JSON
 * shape of errors.ts with the status of the one mapping, and Retry-After for rate limits.
 */
export function apiErrorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  return Response.json(apiErrorBody(error), { status: httpStatusOf(error), headers: { ...headers, ...retryAfter(error) } });
}

/** The client's address, from the Node request under hono's Request. */
export function addressOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/** The port the request was sent to, as its URL says (the Host it names), for the session cookie's name. */
export function portOf(c: Context): string {
  const url = new URL(c.req.url);
  return url.port || (url.protocol === 'https:' ? '443' : '80');
}
