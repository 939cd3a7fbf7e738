import type { Protocol } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';

export type MessageKind = 'request' | 'notification' | 'response';

/** The kind of a JSON-RPC 2.0 message from its envelope, without looking further; undefined if malformed. */
export function kindOf(message: unknown): MessageKind | undefined {
  // What is not an object (null, a string, a number) has no jsonrpc member: it is refused here too.
  const m = message as
    { jsonrpc?: unknown; method?: unknown; id?: unknown; result?: unknown; error?: unknown; params?: unknown } | null | undefined;
  if (m?.jsonrpc !== '2.0') return undefined;
  const id = m.id;
  const validId = typeof id === 'string' || Number.isInteger(id);
  if (typeof m.method === 'string') {
    if (m.params !== undefined && (typeof m.params !== 'object' || m.params === null)) return undefined;
    if (id === undefined) return 'notification';
    return validId ? 'request' : undefined;
  }
  if (m.method !== undefined) return undefined;
  if ('result' in m) return validId && typeof m.result === 'object' && m.result !== null ? 'response' : undefined;
  const error = m.error as { code?: unknown; message?: unknown } | null | undefined;
  return (validId || id === undefined || id === null) &&
    typeof error === 'object' &&
    error !== null &&
    typeof error.code === 'number' &&
    typeof error.message === 'string'
    ? 'response'
    : undefined;
}

/** The Protocol methods the SDK's own dispatcher hands each kind of message to. */
interface ProtocolDispatch {
  _onrequest(message: JSONRPCMessage, extra?: MessageExtraInfo): void;
  _onnotification(message: JSONRPCMessage): void;
  _onresponse(message: JSONRPCMessage): void;
  _onerror(error: Error): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any Client or Server
type AnyProtocol = Protocol<any, any, any>;

/**
 * Connects an SDK Client or Server to its transport (with `connect`, by default protocol.connect),
 * then tells inbound messages apart by their envelope (kindOf) instead of the SDK's zod guards.
 * The SDK runs up to three zod safeParse calls per message to learn its kind, and a request fails
 * two of them first, building error objects each time: about a sixth of mcp-orch's CPU per
 * forwarded call under load (bench/compare.mjs, 391 -> 326 µs). Messages go to the same Protocol
 * methods the SDK's dispatcher calls, so handlers, responses, progress and cancellation behave as
 * before. `intercept` sees each message first and keeps those it returns true for (the answers to
 * the gateway's own request channel). Returns false (and leaves the SDK's dispatcher in place) if
 * this SDK version's Protocol lacks those methods; a test pins that it has them.
 */
export async function connectByKind(
  protocol: AnyProtocol,
  transport: Transport,
  connect: () => Promise<void> = () => protocol.connect(transport),
  intercept?: (message: JSONRPCMessage) => boolean,
): Promise<boolean> {
  const own = transport.onmessage;
  await connect();
  const dispatch = protocol as unknown as ProtocolDispatch;
  const methods = [dispatch._onrequest, dispatch._onnotification, dispatch._onresponse, dispatch._onerror];
  if (!methods.every((method) => typeof method === 'function')) {
    const sdk = transport.onmessage;
    // Stryker disable next-line OptionalChaining: connect() has set the SDK's handler
    if (intercept) transport.onmessage = (message, extra) => void (intercept(message) || sdk?.(message, extra));
    return false;
  }
  transport.onmessage = (message, extra) => {
    own?.(message, extra);
    if (intercept?.(message)) return;
    switch (kindOf(message)) {
      case 'request':
        return dispatch._onrequest(message, extra);
      case 'notification':
        return dispatch._onnotification(message);
      case 'response':
        return dispatch._onresponse(message);
      default:
        return dispatch._onerror(new Error(`Unknown message type: ${JSON.stringify(message)}`));
    }
  };
  return true;
}
