import type { MiddlewareHandler } from 'hono';
import { HOST_PATTERN, type OrchSettings } from '../config/schema.js';
import { OrchError } from '../errors.js';
import { errorResponse } from '../gateway/responses.js';

/** The names every daemon answers to, on any port. */
export const LOOPBACK_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]'];

export interface HostName {
  /** Lower case; an IPv6 address keeps its brackets. */
  hostname: string;
  /** The port as written, or undefined when the value has none. */
  port: string | undefined;
}

/** Splits a Host header value (or an allowlist entry) into name and port; undefined for anything else. */
export function parseHost(value: string): HostName | undefined {
  if (!HOST_PATTERN.test(value)) return undefined;
  const colon = value.lastIndexOf(':');
  const hasPort = value.startsWith('[') ? !value.endsWith(']') : colon !== -1;
  return {
    hostname: (hasPort ? value.slice(0, colon) : value).toLowerCase(),
    port: hasPort ? value.slice(colon + 1) : undefined,
  };
}

/** The host names (and ports) this daemon answers to; anything else is a request meant for another site. */
export interface HostAllowlist {
  /** Whether a request with this Host is answered (always, with `*`). */
  allows(host: HostName): boolean;
  /** Whether this is one of the names listed (never by `*`): what the daemon's own origins are made of. */
  lists(host: HostName): boolean;
  /** What the daemon answers to, for messages. */
  readonly names: readonly string[];
}

/**
 * The loopback names, the address the daemon is bound to, and `orch.allowedHosts`. A browser sends
 * the name it looked up as Host, so a page whose name an attacker re-points at 127.0.0.1 (DNS
 * rebinding) is told apart here from a client of the daemon. The bound address is what daemon.json
 * gives the CLI, and no attacker's name: even a wildcard (`0.0.0.0`) is safe to answer to, while
 * the names by which other machines reach it must be listed.
 */
export function hostAllowlist(orch: Pick<OrchSettings, 'allowedHosts' | 'host'>): HostAllowlist {
  const any = orch.allowedHosts.includes('*');
  const entries: HostName[] = LOOPBACK_HOSTS.map((hostname) => ({ hostname, port: undefined }));
  const bound = orch.host.includes(':') && !orch.host.startsWith('[') ? `[${orch.host}]` : orch.host;
  entries.push({ hostname: bound.toLowerCase(), port: undefined });
  for (const entry of orch.allowedHosts) {
    const parsed = parseHost(entry);
    if (parsed) entries.push(parsed);
  }
  const names = [...new Set(entries.map((e) => (e.port === undefined ? e.hostname : `${e.hostname}:${e.port}`)))];
  const lists = (host: HostName): boolean =>
    entries.some((e) => e.hostname === host.hostname && (e.port === undefined || e.port === host.port));
  return { names: any ? ['*'] : names, lists, allows: (host) => any || lists(host) };
}

/**
 * Refuses requests whose Host is not one of the daemon's names, on every route: what a rebound DNS
 * name would reach (health, metrics, SSE sessions, MCP calls) answers 403 with what to set instead.
 * Without a Host header (HTTP/1.0) the URL's host is used, which Node fills in with the bound address.
 */
export function hostGuard(allowlist: HostAllowlist): MiddlewareHandler {
  return async (c, next) => {
    const value = c.req.header('host') ?? new URL(c.req.url).host;
    const host = parseHost(value);
    if (!host || !allowlist.allows(host)) {
      const name = host?.hostname ?? value;
      return errorResponse(
        new OrchError('FORBIDDEN_HOST', `host ${JSON.stringify(value)} is not one this daemon answers to`, {
          hint:
            `if clients reach mcp-orch by that name, add ${JSON.stringify(name)} to orch.allowedHosts in the config; ` +
            `it answers to ${allowlist.names.join(', ')}`,
        }),
      );
    }
    await next();
  };
}
