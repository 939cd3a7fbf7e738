import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RequestChannel } from './channel.js';
import { STRAY_BYTES_PER_SECOND, StreamTransport } from './streamTransport.js';

/**
 * A transport over in-memory streams: what the test writes to `stdout` is what the child "said".
 * `clock.now` is the transport's clock, moved by hand.
 */
async function open() {
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  const stray: string[] = [];
  const corrupt: { reason: string; line: string }[] = [];
  const clock = { now: 1_000_000 };
  const transport = new StreamTransport(
    stdout,
    stdin,
    { onStray: (line) => stray.push(line), onCorrupt: (reason, line) => corrupt.push({ reason, line }) },
    () => clock.now,
  );
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
  return { transport, stdin, received, stray, corrupt, clock, feed };
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
    const { received, stray, feed } = await open();
    const big = line({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(200_000) } });
    const pieces = Array.from({ length: Math.ceil(big.length / 10_001) }, (_, i) => big.subarray(i * 10_001, (i + 1) * 10_001));
    await feed(...pieces);
    await feed(
      Buffer.concat([line({ jsonrpc: '2.0', id: 2, result: {} }), Buffer.from('\r\n  \n'), line({ jsonrpc: '2.0', method: 'm' })]),
    );
    expect(received.map((m) => m.id ?? m.method)).toEqual([1, 2, 'm']);
    expect((received[0] as { result: { text: string } }).result.text).toHaveLength(200_000);
    expect(stray).toEqual([]);
  });

  it('accepts CRLF line ends, and skips lines that are no JSON-RPC message while delivering the ones around them', async () => {
    const { received, stray, corrupt, feed } = await open();
    const noise = [
      'Starting Time MCP server...',
      '{"level":30,"msg":"ready","req":{"jsonrpc":"2.0","id":9}}',
      '{"id":4}',
      '{"jsonrpc":"1.0","id":5}',
      '[{"jsonrpc":"2.0","id":6,"result":{}}]',
      'null',
      '42',
      '"a string"',
      "{ level: 'info', msg: 'a JavaScript object printed by console.log', jsonrpc: '2.0' }",
      'sending {"jsonrpc":"2.0","id":7,"result":{}} to the client',
      '{"this is": "not closed',
      '\u0000\u0001 binary-ish bytes é€',
    ];
    await feed(
      Buffer.from(`${noise[0]}\r\n${JSON.stringify({ jsonrpc: '2.0', id: 3, result: {} })}\r\n`),
      Buffer.from(`${noise.slice(1).join('\n')}\n${JSON.stringify({ jsonrpc: '2.0', method: 'm' })}\n`),
    );
    expect(received).toEqual([
      { jsonrpc: '2.0', id: 3, result: {} },
      { jsonrpc: '2.0', method: 'm' },
    ]);
    expect(stray).toEqual(noise);
    expect(corrupt).toEqual([]);
  });

  it('reports a line that breaks off inside a message as corruption, without quoting it, and reads no further', async () => {
    const { received, stray, corrupt, feed } = await open();
    const secret = '{"result":{"content":[{"type":"text","text":"another client\'s data"}]},"jsonrpc":"2.0","id":1';
    await feed(Buffer.from(`${secret}\n}\n${JSON.stringify({ jsonrpc: '2.0', id: 2, result: {} })}\n`));
    expect(corrupt).toHaveLength(1);
    expect(corrupt[0]!.line).toBe(secret);
    expect(corrupt[0]!.reason).toBe(
      `wrote a line to stdout that breaks off inside a JSON-RPC message (${secret.length} bytes that open a message ` +
        'but are not valid JSON): a newline inside a message, or other output written into one',
    );
    expect(corrupt[0]!.reason).not.toContain('another client');
    await feed(Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id: 3, result: {} })}\n`));
    expect(received).toEqual([]);
    expect(stray).toEqual([]);
  });

  it('knows a broken message by its opening brace and quoted key, spaces or not', async () => {
    const { stray, corrupt, feed } = await open();
    const broken = '  { "jsonrpc": "2.0", "id": 1, "result": {';
    await feed(Buffer.from(`${broken}\n`));
    expect(stray).toEqual([]);
    expect(corrupt.map((entry) => entry.line)).toEqual([broken]);
  });

  it('takes megabytes of stray output within a second for corruption, and a steady log for a log', async () => {
    const { received, stray, corrupt, clock, feed } = await open();
    const logLine = `log ${'x'.repeat(1019)}`; // 1 KiB with its newline
    const perSecond = Math.floor(STRAY_BYTES_PER_SECOND / 1024);
    // Just under the limit in each of three seconds: every line is a log line.
    for (let second = 0; second < 3; second++) {
      await feed(Buffer.from(`${logLine}\n`.repeat(perSecond)));
      clock.now += 1000;
    }
    expect(stray).toHaveLength(3 * perSecond);
    expect(corrupt).toEqual([]);
    // One line more within a second passes it.
    await feed(Buffer.from(`${logLine}\n`.repeat(perSecond + 1) + `${JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} })}\n`));
    expect(corrupt).toEqual([
      {
        reason: `wrote 2.0 MiB of output that is not JSON-RPC to stdout within a second (${perSecond + 1} lines), more than the 2 MiB a server may log there`,
        line: logLine,
      },
    ]);
    expect(stray).toHaveLength(4 * perSecond);
    expect(received).toEqual([]);
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

  it('sends the messages of one turn in one write', async () => {
    const writes: string[][] = [];
    const stdin = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        writes.push([chunk.toString('utf8')]);
        callback();
      },
      writev(chunks, callback) {
        writes.push(chunks.map(({ chunk }) => (chunk as Buffer).toString('utf8')));
        callback();
      },
    });
    const transport = new StreamTransport(new PassThrough(), stdin, { onStray: () => undefined, onCorrupt: () => undefined });
    await transport.start();
    await Promise.all([transport.send({ jsonrpc: '2.0', id: 1, method: 'a' }), transport.send({ jsonrpc: '2.0', id: 2, method: 'b' })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual([['{"jsonrpc":"2.0","id":1,"method":"a"}\n', '{"jsonrpc":"2.0","id":2,"method":"b"}\n']]);
    await transport.send({ jsonrpc: '2.0', id: 3, method: 'c' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
    // A later turn is gathered again.
    await Promise.all([transport.send({ jsonrpc: '2.0', id: 4, method: 'd' }), transport.send({ jsonrpc: '2.0', id: 5, method: 'e' })]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(3);
    expect(writes[2]).toHaveLength(2);
  });

  it('waits for the child to read what it cannot take at once', async () => {
    const stdout = new PassThrough();
    const stdin = new PassThrough({ highWaterMark: 16 });
    const transport = new StreamTransport(stdout, stdin, { onStray: () => undefined, onCorrupt: () => undefined });
    await transport.start();
    let sent = false;
    const sending = transport.send({ jsonrpc: '2.0', id: 1, method: 'a-method-name-longer-than-sixteen-bytes' }).then(() => (sent = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(false);
    stdin.read();
    await sending;
    expect(sent).toBe(true);
  });

  it('closes once when the child’s stdout ends, and refuses to send from then on', async () => {
    const { transport, feed } = await open();
    let closes = 0;
    transport.onclose = () => closes++;
    await transport.start(); // again: nothing more is wired
    await feed(Buffer.from('{"jsonrpc":"2.0","id":1,"result":{}}'));
    (transport as unknown as { input: PassThrough }).input.end();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toBe(1);
    await transport.close();
    expect(closes).toBe(1);
    await expect(transport.send({ jsonrpc: '2.0', id: 2, method: 'ping' })).rejects.toThrow('the server process is not running');
  });

  it('refuses to send to a stdin that is gone', async () => {
    const { transport, stdin } = await open();
    stdin.destroy();
    await expect(transport.send({ jsonrpc: '2.0', id: 1, method: 'ping' })).rejects.toThrow('the server process is not running');
  });

  it('takes a message or a stream error that comes while no one listens without throwing', async () => {
    // As between a refused initialize and the stateless connection that takes the stream over.
    const { transport, stdin, feed } = await open();
    transport.onmessage = undefined;
    await feed(line({ jsonrpc: '2.0', id: 1, result: {} }));
    expect(() => stdin.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }))).not.toThrow();
  });

  it('passes on stream errors, except a broken pipe after the child died', async () => {
    const { transport, stdin } = await open();
    const errors: string[] = [];
    transport.onerror = (error) => errors.push(error.message);
    stdin.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    stdin.emit('error', Object.assign(new Error('write EIO'), { code: 'EIO' }));
    expect(errors).toEqual(['write EIO']);
  });
});
