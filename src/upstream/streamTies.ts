import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Server requests are small; an event this large is a result, not worth parsing twice. */
const MAX_REQUEST_EVENT = 64 * 1024;
/** Ties kept at most (a server request the SDK answers itself, a ping, is never looked up). */
const MAX_TIES = 1000;

/**
 * Which request of ours a Streamable HTTP server's own request belongs to. Such a server sends a
 * sampling or elicitation request on the response stream of the request that caused it; the SDK's
 * client transport hands it on without saying which stream it came on. The fetch given to that
 * transport reads along each POST's event stream and notes, before the SDK sees it, the server
 * request's id against the id of the request the POST carried.
 */
export class StreamTies {
  private readonly related = new Map<RequestId, RequestId>();

  constructor(private readonly inner: FetchLike = fetch) {}

  readonly fetch: FetchLike = async (url, init) => {
    const response = await this.inner(url, init);
    const requestId = requestIdOf(init?.body);
    // Stryker disable next-line StringLiteral: any fallback but an event-stream type is read the same
    const contentType = response.headers.get('content-type') ?? '';
    if (requestId === undefined || !response.body || !contentType.startsWith('text/event-stream')) return response;
    const parser = createParser({ onEvent: (event) => this.onEvent(event, requestId) });
    const decoder = new TextDecoder();
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };

  /** The id of our request that the server request `id` came with, once; undefined when it came alone. */
  take(id: RequestId): RequestId | undefined {
    const related = this.related.get(id);
    this.related.delete(id);
    return related;
  }

  private onEvent(event: EventSourceMessage, requestId: RequestId): void {
    // Stryker disable next-line StringLiteral: a shortcut; an event without "method" fails the typeof check below after parsing
    if (event.data.length > MAX_REQUEST_EVENT || !event.data.includes('"method"')) return;
    let message: { id?: unknown; method?: unknown };
    try {
      message = JSON.parse(event.data) as typeof message;
    } catch {
      return;
    }
    if (typeof message.method !== 'string' || (typeof message.id !== 'string' && typeof message.id !== 'number')) return;
    if (this.related.size >= MAX_TIES) this.related.delete(this.related.keys().next().value!);
    this.related.set(message.id, requestId);
  }
}

/** How a request of the gateway's request channel begins once serialised (its keys in that order). */
const CHANNEL_REQUEST = /^\{"jsonrpc":"2\.0","id":"(o\d+)","method":/;

/** The id of the channel request a POST body carries, read off its first bytes; undefined for anything else. */
function requestIdOf(body: unknown): RequestId | undefined {
  // Stryker disable next-line ConditionalExpression: other bodies (none, bytes) never stringify to a channel request's start
  return typeof body === 'string' ? CHANNEL_REQUEST.exec(body)?.[1] : undefined;
}
