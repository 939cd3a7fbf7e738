/**
 * A client-side stand-in for tools that cannot send headers of their own (the conformance suite):
 * a local HTTP proxy that passes every request to the daemon with `Authorization: Bearer <key>`
 * added, and every answer back as it streams. With `rewrite`, JSON-RPC bodies are rewritten on the
 * way (test/helpers/namespaceShim.ts), in JSON answers and event by event in event streams.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Rewrite } from './namespaceShim.js';

export interface KeyProxy {
  /** The proxy's base URL: use it where the daemon's would go. */
  url: string;
  close(): Promise<void>;
}

export async function startKeyProxy(target: string, key: string, rewrite?: Rewrite): Promise<KeyProxy> {
  const upstream = new URL(target);
  let own = '';
  /** Host and Origin naming the proxy are made to name the daemon; any other (DNS rebinding tests) goes on as sent. */
  const readdress = (value: string | undefined): string | undefined =>
    value === undefined
      ? undefined
      : value.replace(new RegExp(`^(https?://)?(localhost|127\\.0\\.0\\.1|\\[::1\\]):${own}$`), `$1$2:${upstream.port}`);
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    if (rewrite && incoming.method === 'POST') {
      void readBody(incoming).then((body) => {
        const rewritten = rewriteJson(body, rewrite.request);
        forward(incoming, outgoing, rewritten);
      });
      return;
    }
    forward(incoming, outgoing);
  });

  /** Passes one request on, with `body` instead of the incoming one when given. */
  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body?: Buffer): void => {
    const { host, origin, ...headers } = incoming.headers;
    if (body) headers['content-length'] = String(body.length);
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: incoming.method,
        path: incoming.url,
        headers: {
          ...headers,
          ...(host === undefined ? {} : { host: readdress(host) }),
          ...(origin === undefined ? {} : { origin: readdress(origin) }),
          authorization: `Bearer ${key}`,
        },
      },
      (answer) => {
        const type = String(answer.headers['content-type'] ?? '');
        if (!rewrite || !(type.startsWith('application/json') || type.startsWith('text/event-stream'))) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        const { 'content-length': _length, ...answerHeaders } = answer.headers;
        outgoing.writeHead(answer.statusCode ?? 502, answerHeaders);
        if (type.startsWith('application/json')) {
          void readBody(answer).then((json) => outgoing.end(rewriteJson(json, rewrite.response)));
        } else answer.pipe(eventRewriter(rewrite.response)).pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    outgoing.on('close', () => forwarded.destroy());
    if (body) forwarded.end(body);
    else incoming.pipe(forwarded);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  own = String(port);
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/** A JSON body rewritten; one that is not JSON goes on as it came, for the daemon to refuse. */
function rewriteJson(body: Buffer, rewrite: (message: unknown) => unknown): Buffer {
  try {
    return Buffer.from(JSON.stringify(rewrite(JSON.parse(body.toString('utf8')))));
  } catch {
    return body;
  }
}

/** Rewrites each `data:` line of an event stream as it passes, line by line. */
function eventRewriter(rewrite: (message: unknown) => unknown): Transform {
  let partial = '';
  const decoder = new StringDecoder('utf8'); // a character split across two chunks stays whole
  const line = (text: string): string =>
    text.startsWith('data: ') ? `data: ${rewriteJson(Buffer.from(text.slice(6)), rewrite).toString('utf8')}` : text;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const lines = (partial + decoder.write(chunk)).split('\n');
      partial = lines.pop()!;
      done(null, lines.map((text) => `${line(text)}\n`).join(''));
    },
    flush(done) {
      const rest = partial + decoder.end();
      done(null, rest === '' ? '' : line(rest));
    },
  });
}
