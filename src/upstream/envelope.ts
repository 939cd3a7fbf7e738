import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type {
  ClientCapabilities,
  Implementation,
  JSONRPCMessage,
  Request,
  Result,
  ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';

/**
 * The two protocol eras, and the request envelope of the stateless one: the single source of the
 * 2026-07-28 constants for the upstream side and the gateway's 2026 front alike.
 */
export type ProtocolEra = '2026-07-28' | '2025-11-25';

/** The one stateless revision: every request carries its version and capabilities in `params._meta`. */
export const MODERN_VERSION = '2026-07-28';
export const LEGACY_VERSION = '2025-11-25';

export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';
export const META_CLIENT_CAPABILITIES = 'io.modelcontextprotocol/clientCapabilities';
export const META_CLIENT_INFO = 'io.modelcontextprotocol/clientInfo';
export const META_LOG_LEVEL = 'io.modelcontextprotocol/logLevel';
export const META_SERVER_INFO = 'io.modelcontextprotocol/serverInfo';
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

/** What a 2026 server said of itself in server/discover (a 2026-only server has no initialize result). */
export interface Discovered {
  capabilities: ServerCapabilities;
  serverInfo: Implementation | undefined;
  instructions: string | undefined;
}

/** The request with the 2026 envelope in `_meta`, unless it carries one already (a 2026 client's own). */
export function enveloped(
  method: string,
  params: Request['params'] | undefined,
  capabilities: ClientCapabilities,
  clientInfo: Implementation,
): { method: string; params: NonNullable<Request['params']> } {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  if (meta[META_PROTOCOL_VERSION] !== undefined) return { method, params: params ?? {} };
  const _meta = {
    ...meta,
    [META_PROTOCOL_VERSION]: MODERN_VERSION,
    [META_CLIENT_CAPABILITIES]: capabilities,
    [META_CLIENT_INFO]: clientInfo,
  };
  return { method, params: { ...params, _meta } };
}

const PROBE_ID = 'mcp-orch-discover';

/**
 * Sends server/discover (with the 2026 envelope) on a transport nobody has connected yet: a server
 * that lists 2026-07-28 among its supportedVersions speaks that era, and what it said of itself is
 * returned; an error, a non-JSON-RPC answer or silence (up to `waitMs`) means a server of the
 * initialize era. The transport is left started, its handlers cleared, for the client to take over.
 */
export async function probeEra(
  transport: Transport,
  capabilities: ClientCapabilities,
  clientInfo: Implementation,
  waitMs: number,
): Promise<{ era: ProtocolEra; discovered: Discovered | undefined }> {
  const result = await new Promise<Result | undefined>((resolve) => {
    const finish = (value: Result | undefined): void => {
      clearTimeout(timer);
      transport.onmessage = undefined;
      transport.onclose = undefined;
      resolve(value);
    };
    const timer = setTimeout(() => finish(undefined), waitMs);
    transport.onmessage = (message: JSONRPCMessage) => {
      const reply = message as { id?: unknown; result?: Result };
      if (reply.id === PROBE_ID) finish(reply.result);
    };
    transport.onclose = () => finish(undefined);
    const request = { jsonrpc: '2.0', id: PROBE_ID, ...enveloped('server/discover', {}, capabilities, clientInfo) } as JSONRPCMessage;
    transport
      .start()
      .then(() => transport.send(request))
      .catch(() => finish(undefined));
  });
  // Stryker disable next-line ArrayDeclaration: any list without 2026-07-28 in it gives the same answer as an empty one
  const versions = Array.isArray(result?.supportedVersions) ? (result.supportedVersions as unknown[]) : [];
  if (!result || !versions.includes(MODERN_VERSION)) return { era: LEGACY_VERSION, discovered: undefined };
  const meta = (result._meta ?? {}) as Record<string, unknown>;
  return {
    era: MODERN_VERSION,
    discovered: {
      capabilities: (result.capabilities ?? {}) as ServerCapabilities,
      serverInfo: (result.serverInfo ?? meta[META_SERVER_INFO]) as Implementation | undefined,
      instructions: typeof result.instructions === 'string' ? result.instructions : undefined,
    },
  };
}
