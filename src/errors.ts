/**
 * The one error type of mcp-orch and the one mapping from it to what a client receives: a JSON-RPC
 * error object, an HTTP status, or the admin API's JSON body. Everything else throws OrchError (or
 * lets an upstream's own JSON-RPC error pass) and calls these functions; nothing maps errors again.
 * A leaf: it imports nothing.
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
  | 'UNKNOWN_ROUTE'
  | 'UNKNOWN_PROJECT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_FOUND'
  | 'INVALID_PARAMS'
  | 'INVALID_ENVELOPE'
  | 'HEADER_MISMATCH'
  | 'UNSUPPORTED_PROTOCOL_VERSION'
  | 'MISSING_CLIENT_CAPABILITY'
  | 'CLIENT_REQUEST_REFUSED'
  | 'SERVER_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'UNKNOWN_SESSION'
  | 'MISSING_SESSION'
  | 'BAD_REQUEST'
  | 'PARSE_ERROR'
  | 'NOT_ACCEPTABLE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'FORBIDDEN_ORIGIN'
  | 'FORBIDDEN_HOST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'PAYLOAD_TOO_LARGE'
  | 'RATE_LIMITED'
  | 'LIMIT_REACHED'
  | 'DAEMON_UNREACHABLE'
  | 'STORE_INCOMPATIBLE'
  | 'SECRET_UNAVAILABLE'
  | 'SHUTTING_DOWN'
  | 'INVALID_PLAN'
  | 'PLANNER_FAILED'
  | 'DEPLOY_FAILED'
  | 'INTERNAL';

export interface OrchErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra machine-readable detail, carried into JSON-RPC `error.data`. */
  data?: Record<string, unknown>;
  /** Seconds after which the client may try again (rate limits, quotas): the Retry-After header. */
  retryAfterSec?: number;
}

export class OrchError extends Error {
  readonly code: OrchErrorCode;
  readonly hint: string | undefined;
  readonly data: Record<string, unknown> | undefined;
  readonly retryAfterSec: number | undefined;

  constructor(code: OrchErrorCode, message: string, options: OrchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OrchError';
    this.code = code;
    this.hint = options.hint;
    this.data = options.data;
    this.retryAfterSec = options.retryAfterSec;
  }

