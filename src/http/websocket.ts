import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Hono } from 'hono';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { OrchError } from '../errors.js';
import type { WebSocketOpening } from '../gateway/wsTransport.js';
import { errorResponse } from '../gateway/responses.js';

/** The subprotocol the MCP SDK's WebSocketClientTransport asks for. */
export const SUBPROTOCOL = 'mcp';
const HEARTBEAT_MS = 30_000;

/**
 * What an upgrade request carries through the Hono app, beside the Node request: the route that
 * accepts it leaves the opened session here. Requests that are no upgrades have none of this.
 */
interface UpgradeEnv {
  incoming: IncomingMessage;
  upgrade: true;
  accepted?: WebSocketOpening;
}

/**
 * The route of a WebSocket endpoint: refuses what is not a proper MCP WebSocket handshake, then
 * `open` (identify the caller, open the gateway session) decides; its session is what the upgrade
 * completes with. Any Response it returns instead (401, 403, 404, 429...) goes back as the HTTP answer.
 */
export async function webSocketRoute(c: Context, open: () => Promise<WebSocketOpening | Response>): Promise<Response> {
  const env = c.env as Partial<UpgradeEnv> | undefined;
  if (!env?.upgrade) {
    return errorResponse(
      new OrchError('BAD_REQUEST', 'this is a WebSocket endpoint', {
        hint: `connect with a WebSocket client and the subprotocol "${SUBPROTOCOL}" (the MCP SDK's WebSocketClientTransport does)`,
      }),
      null,
      { upgrade: 'websocket' },
    );
  }
  const protocols = (c.req.header('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  if (!protocols.includes(SUBPROTOCOL)) {
    return errorResponse(
      new OrchError('BAD_REQUEST', `the WebSocket subprotocol "${SUBPROTOCOL}" is required`, {
        hint: `open the socket with new WebSocket(url, "${SUBPROTOCOL}")`,
      }),
    );
  }
  const key = c.req.header('sec-websocket-key') ?? '';
  if (c.req.header('sec-websocket-version') !== '13' || !/^[+/0-9A-Za-z]{22}==$/.test(key)) {
    return errorResponse(new OrchError('BAD_REQUEST', 'not a WebSocket handshake (version 13 with a Sec-WebSocket-Key)'));
  }
  const opened = await open();
  if (opened instanceof Response) return opened;
  env.accepted = opened;
  return new Response(null, { status: 204 });
}

export interface WebSocketServing {
  /** For the Node server's `upgrade` event. */
  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every connection at once (the daemon is stopping). Idempotent. */
  close(): void;
}

/**
 * WebSockets beside the HTTP routes, on the same port: an upgrade request goes through the same
 * Hono app (Host and Origin checks, the shutting-down answer, identification), and only a route that
 * accepted it is upgraded. Frames are bounded by `maxPayloadBytes` (closed with 1009 past it); a
 * client that stops answering pings for a heartbeat is dropped.
 */
export function createWebSocketServing(app: Hono, options: { maxPayloadBytes: number }): WebSocketServing {
  const server = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxPayloadBytes,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });
  const alive = new WeakSet<WebSocket>();
  const heartbeat = setInterval(() => {
    for (const socket of server.clients) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const bind = (socket: WebSocket, opening: WebSocketOpening): void => {
    alive.add(socket);
    socket.on('pong', () => alive.add(socket));
    const transport = opening.attach(socket);
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) socket.close(1003, 'MCP over WebSocket is sent in text frames');
      else transport.receive(textOf(data));
    });
    socket.on('close', () => transport.closed());
    // A frame over maxPayload, a broken frame: ws closes the socket itself after this.
    socket.on('error', () => undefined);
  };

  let closed = false;
  return {
    upgrade(request, socket, head) {
      socket.on('error', () => socket.destroy());
      if (closed) return void socket.destroy();
      const env: UpgradeEnv = { incoming: request, upgrade: true };
      let webRequest: Request;
      try {
        const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
        webRequest = new Request(url, { method: request.method ?? 'GET', headers: headersOf(request) });
      } catch {
        return void writeResponse(socket, new Response('Bad Request', { status: 400 }));
      }
      void (async () => {
        const response = await app.fetch(webRequest, env);
        const opening = env.accepted;
        if (!opening) return writeResponse(socket, response);
        let attached = false;
        if (!socket.destroyed) {
          server.handleUpgrade(request, socket, head, (ws) => {
            attached = true;
            bind(ws, opening);
          });
        }
        // ws drops a socket it cannot upgrade without calling back: the session was never used.
        if (!attached) opening.abandon();
      })().catch(() => socket.destroy());
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const socket of server.clients) socket.terminate();
      server.close();
    },
  };
}

function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}

function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const each of Array.isArray(value) ? value : [value]) headers.append(name, each);
  }
  return headers;
}

/** An HTTP answer written on the raw socket of a refused upgrade, which then closes. */
async function writeResponse(socket: Duplex, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  const lines = [`HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}`];
  response.headers.forEach((value, name) => {
    if (name !== 'content-length' && name !== 'connection') lines.push(`${name}: ${value}`);
  });
  lines.push(`content-length: ${body.length}`, 'connection: close', '', '');
  if (!socket.destroyed) socket.end(Buffer.concat([Buffer.from(lines.join('\r\n')), body]));
}
