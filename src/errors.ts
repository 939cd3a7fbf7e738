/**
 * The one error type of mcp-orch. `code` is stable and machine-readable; the http room maps it to an
 * HTTP status and a JSON-RPC error code in one place (src/http/errorMapping.ts).
 */
export type OrchErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'UNKNOWN_SERVER'
  | 'UNKNOWN_TOOL'
  | 'UNKNOWN_PROMPT'
  | 'UNKNOWN_RESOURCE'
  | 'SERVER_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UNKNOWN_SESSION'
  | 'MISSING_SESSION'
  | 'BAD_REQUEST'
  | 'PARSE_ERROR'
  | 'FORBIDDEN_ORIGIN'
  | 'PAYLOAD_TOO_LARGE'
  | 'DAEMON_UNREACHABLE'
  | 'SHUTTING_DOWN'
  | 'INTERNAL';

export interface OrchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable detail, carried into JSON-RPC `error.data`. */
  data?: Record<string, unknown>;
}

export class OrchError extends Error {
  readonly code: OrchErrorCode;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;

  constructor(code: OrchErrorCode, message: string, options: OrchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchError';
    this.code = code;
    this.hint = options.hint;
    this.data = options.data;
  }

  /** The message with its hint, as a person should read it. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

export function isOrchError(value: unknown): value is OrchError {
  return value instanceof OrchError;
}

/**
 * The one mapping from error codes to the HTTP status and JSON-RPC error code a client receives.
 * JSON-RPC codes follow the MCP spec: unknown tools and bad arguments are invalid params (-32602).
 */
const WIRE: Record<OrchErrorCode, { http: number; jsonrpc: number }> = {
  CONFIG_NOT_FOUND: { http: 500, jsonrpc: -32603 },
  CONFIG_PARSE: { http: 400, jsonrpc: -32602 },
  CONFIG_INVALID: { http: 400, jsonrpc: -32602 },
  CONFIG_ENV_MISSING: { http: 500, jsonrpc: -32603 },
  UNKNOWN_SERVER: { http: 404, jsonrpc: -32602 },
  UNKNOWN_TOOL: { http: 404, jsonrpc: -32602 },
  UNKNOWN_PROMPT: { http: 404, jsonrpc: -32602 },
  UNKNOWN_RESOURCE: { http: 404, jsonrpc: -32002 },
  SERVER_UNAVAILABLE: { http: 503, jsonrpc: -32603 },
  UPSTREAM_TIMEOUT: { http: 504, jsonrpc: -32001 },
  UNKNOWN_SESSION: { http: 404, jsonrpc: -32001 },
  MISSING_SESSION: { http: 400, jsonrpc: -32000 },
  BAD_REQUEST: { http: 400, jsonrpc: -32600 },
  PARSE_ERROR: { http: 400, jsonrpc: -32700 },
  FORBIDDEN_ORIGIN: { http: 403, jsonrpc: -32000 },
  PAYLOAD_TOO_LARGE: { http: 413, jsonrpc: -32000 },
  DAEMON_UNREACHABLE: { http: 503, jsonrpc: -32603 },
  SHUTTING_DOWN: { http: 503, jsonrpc: -32603 },
  INTERNAL: { http: 500, jsonrpc: -32603 },
};

export function httpStatusOf(error: OrchError): number {
  return WIRE[error.code].http;
}

/** The JSON-RPC `error` object for an error; anything that is not an OrchError is internal. */
export function jsonRpcErrorOf(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof OrchError) {
    return {
      code: WIRE[error.code].jsonrpc,
      message: error.hint ? `${error.message} (${error.hint})` : error.message,
      data: { orchCode: error.code, ...error.data },
    };
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return { code: typeof code === 'number' && Number.isSafeInteger(code) ? code : -32603, message };
}
