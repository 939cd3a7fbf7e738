import { httpStatusOf, jsonRpcErrorOf } from '../errors.js';

type JsonRpcId = string | number | null;

/** A JSON-RPC error as the answer to a whole HTTP request, with the status its code maps to. */
export function errorResponse(error: unknown, id: JsonRpcId = null, headers: Record<string, string> = {}): Response {
  const retryAfter = (error as { retryAfterSec?: unknown } | null)?.retryAfterSec;
  return Response.json(
    { jsonrpc: '2.0', id, error: jsonRpcErrorOf(error) },
    {
      status: httpStatusOf(error),
      headers: { ...headers, ...(typeof retryAfter === 'number' ? { 'retry-after': String(retryAfter) } : {}) },
    },
  );
}

/** The id of a single JSON-RPC request body, for error replies that should answer it. */
export function requestIdOf(body: unknown): JsonRpcId {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const id = (body as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}
