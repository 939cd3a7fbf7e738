/** A plain HTTP server on 127.0.0.1 for ModernHttpTransport's tests, closed after each test, and a collector of what the transport delivers. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { afterEach } from 'vitest';
import type { ModernHttpTransport } from '../../src/upstream/modernHttpTransport.js';

export type Handler = (req: IncomingMessage, body: Record<string, unknown>, res: ServerResponse) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

/** Serves `handler` (each POST's body parsed as JSON) at a fresh port's /mcp. */
export async function serve(handler: Handler): Promise<URL> {
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    handler(req, JSON.parse(text) as Record<string, unknown>, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
}

/** Every message `transport` delivers, in order. */
export function collect(transport: ModernHttpTransport): JSONRPCMessage[] {
  const messages: JSONRPCMessage[] = [];
  transport.onmessage = (message) => messages.push(message);
  return messages;
}

/** The SSE event that carries `message`. */
export const sseEvent = (message: object): string => `data: ${JSON.stringify(message)}\n\n`;
