import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { OrchError } from '../errors.js';

/**
 * Bounds a request's body at `orch.maxBodyBytes`, answering 413 in the route's own error shape
 * (JSON-RPC on MCP endpoints, the REST API's elsewhere). A declared Content-Length is checked as a
 * number; hono's bodyLimit, which wraps the body in a counting stream (and so builds a full web
 * Request), is kept for chunked bodies, so that a small MCP call does not pay for it.
 */
export function bodyBound(maxBodyBytes: number, answer: (error: OrchError) => Response): MiddlewareHandler {
  const tooLarge = (): Response =>
    answer(
      new OrchError('PAYLOAD_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes`, {
        hint: 'raise orch.maxBodyBytes in the config if such requests are expected',
      }),
    );
  const streamed = bodyLimit({ maxSize: maxBodyBytes, onError: tooLarge });
  return async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared === undefined) return streamed(c, next);
    if (Number(declared) > maxBodyBytes) return tooLarge();
    return next();
  };
}
