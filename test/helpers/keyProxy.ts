/**
 * A client-side stand-in for tools that cannot send headers of their own (the conformance suite):
 * a local HTTP proxy that passes every request to the daemon with `Authorization: Bearer <key>`
 * added, and every answer back as it streams.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeyProxy {
  /** The proxy's base URL: use it where the daemon's would go. */
  url: string;
  close(): Promise<void>;
}

export async function startKeyProxy(target: string, key: string): Promise<KeyProxy> {
  const upstream = new URL(target);
  let own = '';
  /** Host and Origin naming the proxy are made to name the daemon; any other (DNS rebinding tests) goes on as sent. */
  const readdress = (value: string | undefined): string | undefined =>
    value === undefined
      ? undefined
      : value.replace(new RegExp(`^(https?://)?(localhost|127\\.0\\.0\\.1|\\[::1\\]):${own}$`), `$1$2:${upstream.port}`);
  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const { host, origin, ...headers } = incoming.headers;
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
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    outgoing.on('close', () => forwarded.destroy());
    incoming.pipe(forwarded);
  });
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
