import { fetchWithinOrigin, unfollowedRedirect, type Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

const MODERN_VERSION = '2026-07-28';

type Params = Record<string, unknown>;

/** Methods whose `Mcp-Name` header names the tool, prompt or resource the body names. */
const NAME_OF: Record<string, (params: Params) => unknown> = {
  'tools/call': (params) => params.name,
  'prompts/get': (params) => params.name,
  'resources/read': (params) => params.uri,
};

/**
 * A client transport for remote servers of the 2026-07-28 era: stateless Streamable HTTP, one POST
 * per request with `MCP-Protocol-Version`, `Mcp-Method` and (for calls) `Mcp-Name` matching the
 * body, answered with JSON or an SSE stream (progress, then the response; a subscriptions/listen
 * stream stays open). No session and no GET stream. Cancelling a request (the SDK sends
 * notifications/cancelled) closes its HTTP request, which is how 2026 servers learn of it; other
 * client notifications have no 2026 meaning over HTTP and are dropped. Redirects are followed only
 * within the server's origin, as the SDK's own transports do: the configured headers (its
 * credentials) never reach another site; any other redirect answers the request with an error.
 */
export class ModernHttpTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly inFlight = new Map<string | number, AbortController>();
  private readonly fetch = fetchWithinOrigin();
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly headers: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    const msg = message as { id?: string | number; method?: string; params?: Params };
    if (msg.method === undefined) return; // a response: 2026 servers send no requests to answer
    if (msg.id === undefined) {
      if (msg.method === 'notifications/cancelled') this.inFlight.get(msg.params?.requestId as string | number)?.abort();
      return;
    }
    const id = msg.id;
    const params = msg.params ?? {};
    const meta = (params._meta ?? {}) as Params;
    const version =
      typeof meta['io.modelcontextprotocol/protocolVersion'] === 'string'
        ? String(meta['io.modelcontextprotocol/protocolVersion'])
        : MODERN_VERSION;
    const name = NAME_OF[msg.method]?.(params);
    const abort = new AbortController();
    this.inFlight.set(id, abort);
    const headers: Record<string, string> = {
      ...this.headers,
      'Content-Type': 'application/json',
      Accept: 'application/json, text/event-stream',
      'MCP-Protocol-Version': version,
      'Mcp-Method': msg.method,
      ...(typeof name === 'string' ? { 'Mcp-Name': encodeHeader(name) } : {}),
    };
    let response: Response;
    try {
      response = await this.fetch(this.url, { method: 'POST', headers, body: JSON.stringify(message), signal: abort.signal });
    } catch (error) {
      this.inFlight.delete(id);
      if (abort.signal.aborted) return;
      throw error;
    }
    // The POST is sent; its answer is read in the background, as the SDK expects of a transport.
    // Stryker disable next-line BlockStatement: forgetting a finished request only frees memory; aborting it later changes nothing
    void this.receive(id, response, abort).finally(() => {
      // Stryker disable next-line all: as above (a request id in flight is not reused)
      if (this.inFlight.get(id) === abort) this.inFlight.delete(id);
    });
  }

  private async receive(id: string | number, response: Response, abort: AbortController): Promise<void> {
    const read: { answered?: boolean } = {};
    try {
      const redirect = unfollowedRedirect(response, this.url);
      if (redirect !== undefined) {
        // Stryker disable next-line OptionalChaining: Node's fetch gives a redirect a body; only a browser's opaque redirect has none
        await response.body?.cancel();
        this.answerWithError(
          id,
          `HTTP ${response.status}: ${redirect}; only redirects within the server's origin are followed, so that its headers reach no other site (set its url to the new address)`,
        );
        return;
      }
      // Stryker disable next-line StringLiteral: without a content type, any text but an event stream's reads the same
      const type = response.headers.get('content-type') ?? '';
      if (type.includes('text/event-stream') && response.body) {
        // A stream that ends before the answer (the server went away) answers with an error, or its
        // request would wait for its timeout: a day for a listen stream, which is reopened instead.
        await this.readSse(response.body, id, read);
        if (!read.answered && !abort.signal.aborted && !this.closed) {
          this.answerWithError(id, 'the server ended its event stream before the answer');
        }
        return;
      }
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: answered with an error below.
      }
      if (isJsonRpc(body)) {
        // An error the server could not tie to a request (id null: a 2025 server's 400 to the
        // server/discover probe) answers the one request this POST carried, or it would wait its timeout.
        const unattributed = (body as { id?: unknown }).id === null && 'error' in body;
        this.deliver(unattributed ? ({ ...body, id } as JSONRPCMessage) : body);
        return;
      }
      this.answerWithError(id, `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
    } catch (error) {
      if (abort.signal.aborted || this.closed) return;
      this.onerror?.(error as Error);
      if (!read.answered) this.answerWithError(id, `the server's event stream broke before the answer: ${(error as Error).message}`);
    }
  }

  /** Settles request `id` with an internal error: what an HTTP answer that is no JSON-RPC becomes. */
  private answerWithError(id: string | number, message: string): void {
    this.deliver({ jsonrpc: '2.0', id, error: { code: -32603, message } } as JSONRPCMessage);
  }

  /** Hands a message to the client; one read while nobody listens (the era probe is over) is dropped. */
  private deliver(message: JSONRPCMessage): void {
    this.onmessage?.(message);
  }

  /** Delivers the events of a response stream; `read.answered` once the answer to request `id` was among them. */
  private async readSse(body: ReadableStream<Uint8Array>, id: string | number, read: { answered?: boolean }): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    const take = async (text: string): Promise<void> => {
      // Only the new text, with the line end before it, can complete an event: no rescanning.
      // Stryker disable next-line MethodExpression: searching from 0 finds the same first event, only rescanning
      const from = Math.max(0, buffer.length - 1);
      buffer += text.replace(/\r\n?/g, '\n');
      let end = buffer.indexOf('\n\n', from);
      while (end !== -1) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        // The SDK runs a notification's handler a microtask after delivery but settles a response at
        // once: awaiting each event gives a progress handler its turn before a response in the same chunk.
        if ((await this.deliverEvent(event)) === id) read.answered = true;
        end = buffer.indexOf('\n\n');
      }
    };
    // A CR that ends a chunk may be the first half of a CRLF: it waits for the next chunk, so that
    // the pair becomes one line end, not two (which would end the event early).
    // Stryker disable next-line BooleanLiteral: a CR before the first chunk only adds an empty line, which SSE ignores
    let heldCr = false;
    for await (const chunk of body) {
      const text: string = (heldCr ? '\r' : '') + decoder.decode(chunk, { stream: true });
      heldCr = text.endsWith('\r');
      await take(heldCr ? text.slice(0, -1) : text);
    }
    if (heldCr) await take('\r');
  }

  /** One Server-Sent Event: its data lines, joined, delivered if they are a JSON-RPC message; the id it answers, if a response. */
  private async deliverEvent(event: string): Promise<string | number | undefined> {
    const data = event
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    if (!data) return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch (error) {
      this.onerror?.(error as Error);
      return undefined;
    }
    if (!isJsonRpc(message)) return undefined;
    this.deliver(message);
    const answered = message as { id?: string | number; method?: unknown };
    return answered.method === undefined ? answered.id : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const abort of this.inFlight.values()) abort.abort();
    this.inFlight.clear();
    this.onclose?.();
  }
}

function isJsonRpc(value: unknown): value is JSONRPCMessage {
  return typeof value === 'object' && value !== null && (value as { jsonrpc?: unknown }).jsonrpc === '2.0';
}

/** Header values must be ASCII: other names go as `=?base64?...?=`, as the 2026 transport defines. */
function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) && value.trim() === value ? value : `=?base64?${Buffer.from(value).toString('base64')}?=`;
}
