/**
 * The one error type of mcp-orch. `code` is stable and machine-readable; the http room maps it to an
 * HTTP status and a JSON-RPC error code in one place (src/http/errorMapping.ts).
 */
export type OrchErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_PARSE'
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV_MISSING'
  | 'IMPORT_CONFLICT'
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
  | 'NO_ROUTE'
  | 'CAPABILITY_MISSING'
  | 'DAEMON_UNREACHABLE'
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
