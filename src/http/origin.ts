import type { MiddlewareHandler } from 'hono';
import { OrchError } from '../errors.js';
import { errorResponse } from '../gateway/responses.js';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Browsers send Origin; a web page on another site must not reach local MCP servers through us
 * (DNS rebinding, drive-by requests). Requests without Origin (CLI tools, SDK clients) pass.
 */
export function isAllowedOrigin(origin: string, extra: readonly string[]): boolean {
  if (extra.includes('*') || extra.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && LOCAL_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

export function originGuard(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && !isAllowedOrigin(origin, allowed)) {
      return errorResponse(
        new OrchError('FORBIDDEN_ORIGIN', `origin ${origin} is not allowed`, {
          hint: `start mcp-orch with --allow-origin ${origin} (or orch.allowedOrigins in the config) to allow it`,
        }),
      );
    }
    await next();
  };
}
