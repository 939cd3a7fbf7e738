import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Result, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestObserver } from './session.js';

/** A request's params, as the gateway reads and rewrites them. */
export type Params = Record<string, unknown>;
/** What the SDK Server hands a request handler beside the request. */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * The client's progress token comes off the forwarded params: the upstream client sets its own,
 * and the gateway relays progress back under the client's.
 */
export function splitProgressToken(params: Params): { params: Params; progressToken: string | number | undefined } {
  const meta = params._meta as Params | undefined;
  const token = meta?.progressToken;
  if (!meta || (typeof token !== 'string' && typeof token !== 'number')) return { params, progressToken: undefined };
  const { progressToken: _dropped, ...rest } = meta;
  return { params: { ...params, _meta: rest }, progressToken: token };
}

/** Runs one forwarded request and tells the observer (metrics) its server, name, duration and outcome. */
export async function observed(
  observer: RequestObserver | undefined,
  request: { server: string; method: string; params: Params | undefined },
  run: () => Promise<Result>,
): Promise<Result> {
  const started = performance.now();
  let failed = true;
  try {
    const result = await run();
    failed = result.isError === true;
    return result;
  } finally {
    observer?.requestFinished({
      server: request.server,
      method: request.method,
      name: typeof request.params?.name === 'string' ? request.params.name : undefined,
      durationMs: performance.now() - started,
      error: failed,
    });
  }
}
