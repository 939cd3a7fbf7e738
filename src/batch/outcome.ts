import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcErrorOf, OrchError } from '../errors.js';

/**
 * What a tool call means to later steps: its structured content when it has some; otherwise its
 * text (parsed as JSON when it is JSON); otherwise its content as sent.
 */
export function valueOf(result: CallToolResult): unknown {
  if (result.structuredContent !== undefined) return result.structuredContent;
  const content = result.content ?? [];
  if (content.length > 0 && content.every((part) => part.type === 'text')) {
    const text = content.map((part) => (part as { text: string }).text).join('\n');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return content;
}

/** The text of a tool result with isError, as a step's error. */
export function toolErrorText(result: CallToolResult): string {
  const text = (result.content ?? [])
    .filter((part) => part.type === 'text')
    .map((part) => (part as { text: string }).text)
    .join('\n');
  return text || 'the tool returned an error with no text';
}

/** A step attempt that ran out of time. */
export class StepTimeout extends Error {
  constructor(seconds: number) {
    super(`timed out after ${seconds} s`);
    this.name = 'StepTimeout';
  }
}

const TRANSIENT: ReadonlySet<string> = new Set(['UPSTREAM_TIMEOUT', 'SERVER_UNAVAILABLE', 'RATE_LIMITED', 'LIMIT_REACHED']);
/** JSON-RPC codes of a lost connection and of a request that timed out (the SDK's). */
const TRANSIENT_CODES: ReadonlySet<number> = new Set([-32000, -32001]);

/**
 * Whether trying again may help: a timeout, a server that is down or restarting, a rate limit, a
 * lost connection, or an error the server marked with `data.retryable: true`. Refusals, unknown
 * names, bad arguments and tool errors are not retried.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof StepTimeout) return true;
  if (error instanceof OrchError) return TRANSIENT.has(error.code);
  const { code, data } = (error ?? {}) as { code?: unknown; data?: unknown };
  if ((data as { retryable?: unknown } | undefined)?.retryable === true) return true;
  return typeof code === 'number' && TRANSIENT_CODES.has(code);
}

/** An error as a step records it: the message a person reads, without the SDK's prefix. */
export function describeError(error: unknown): string {
  return jsonRpcErrorOf(error).message;
}
