import type { Implementation, Result, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { META_SERVER_INFO, MODERN_VERSION } from '../../upstream/envelope.js';
import type { Params } from '../forward.js';

/** Methods whose 2026 results carry cache hints (SEP-2549). */
const CACHEABLE = new Set([
  'server/discover',
  'tools/list',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
]);

/**
 * A result as a 2026 client expects it: `resultType` ("complete" unless the server said otherwise,
 * e.g. "input_required") and, on cacheable methods, cache hints. The gateway's lists follow the
 * servers' catalogs, which change at any time, so it never lets them be cached for long.
 */
export function modernResult(method: string, result: Result): Result {
  const out: Params = { ...result };
  out.resultType ??= 'complete';
  if (CACHEABLE.has(method)) {
    out.ttlMs ??= 0;
    out.cacheScope ??= 'private';
  }
  return out as Result;
}

/**
 * Params of a 2026 request as a 2025 server takes them: without the per-request envelope
 * (`io.modelcontextprotocol/*` keys in `_meta`), which the session already carries.
 */
export function legacyParams(params: Params): Params {
  const meta = params._meta as Params | undefined;
  if (!meta) return params;
  const rest = Object.fromEntries(Object.entries(meta).filter(([key]) => !key.startsWith('io.modelcontextprotocol/')));
  const { _meta: _dropped, ...others } = params;
  return Object.keys(rest).length ? { ...others, _meta: rest } : others;
}

/**
 * What a 2026 client may rely on from a 2025 server's capabilities: resource subscriptions and
 * logging/setLevel are session features the 2026 revision replaced (subscriptions/listen, the
 * logLevel in _meta); list changes reach 2026 clients through subscriptions/listen.
 */
export function modernCapabilities(capabilities: ServerCapabilities): ServerCapabilities {
  const { logging: _logging, resources, ...rest } = capabilities;
  if (!resources) return rest;
  const { subscribe: _subscribe, ...resourceCaps } = resources;
  return { ...rest, resources: resourceCaps };
}

/** The server/discover answer for an endpoint the gateway answers itself. */
export function discoverResult(capabilities: ServerCapabilities, serverInfo: Implementation, instructions?: string): Result {
  return modernResult('server/discover', {
    supportedVersions: [MODERN_VERSION],
    capabilities: modernCapabilities(capabilities),
    ...(instructions ? { instructions } : {}),
    _meta: { [META_SERVER_INFO]: serverInfo },
  });
}
