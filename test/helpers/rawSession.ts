/**
 * A client that writes raw JSON-RPC to a gateway session over an already-open transport (as
 * `mcp-orch stdio` serves one) and keeps every message the session sends it, in order: for tests of
 * what the SDK client would not send (no id, no params, an id used twice) or would hide.
 */
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import type { Principal } from '../../src/auth/policy.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { GatewaySession } from '../../src/gateway/session.js';
import type { ViewSpec } from '../../src/gateway/view.js';
import { waitFor } from './wait.js';

export type RawMessage = JSONRPCMessage & {
  id?: RequestId;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
};

export interface RawClient {
  session: GatewaySession;
  received: RawMessage[];
  send(message: object): Promise<void>;
  /** The first response to request `id`, once it arrived. */
  response(id: RequestId): Promise<RawMessage>;
  /** Sends a ping and waits for its answer: whatever the session sent before it has arrived. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

let nextPing = 1_000_000;

/** A tools/call request as a client writes it. */
export const toolCall = (id: RequestId, name: string, args: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args, ...extra },
});

/** Opens a session on `spec` and initializes it (request id 0) with `capabilities`. */
export async function connectRaw(gateway: Gateway, spec: ViewSpec, principal: Principal, capabilities: object = {}): Promise<RawClient> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const received: RawMessage[] = [];
  clientSide.onmessage = (message) => void received.push(message as RawMessage);
  await clientSide.start();
  const session = await gateway.connectTransport(spec, serverSide, principal);
  const send = (message: object) => clientSide.send(message as JSONRPCMessage);
  const response = async (id: RequestId) => {
    const isAnswer = (m: RawMessage) => m.id === id && m.method === undefined;
    await waitFor(() => received.some(isAnswer));
    return received.find(isAnswer)!;
  };
  await send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw-client', version: '1' } },
  });
  await response(0);
  await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return {
    session,
    received,
    send,
    response,
    flush: async () => {
      const id = nextPing++;
      await send({ jsonrpc: '2.0', id, method: 'ping' });
      await response(id);
    },
    close: () => clientSide.close(),
  };
}
