import { OrchError } from '../../errors.js';
import { META_CLIENT_CAPABILITIES, META_PROTOCOL_VERSION, MODERN_VERSION } from '../../upstream/envelope.js';
import { metaOf } from './classify.js';
import type { Params } from '../forward.js';

export type JsonRpcId = string | number;

/** A 2026 request that passed the envelope and header checks. */
export interface ModernRequest {
  id: JsonRpcId;
  method: string;
  params: Params;
  meta: Params;
  version: string;
}

/** Versions the gateway serves statelessly; 2025-era ones are served through initialize. */
export const SUPPORTED_MODERN_VERSIONS: readonly string[] = [MODERN_VERSION];

/**
 * Checks a 2026 request the way the spec orders it: a well-formed JSON-RPC request, the `_meta`
 * envelope (protocol version and client capabilities, -32602), the MCP-Protocol-Version header
 * against `_meta` (-32020), a version this gateway serves (-32022, naming the supported ones), then
 * the standard headers Mcp-Method and Mcp-Name against the body (-32020). All with HTTP 400.
 * `header` looks a header up case-insensitively. Throws an OrchError, or returns the request.
 */
export function validateModernRequest(header: (name: string) => string | null, body: unknown): ModernRequest {
  const message = (body ?? {}) as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
  if (message.jsonrpc !== '2.0' || typeof message.method !== 'string' || !isId(message.id)) {
    throw new OrchError('BAD_REQUEST', 'Invalid Request: expected a JSON-RPC 2.0 request with a string or number id');
  }
  if (message.params !== undefined && (typeof message.params !== 'object' || message.params === null || Array.isArray(message.params))) {
    throw new OrchError('INVALID_ENVELOPE', 'Invalid params: params must be an object');
  }
  const params = (message.params ?? {}) as Params;
  const meta = metaOf(params);
  const missing = [
    ...(meta ? [] : ['_meta']),
    ...(meta && typeof meta[META_PROTOCOL_VERSION] !== 'string' ? [META_PROTOCOL_VERSION] : []),
    ...(meta && !isObject(meta[META_CLIENT_CAPABILITIES]) ? [META_CLIENT_CAPABILITIES] : []),
  ];
  if (!meta || missing.length) {
    throw new OrchError('INVALID_ENVELOPE', `Invalid params: a 2026-07-28 request needs params._meta with ${missing.join(' and ')}`, {
      data: { missing },
    });
  }
  const version = meta[META_PROTOCOL_VERSION] as string;
  const versionHeader = trimmed(header('mcp-protocol-version'));
  if (versionHeader === undefined) {
    throw mismatch(`the MCP-Protocol-Version header is required and must be "${version}" as in params._meta`, 'MCP-Protocol-Version');
  }
  if (versionHeader !== version) {
    throw mismatch(
      `the MCP-Protocol-Version header "${versionHeader}" does not match params._meta["${META_PROTOCOL_VERSION}"] "${version}"`,
      'MCP-Protocol-Version',
    );
  }
  if (!SUPPORTED_MODERN_VERSIONS.includes(version)) {
    // Stryker disable next-line StringLiteral: one version is served, so the separator never shows
    const served = SUPPORTED_MODERN_VERSIONS.join(', ');
    throw new OrchError(
      'UNSUPPORTED_PROTOCOL_VERSION',
      `Unsupported protocol version "${version}": this endpoint serves ${served} per request, and 2025-11-25 through initialize`,
      { data: { supported: [...SUPPORTED_MODERN_VERSIONS], requested: version } },
    );
  }
  checkStandardHeaders(header, message.method, params);
  return { id: message.id, method: message.method, params, meta, version };
}

/** Mcp-Method must equal the body's method; Mcp-Name the name, URI or task id the method routes on. */
export function checkStandardHeaders(header: (name: string) => string | null, method: string, params: Params): void {
  const methodHeader = decoded(header('mcp-method'), 'Mcp-Method');
  if (methodHeader === undefined) throw mismatch(`the Mcp-Method header is required and must be "${method}"`, 'Mcp-Method');
  if (methodHeader !== method)
    throw mismatch(`the Mcp-Method header "${methodHeader}" does not match the method "${method}"`, 'Mcp-Method');
  const name = routedName(method, params);
  const nameHeader = decoded(header('mcp-name'), 'Mcp-Name');
  if (name === undefined) return;
  if (nameHeader === undefined) throw mismatch(`the Mcp-Name header is required for ${method} and must be "${name}"`, 'Mcp-Name');
  if (nameHeader !== name) throw mismatch(`the Mcp-Name header "${nameHeader}" does not match "${name}" in the body`, 'Mcp-Name');
}

/** The body value the Mcp-Name header mirrors, for the methods that have one. */
export function routedName(method: string, params: Params): string | undefined {
  const key =
    method === 'tools/call' || method === 'prompts/get'
      ? 'name'
      : method === 'resources/read'
        ? 'uri'
        : method === 'tasks/get' || method === 'tasks/update' || method === 'tasks/cancel'
          ? 'taskId'
          : undefined;
  const value = key ? params[key] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** A header value without surrounding whitespace; `=?base64?...?=` values decoded (non-ASCII names). */
function decoded(raw: string | null, name: string): string | undefined {
  const value = trimmed(raw);
  // Stryker disable next-line ConditionalExpression: without it, undefined matches no wrapper and is returned as it is
  if (value === undefined) return undefined;
  const wrapped = /^=\?base64\?(.*)\?=$/i.exec(value);
  if (!wrapped) return value;
  const payload = wrapped[1]!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(payload) || payload.length % 4 !== 0) {
    throw mismatch(`the ${name} header carries invalid Base64`, name);
  }
  return Buffer.from(payload, 'base64').toString('utf8');
}

function trimmed(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const value = raw.trim();
  return value === '' ? undefined : value;
}

function mismatch(detail: string, header: string): OrchError {
  return new OrchError('HEADER_MISMATCH', `Header mismatch: ${detail}`, { data: { header } });
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || Number.isFinite(value);
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