  /** The message with its hint, as a person should read it. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
}

export function isOrchError(value: unknown): value is OrchError {
  return value instanceof OrchError;
}

/** The protocol era a client speaks: it decides a few JSON-RPC codes and how errors become HTTP statuses. */
export type WireEra = 'legacy' | 'modern';

/** JSON-RPC error codes: JSON-RPC 2.0, MCP, and the 2026-07-28 revision's own. */
export const JSONRPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  CONNECTION_CLOSED: -32000,
  REQUEST_TIMEOUT: -32001,
  RESOURCE_NOT_FOUND: -32002,
  HEADER_MISMATCH: -32020,
  MISSING_CLIENT_CAPABILITY: -32021,
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

interface Wire {
  /** The HTTP status when the error refuses a whole HTTP request. */
  http: number;
  jsonrpc: number;
  /** The JSON-RPC code for 2026-07-28 clients, where the revision changed it. */
  modern?: number;
  /** The spec defines this error's `data`: it goes out as given, without mcp-orch's own `orchCode`. */
  specData?: true;
  /** Refuses the HTTP request itself (a quota, a credential, shutting down): its HTTP status, even as an answer. */
  refuses?: true;
}

/**
 * The one table from error codes to what goes on the wire. JSON-RPC codes follow the MCP spec:
 * unknown tools and bad arguments are invalid params (-32602); 2026-07-28 clients get -32602 for an
 * unknown resource too (SEP-2164).
 */
const WIRE: Record<OrchErrorCode, Wire> = {
  CONFIG_NOT_FOUND: { http: 500, jsonrpc: JSONRPC.INTERNAL_ERROR },
  CONFIG_PARSE: { http: 400, jsonrpc: JSONRPC.INVALID_PARAMS },
  CONFIG_INVALID: { http: 400, jsonrpc: JSONRPC.INVALID_PARAMS },
  CONFIG_ENV_MISSING: { http: 500, jsonrpc: JSONRPC.INTERNAL_ERROR },
  UNKNOWN_SERVER: { http: 404, jsonrpc: JSONRPC.INVALID_PARAMS },
  UNKNOWN_TOOL: { http: 404, jsonrpc: JSONRPC.INVALID_PARAMS },
  UNKNOWN_PROMPT: { http: 404, jsonrpc: JSONRPC.INVALID_PARAMS },
  UNKNOWN_RESOURCE: { http: 404, jsonrpc: JSONRPC.RESOURCE_NOT_FOUND, modern: JSONRPC.INVALID_PARAMS },
  UNKNOWN_ROUTE: { http: 404, jsonrpc: JSONRPC.METHOD_NOT_FOUND },
  UNKNOWN_PROJECT: { http: 404, jsonrpc: JSONRPC.INVALID_PARAMS },
  NOT_FOUND: { http: 404, jsonrpc: JSONRPC.INVALID_PARAMS },
  METHOD_NOT_FOUND: { http: 404, jsonrpc: JSONRPC.METHOD_NOT_FOUND, specData: true },
  INVALID_PARAMS: { http: 400, jsonrpc: JSONRPC.INVALID_PARAMS, specData: true },
  INVALID_ENVELOPE: { http: 400, jsonrpc: JSONRPC.INVALID_PARAMS, specData: true },
  HEADER_MISMATCH: { http: 400, jsonrpc: JSONRPC.HEADER_MISMATCH, specData: true },
  UNSUPPORTED_PROTOCOL_VERSION: {
    http: 400,
    jsonrpc: JSONRPC.CONNECTION_CLOSED,
    modern: JSONRPC.UNSUPPORTED_PROTOCOL_VERSION,
    specData: true,
  },
  MISSING_CLIENT_CAPABILITY: { http: 400, jsonrpc: JSONRPC.INVALID_REQUEST, modern: JSONRPC.MISSING_CLIENT_CAPABILITY, specData: true },
  CLIENT_REQUEST_REFUSED: { http: 400, jsonrpc: JSONRPC.INVALID_REQUEST },
  SERVER_UNAVAILABLE: { http: 503, jsonrpc: JSONRPC.INTERNAL_ERROR },
  UPSTREAM_TIMEOUT: { http: 504, jsonrpc: JSONRPC.REQUEST_TIMEOUT },
  UNKNOWN_SESSION: { http: 404, jsonrpc: JSONRPC.REQUEST_TIMEOUT },
  MISSING_SESSION: { http: 400, jsonrpc: JSONRPC.CONNECTION_CLOSED },
  BAD_REQUEST: { http: 400, jsonrpc: JSONRPC.INVALID_REQUEST },
  PARSE_ERROR: { http: 400, jsonrpc: JSONRPC.PARSE_ERROR },
  NOT_ACCEPTABLE: { http: 406, jsonrpc: JSONRPC.CONNECTION_CLOSED },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, jsonrpc: JSONRPC.CONNECTION_CLOSED },
  METHOD_NOT_ALLOWED: { http: 405, jsonrpc: JSONRPC.CONNECTION_CLOSED },
  CONFLICT: { http: 409, jsonrpc: JSONRPC.CONNECTION_CLOSED },
  FORBIDDEN_ORIGIN: { http: 403, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  FORBIDDEN_HOST: { http: 403, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  UNAUTHORIZED: { http: 401, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  FORBIDDEN: { http: 403, jsonrpc: JSONRPC.INVALID_REQUEST, refuses: true },
  PAYLOAD_TOO_LARGE: { http: 413, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  RATE_LIMITED: { http: 429, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  LIMIT_REACHED: { http: 503, jsonrpc: JSONRPC.CONNECTION_CLOSED, refuses: true },
  DAEMON_UNREACHABLE: { http: 503, jsonrpc: JSONRPC.INTERNAL_ERROR },
  STORE_INCOMPATIBLE: { http: 500, jsonrpc: JSONRPC.INTERNAL_ERROR },
  SECRET_UNAVAILABLE: { http: 500, jsonrpc: JSONRPC.INTERNAL_ERROR },
  SHUTTING_DOWN: { http: 503, jsonrpc: JSONRPC.INTERNAL_ERROR, refuses: true },
  INVALID_PLAN: { http: 400, jsonrpc: JSONRPC.INVALID_PARAMS },
  PLANNER_FAILED: { http: 502, jsonrpc: JSONRPC.INTERNAL_ERROR },
  /** A deployment that could not be cloned, built or started: the running server is left as it was. */
  DEPLOY_FAILED: { http: 422, jsonrpc: JSONRPC.INTERNAL_ERROR },
  INTERNAL: { http: 500, jsonrpc: JSONRPC.INTERNAL_ERROR },
};

/** A JSON-RPC error object as it goes on the wire. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** The SDK's McpError prefixes its message with "MCP error <code>: ", which clients would print twice. */
export function stripSdkPrefix(message: string): string {
  return message.replace(/^(MCP error -?\d+: )+/, '');
}

/**
 * The JSON-RPC `error` object for any error: an OrchError by the table, an upstream's JSON-RPC error
 * (an SDK McpError or anything with a numeric code) with its code, message and data as the server
 * sent them, anything else as internal.
 */
export function jsonRpcErrorOf(error: unknown, era: WireEra = 'legacy'): JsonRpcErrorObject {
  if (error instanceof OrchError) {
    const wire = WIRE[error.code];
    const data = wire.specData ? error.data : { orchCode: error.code, ...error.data };
    return {
      code: (era === 'modern' ? wire.modern : undefined) ?? wire.jsonrpc,
      message: error.hint ? `${error.message} (${error.hint})` : error.message,
      ...(data === undefined ? {} : { data }),
    };
  }
  const { code, data } = (error ?? {}) as { code?: unknown; data?: unknown };
  const message = stripSdkPrefix(error instanceof Error ? error.message : String(error));
  return {
    code: typeof code === 'number' && Number.isSafeInteger(code) ? code : JSONRPC.INTERNAL_ERROR,
    message,
    ...(data === undefined ? {} : { data }),
  };
}

/** The HTTP status of an error that refuses a whole HTTP request (before any JSON-RPC request is answered). */
export function httpStatusOf(error: unknown): number {
  return error instanceof OrchError ? WIRE[error.code].http : 500;
}

/**
 * The HTTP status of a 2026-07-28 answer carrying an error: a refusal of the request itself (a quota,
 * a credential) has its own; protocol-level rejections too (404 for an unknown method, 400 for a
 * malformed request, a header mismatch, a missing capability or an unsupported version); any other
 * error is the answer to the request (200).
 */
export function answerStatusOf(error: unknown): number {
  if (error instanceof OrchError && WIRE[error.code].refuses) return WIRE[error.code].http;
  const code = jsonRpcErrorOf(error, 'modern').code;
  if (code === JSONRPC.METHOD_NOT_FOUND) return 404;
  const rejections: number[] = [
    JSONRPC.HEADER_MISMATCH,
    JSONRPC.MISSING_CLIENT_CAPABILITY,
    JSONRPC.UNSUPPORTED_PROTOCOL_VERSION,
    JSONRPC.INVALID_REQUEST,
    JSONRPC.PARSE_ERROR,
  ];
  return rejections.includes(code) ? 400 : 200;
}

/**
 * What a request handler of the SDK Protocol throws so that the client gets `code`, `message` and
 * `data` as the table says: the Protocol layer sends those three fields of whatever a handler throws.
 */
export class WireError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'WireError';
  }

  static of(error: unknown, era: WireEra = 'legacy'): WireError {
    if (error instanceof WireError) return error;
    const wire = jsonRpcErrorOf(error, era);
    return new WireError(wire.code, wire.message, wire.data);
  }
}

/** The JSON error body of every HTTP answer that is not MCP (the REST API, the dashboard's actions, unknown routes). */
export interface ApiErrorBody {
  /** `errors`: each problem, when one request has several (a batch plan's). */
  error: { code: OrchErrorCode; message: string; hint?: string; errors?: string[] };
}

/** The REST API's one error shape, `{"error": {"code", "message", "hint"}}`; its status is httpStatusOf. Read back by the CLI. */
export function apiErrorBody(error: unknown): ApiErrorBody {
  if (error instanceof OrchError) {
    const errors = error.data?.errors;
    return {
      error: {
        code: error.code,
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
        ...(Array.isArray(errors) ? { errors: errors.map(String) } : {}),
      },
    };
  }
  return { error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
}
