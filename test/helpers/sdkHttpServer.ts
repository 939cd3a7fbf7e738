/** A remote 2025-11-25 server on a real socket, as a hosted one runs: the SDK's own Streamable HTTP with sessions. */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

export interface SdkHttpServer {
  /** The endpoint, http://127.0.0.1:PORT/mcp. */
  url: string;
  /** Drops every session, as a restart does, while the old streams stay open: their next POST is a 404. */
  forget(): void;
  close(): Promise<void>;
}

/**
 * Serves a server of its own (`serverFor`, given the session's transport, which it may watch) for
 * each session an initialize POST opens; a request for an unknown session is answered 404.
 */
export async function serveSdkHttp(
  serverFor: (transport: StreamableHTTPServerTransport) => { connect(transport: Transport): Promise<void> },
): Promise<SdkHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer((req, res) => {
    const id = req.headers['mcp-session-id'];
    const known = typeof id === 'string' ? sessions.get(id) : undefined;
    if (known) return void known.handleRequest(req, res);
    if (typeof id === 'string' || req.method !== 'POST') return void res.writeHead(404).end();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
    });
    void serverFor(transport)
      .connect(transport)
      .then(() => transport.handleRequest(req, res));
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    forget: () => sessions.clear(),
    close: async () => {
      for (const transport of new Set(sessions.values())) await transport.close();
      http.closeAllConnections();
      http.close();
    },
  };
}
