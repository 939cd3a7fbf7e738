import type { AddressInfo } from 'node:net';
import { serve as serveNode } from '@hono/node-server';
import type { Hono } from 'hono';
import type { WebSocketServing } from './websocket.js';

export interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * How long a client may take to send what it sends. Generous for a real client, short for one that
 * holds a socket open on purpose by sending a request slowly (slowloris). None of them bounds an
 * answer: an SSE stream or a streamed result may stay open as long as the gateway keeps it.
 */
export interface ServeTimeouts {
  /** Receiving a request's headers. */
  headersMs: number;
  /** Receiving a whole request, body included. */
  requestMs: number;
  /** An idle keep-alive connection between two requests. */
  keepAliveMs: number;
  /** How often Node looks for requests past the two bounds above (its default, 30 s, lets one linger that much longer). */
  checkIntervalMs: number;
}

export const SERVE_TIMEOUTS: ServeTimeouts = { headersMs: 10_000, requestMs: 60_000, keepAliveMs: 5_000, checkIntervalMs: 1_000 };

/** Listens on host:port (port 0 picks a free one) and resolves once listening; upgrade requests go to `webSockets`. */
export function serve(
  app: Hono,
  host: string,
  port: number,
  timeouts: ServeTimeouts = SERVE_TIMEOUTS,
  webSockets?: WebSocketServing,
): Promise<Served> {
  return new Promise((resolve, reject) => {
    const serverOptions = {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    };
    const server = serveNode({ fetch: app.fetch, hostname: host, port, serverOptions }, (info: AddressInfo) => {
      server.off('error', reject);
      const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${shownHost}:${info.port}`,
        port: info.port,
        close: () => {
          // Upgraded sockets are no HTTP connections: closeAllConnections does not end them.
          webSockets?.close();
          closing ??= new Promise<void>((done) => {
            server.close(() => done());
            // Open SSE streams and keep-alive sockets would hold close() forever.
            if ('closeAllConnections' in server) server.closeAllConnections();
          });
          return closing;
        },
      });
    });
    if (webSockets) server.on('upgrade', webSockets.upgrade);
    server.once('error', reject);
  });
}
