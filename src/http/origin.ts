import type { Context, MiddlewareHandler } from 'hono';
import { OrchError } from '../errors.js';
import { errorResponse } from '../gateway/responses.js';
import { parseHost, type HostAllowlist } from './host.js';

/**
 * Browsers send Origin; a web page on another site must not reach local MCP servers through us
 * (drive-by requests, DNS rebinding). Allowed: the daemon's own origins (http or https, one of the
 * names it answers to, on the port it listens on) and the configured ones. A page served on
 * another local port (any dev server) is another site. Requests without Origin (CLI tools, SDK
 * clients) pass.
 */
export function isAllowedOrigin(origin: string, allowed: readonly string[], hosts: HostAllowlist, port: number | undefined): boolean {
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  if (port === undefined) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const originPort = url.port || (url.protocol === 'https:' ? '443' : '80');
  const host = parseHost(url.hostname);
  return originPort === String(port) && host !== undefined && hosts.lists({ hostname: host.hostname, port: originPort });
}

/** The port the request came in on: the daemon's listening port. Undefined outside Node's server. */
function localPortOf(c: Context): number | undefined {
  return (c.env as { incoming?: { socket?: { localPort?: number } } } | undefined)?.incoming?.socket?.localPort;
}

/**
 * Refuses a request from another site's page: one whose Origin is not allowed, and one a browser
 * marks as coming from another site (`Sec-Fetch-Site`) without any Origin, as an `<img>` or
 * `<script>` tag sends it: such a GET could not read its answer but would still open an SSE session.
 */
export function originGuard(allowed: readonly string[], hosts: HostAllowlist): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin === undefined) {
      const site = c.req.header('sec-fetch-site');
      if (site !== 'cross-site' && site !== 'same-site') return next();
      return errorResponse(
        new OrchError('FORBIDDEN_ORIGIN', `a request from a page of another site (Sec-Fetch-Site: ${site}) without Origin is not allowed`, {
          hint: 'browser clients send Origin with fetch and EventSource; allow theirs with --allow-origin',
        }),
      );
    }
    if (!isAllowedOrigin(origin, allowed, hosts, localPortOf(c))) {
      return errorResponse(
        new OrchError('FORBIDDEN_ORIGIN', `origin ${origin} is not allowed`, {
          hint: `start mcp-orch with --allow-origin ${origin} (or orch.allowedOrigins in the config) to allow it`,
        }),
      );
    }
    await next();
  };
}
