import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RequestChannel } from './channel.js';
import { StreamTransport } from './streamTransport.js';

/** A transport over in-memory streams: what the test writes to `stdout` is what the child "said". */
async function open() {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  const garbage: string[] = [];
  const transport = new StreamTransport(stdout, stdin, (line) => garbage.push(line));
  const received: Record<string, unknown>[] = [];
  transport.onmessage = (message) => received.push(message as Record<string, unknown>);
  await transport.start();
  /** Writes the chunks one by one, each read separately, and waits for them to be read. */
  const feed = async (...chunks: Buffer[]) => {
    for (const chunk of chunks) {
      stdout.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { transport, stdin, received, garbage, feed };
}

const line = (message: object): Buffer => Buffer.from(`${JSON.stringify(message)}\n`);

describe('StreamTransport', () => {
  it('keeps a multi-byte character whole when its bytes arrive in two reads', async () => {
    const { received, feed } = await open();
    const bytes = line({ jsonrpc: '2.0', id: 1, result: { text: 'é€😀' } });
    const cuts = [bytes.indexOf(0xc3) + 1, bytes.indexOf(0xe2) + 2, bytes.indexOf(0xf0) + 3];
    await feed(bytes.subarray(0, cuts[0]), bytes.subarray(cuts[0], cuts[1]), bytes.subarray(cuts[1], cuts[2]), bytes.subarray(cuts[2]));
    expect(received).toEqual([{ jsonrpc: '2.0', id: 1, result: { text: 'é€😀' } }]);
  });

  it('joins a line read in many pieces, and splits many lines read at once', async () => {
    const { received, garbage, feed } = await open();
    const big = line({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(200_000) } });
    const pieces = Array.from({ length: Math.ceil(big.length / 10_001) }, (_, i) => big.subarray(i * 10_001, (i + 1) * 10_001));
    await feed(...pieces);
    await feed(
      Buffer.concat([line({ jsonrpc: '2.0', id: 2, result: {} }), Buffer.from('\r\n  \n'), line({ jsonrpc: '2.0', method: 'm' })]),
    );
    expect(received.map((m) => m.id ?? m.method)).toEqual([1, 2, 'm']);
    expect((received[0] as { result: { text: string } }).result.text).toHaveLength(200_000);
    expect(garbage).toEqual([]);
  });

  it('accepts CRLF line ends and reports what is not JSON-RPC', async () => {
    const { received, garbage, feed } = await open();
    await feed(Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 3, result: {} })}\r\nstarting up...\n{"id":4}\n`));
    expect(received).toEqual([{ jsonrpc: '2.0', id: 3, result: {} }]);
    expect(garbage).toEqual(['starting up...', '{"id":4}']);
  });

  it('relays a progress notification before the response read in the same chunk (through the request channel)', async () => {
    const { transport, stdin, feed } = await open();
    const channel = new RequestChannel(transport);
    transport.onmessage = (message) => void channel.accept(message);
    const order: string[] = [];
    const sent = new Promise<string>((resolve) => stdin.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8'))));
    const answered = channel
      .request(
        { method: 'tools/call', params: { name: 'slow' } },
        { timeoutMs: 5000, onprogress: (p) => order.push(`progress ${p.progress}`) },
      )
      .then((result) => order.push(`result ${JSON.stringify(result)}`));
    const request = JSON.parse(await sent) as { id: string; params: { _meta: { progressToken: string } } };
    const progress = {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: request.params._meta.progressToken, progress: 1 },
    };
    await feed(Buffer.concat([line(progress), line({ jsonrpc: '2.0', id: request.id, result: { done: true } })]));
    await answered;
    expect(order).toEqual(['progress 1', 'result {"done":true}']);
  });

  it('writes each message as one line on the child’s stdin', async () => {
    const { transport, stdin } = await open();
    const written: string[] = [];
    stdin.on('data', (chunk: Buffer) => written.push(chunk.toString('utf8')));
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
    await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(written.join('')).toBe('{"jsonrpc":"2.0","id":1,"method":"ping"}\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  });
});
