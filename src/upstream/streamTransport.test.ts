import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
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

  it('delivers a response read with a progress notification a turn later, after the notification', async () => {
    const { received, feed } = await open();
    const order: string[] = [];
    const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
    const response = { jsonrpc: '2.0', id: 1, result: {} };
    const delivered = feed(Buffer.concat([line(progress), line(response)]));
    queueMicrotask(() => order.push(`after a microtask: ${received.length}`));
    await delivered;
    expect(order).toEqual(['after a microtask: 1']);
    expect(received).toEqual([progress, response]);
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
