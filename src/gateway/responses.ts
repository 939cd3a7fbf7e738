import { httpStatusOf, jsonRpcErrorOf, OrchError } from '../errors.js';

type JsonRpcId = string | number | null;

/** A JSON-RPC error as an HTTP response, with the status the error's code maps to. */
export function errorResponse(error: unknown, id: JsonRpcId = null): Response {
  const status = error instanceof OrchError ? httpStatusOf(error) : 500;
  return Response.json({ jsonrpc: '2.0', id, error: jsonRpcErrorOf(error) }, { status });
}

/** The id of a single JSON-RPC request body, for error replies that should answer it. */
export function requestIdOf(body: unknown): JsonRpcId {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const id = (body as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return id;
  }
  return null;
}
