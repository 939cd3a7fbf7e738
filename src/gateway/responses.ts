import { httpStatusOf, jsonRpcErrorOf } from '../errors.js';

type JsonRpcId = string | number | null;

/** A JSON-RPC error as the answer to a whole HTTP request, with the status its code maps to. */
export function errorResponse(error: unknown, id: JsonRpcId = null, headers: Record<string, string> = {}): Response {
  return Response.json(
    { jsonrpc: '2.0', id, error: jsonRpcErrorOf(error) },
    { status: httpStatusOf(error), headers: { ...headers, ...retryAfter(error) } },
  );
}

/** The Retry-After header of an error that says when to try again (a rate limit, a quota). */
export function retryAfter(error: unknown): Record<string, string> {
  const seconds = (error as { retryAfterSec?: unknown } | null)?.retryAfterSec;
  return typeof seconds === 'number' ? { 'retry-after': String(seconds) } : {};
}

/** The id of a single JSON-RPC request body, for error replies that should answer it. */
export function requestIdOf(body: unknown): JsonRpcId {
  // Stryker disable next-line ConditionalExpression: without the typeof check a string or number body has no id property either (the other conditions are tested)
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const id = (body as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}
