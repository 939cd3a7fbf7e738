import { connect, type Socket } from 'node:net';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { serve, type Served } from './serve.js';

const TIMEOUTS = { headersMs: 300, requestMs: 600, keepAliveMs: 300, checkIntervalMs: 50 };
/** Far longer than any bound above: a socket still open after this many slow bytes was never dropped. */
const MAX_SLOW_BYTES = 200;
const SLOW_BYTE_MS = 50;

/** An app with a quick route and an event stream that stays open until the test pushes to it. */
function streamingApp() {
  const streams: ReadableStreamDefaultController<Uint8Array>[] = [];
  const app = new Hono();
  app.get('/health', (c) => c.text('ok'));
  app.on(['GET', 'POST'], '/events', async (c) => {
    if (c.req.method === 'POST') {
      try {
        await c.req.text();
      } catch {
        return c.body(null, 408); // the server stopped waiting for the body: that client is gone, and gets no stream
      }
    }
    const body = new ReadableStream<Uint8Array>({ start: (controller) => void streams.push(controller) });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  });
  const push = (text: string): void => {
    for (const controller of streams) controller.enqueue(new TextEncoder().encode(`data: ${text}\n\n`));
  };
  return { app, push };
}

/** A raw client socket that keeps everything it receives and says when it has closed. */
async function rawSocket(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  return {
    socket,
    closed,
    get isClosed() {
      return isClosed;
    },
    received: () => received,
    /** Resolves once `text` has arrived. */
    waitFor: (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (received.includes(text)) {
            socket.off('data', check);
            resolve();
          }
        };
        socket.on('data', check);
        socket.once('close', () => (received.includes(text) ? resolve() : reject(new Error(`closed before "${text}" arrived`))));
        check();
      }),
  };
}

/** Sends `text` one byte at a time, as a slowloris client does, until the server drops the socket. */
async function dribble(client: Awaited<ReturnType<typeof rawSocket>>, text: string): Promise<number> {
  for (let sent = 0; sent < MAX_SLOW_BYTES; sent++) {
    if (client.isClosed) return sent;
    client.socket.write(text[sent % text.length]!);
    await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, SLOW_BYTE_MS))]);
  }
  return client.isClosed ? MAX_SLOW_BYTES : -1;
}

describe('serve: timeouts for slow clients', () => {
  let served: Served | undefined;
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await served?.close();
    served = undefined;
  });

  const start = async () => {
    const { app, push } = streamingApp();
    served = await serve(app, '127.0.0.1', 0, TIMEOUTS);
    const open = async () => {
      const client = await rawSocket(served!.port);
      sockets.push(client.socket);
      return client;
    };
    return { port: served.port, push, open };
  };

  it('drops a client that sends its headers byte by byte, with 408', async () => {
    const { open } = await start();
    const slow = await open();
    slow.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
    const sent = await dribble(slow, 'X-Slow: aaaa\r\n');
    expect(sent, 'the socket was still open after every slow byte').toBeGreaterThan(0);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('drops a client that sends its body byte by byte', async () => {
    const { open } = await start();
    const slow = await open();
    slow.socket.write('POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n');
    expect(await dribble(slow, '{}')).toBeGreaterThan(0);
  });

  it('closes an idle keep-alive connection', async () => {
    const { open } = await start();
    const idle = await open();
    idle.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await idle.waitFor('ok');
    // Set explicitly: newer Node versions keep idle sockets for 65 s by default.
    await idle.closed;
  });

  it('never cuts an event stream or a streamed answer, however long they stay open', async () => {
    const { open, push } = await start();
    const get = await open();
    get.socket.write('GET /events HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n');
    const post = await open();
    post.socket.write('POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
    await Promise.all([get.waitFor('text/event-stream'), post.waitFor('text/event-stream')]);
    push('first');
    await Promise.all([get.waitFor('data: first'), post.waitFor('data: first')]);

    // Both streams began before these two clients; once the server has dropped them for taking
    // longer than the header and the request bounds, the streams are older than both.
    const slowHeaders = await open();
    slowHeaders.socket.write('GET /health HTTP/1.1\r\n');
    const slowBody = await open();
    slowBody.socket.write('POST /events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n');
    const [headersSent, bodySent] = await Promise.all([dribble(slowHeaders, 'X: a\r\n'), dribble(slowBody, '{}')]);
    expect(headersSent).toBeGreaterThan(0);
    expect(bodySent).toBeGreaterThan(0);

    push('later');
    await Promise.all([get.waitFor('data: later'), post.waitFor('data: later')]);
    expect(get.isClosed || post.isClosed).toBe(false);
  });
});
