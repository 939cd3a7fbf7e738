/**
 * Which protocol era an inbound Streamable HTTP message belongs to, decided once at the edge.
 * 2026-07-28 requests are stateless: they carry their version and capabilities in `params._meta`.
 * 2025-era clients open a session with `initialize` and then send `Mcp-Session-Id` on every request.
 */

import { META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION } from '../../upstream/envelope.js';

export type Era = 'modern' | 'legacy';

/** Revisions served through `initialize` and sessions. */
export const LEGACY_VERSIONS: readonly string[] = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'];

export interface EraInput {
  method: string;
  /** Header lookup, case-insensitive (a `Headers` object's `get`). */
  header(name: string): string | null;
  body: unknown;
}

/**
 * 2026 when the body's `params._meta` claims the envelope (a protocol version or client
 * capabilities key, what the reference dual-era server routes on), or when a POST without a session
 * names a protocol version in `MCP-Protocol-Version` that is not a 2025-era one (a client meaning to
 * be stateless whose body lacks the envelope then gets the 2026 error, not "send initialize").
 * Everything else (GET, DELETE, batches, initialize, session traffic) is 2025: today's session path.
 */
export function classifyEra(input: EraInput): Era {
  if (input.method !== 'POST') return 'legacy';
  const body = input.body;
  // Stryker disable next-line ConditionalExpression: a primitive has no string method, so the next check says legacy too
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'legacy';
  const message = body as { method?: unknown; params?: unknown };
  if (typeof message.method !== 'string') return 'legacy';
  const meta = metaOf(message.params);
  if (meta && (META_PROTOCOL_VERSION in meta || META_CLIENT_CAPABILITIES in meta)) return 'modern';
  if (message.method === 'initialize' || input.header('mcp-session-id')) return 'legacy';
  const version = input.header('mcp-protocol-version')?.trim();
  return version && !LEGACY_VERSIONS.includes(version) ? 'modern' : 'legacy';
}

export function metaOf(params: unknown): Record<string, unknown> | undefined {
  // Stryker disable next-line ConditionalExpression: a primitive has no _meta, so the next line gives undefined too
  if (!params || typeof params !== 'object') return undefined;
  const meta = (params as { _meta?: unknown })._meta;
  return meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as Record<string, unknown>) : undefined;
}
