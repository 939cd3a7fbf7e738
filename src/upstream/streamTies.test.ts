import { describe, expect, it } from 'vitest';
import { StreamTies } from './streamTies.js';

/** A channel request's POST body as the request channel serialises it. */
const post = (id: string): RequestInit => ({
  method: 'POST',
  body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: {} }),
});
const event = (message: object): string => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

/** StreamTies over a server that answers every POST with `body` as `contentType`, in chunks of 7 bytes. */
function tiesAnswering(body: string, contentType = 'text/event-stream', status = 200): StreamTies {
  return new StreamTies(() => {
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 7) controller.enqueue(bytes.subarray(i, i + 7));
        controller.close();
      },
    });
    return Promise.resolve(new Response(stream, { status, statusText: 'Fine', headers: { 'content-type': contentType, 'x-own': 'kept' } }));
  });
}

describe('StreamTies', () => {
  it('notes the server requests on a POST’s event stream against the channel request it carried, each once', async () => {
    const body =
      event({ jsonrpc: '2.0', id: 7, method: 'sampling/createMessage', params: {} }) +
      event({ jsonrpc: '2.0', id: 'e1', method: 'elicitation/create', params: {} }) +
      event({ jsonrpc: '2.0', id: 'o3', result: {} });
    const ties = tiesAnswering(body);
    const response = await ties.fetch('http://127.0.0.1/mcp', post('o3'));
    // The body reaches the SDK unchanged, with the server's status and headers.
    expect(response.status).toBe(200);
    expect(response.statusText).toBe('Fine');
    expect(response.headers.get('x-own')).toBe('kept');
    expect(await response.text()).toBe(body);
    expect(ties.take(7)).toBe('o3');
    expect(ties.take(7)).toBeUndefined();
    expect(ties.take('e1')).toBe('o3');
    expect(ties.take('o3')).toBeUndefined();
  });

  it('reads nothing of a JSON answer, of a POST that is no channel request, or of what is no server request', async () => {
    const request = event({ jsonrpc: '2.0', id: 1, method: 'sampling/createMessage' });
    const json = tiesAnswering(request, 'application/json');
    await (await json.fetch('http://127.0.0.1/mcp', post('o1'))).text();
    expect(json.take(1)).toBeUndefined();

    const sdkOwn = tiesAnswering(request);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: {} });
    await (await sdkOwn.fetch('http://127.0.0.1/mcp', { method: 'POST', body })).text();
    await (await sdkOwn.fetch('http://127.0.0.1/mcp', { method: 'POST', body: `x${post('o1').body as string}` })).text();
    await (await sdkOwn.fetch('http://127.0.0.1/mcp', { method: 'GET' })).text();
    expect(sdkOwn.take(1)).toBeUndefined();

    const others = tiesAnswering(
      event({ jsonrpc: '2.0', method: 'notifications/progress', params: {} }) +
        event({ jsonrpc: '2.0', id: 2, result: { note: '"method"' } }) +
        event({ jsonrpc: '2.0', id: 3, method: 42 }) +
        event({ jsonrpc: '2.0', id: { no: 1 }, method: 'x' }) +
        'data: {"method": broken\n\n' +
        event({ jsonrpc: '2.0', id: 4, method: 'ping', params: { pad: 'x'.repeat(64 * 1024) } }),
    );
    await (await others.fetch('http://127.0.0.1/mcp', post('o5'))).text();
    for (const id of [2, 3, 4]) expect(others.take(id)).toBeUndefined();
  });

  it('keeps at most 1000 ties, forgetting the oldest first', async () => {
    const body = Array.from({ length: 1001 }, (_, i) => event({ jsonrpc: '2.0', id: i, method: 'ping' })).join('');
    const ties = tiesAnswering(body);
    await (await ties.fetch('http://127.0.0.1/mcp', post('o9'))).text();
    expect(ties.take(0)).toBeUndefined();
    expect(ties.take(1)).toBe('o9');
    expect(ties.take(1000)).toBe('o9');
  });

  it('reads an event stream whose type has parameters, and keeps a character cut between two reads whole', async () => {
    const bytes = new TextEncoder().encode(event({ jsonrpc: '2.0', id: 'é', method: 'elicitation/create' }));
    const cut = bytes.indexOf(0xc3) + 1;
    const ties = new StreamTies(() =>
      Promise.resolve(
        new Response(
          new ReadableStream<Uint8Array>({
            start(controller) {
              controller.enqueue(bytes.subarray(0, cut));
              controller.enqueue(bytes.subarray(cut));
              controller.close();
            },
          }),
          { headers: { 'content-type': 'text/event-stream; charset=utf-8' } },
        ),
      ),
    );
    await (await ties.fetch('http://127.0.0.1/mcp', post('o4'))).text();
    expect(ties.take('é')).toBe('o4');
  });

  it('passes on an answer without a body, and a fetch without options', async () => {
    const ties = new StreamTies(() =>
      Promise.resolve(new Response(null, { status: 202, headers: { 'content-type': 'text/event-stream' } })),
    );
    expect((await ties.fetch('http://127.0.0.1/mcp', post('o1'))).status).toBe(202);
    expect((await ties.fetch('http://127.0.0.1/mcp')).status).toBe(202);
  });

  it('parses a server request of up to 64 KiB', async () => {
    const message = { jsonrpc: '2.0', id: 8, method: 'sampling/createMessage', params: { pad: '' } };
    message.params.pad = 'p'.repeat(64 * 1024 - JSON.stringify(message).length);
    expect(JSON.stringify(message)).toHaveLength(64 * 1024);
    const ties = tiesAnswering(event(message));
    await (await ties.fetch('http://127.0.0.1/mcp', post('o8'))).text();
    expect(ties.take(8)).toBe('o8');
  });

  it('spends none of its room on streams of no channel request, or on notifications', async () => {
    const requests = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => event({ jsonrpc: '2.0', id: from + i, method: 'ping' })).join('');
    const ties = new StreamTies((_url, init) => {
      const body = (init?.body as string).includes('"o1"')
        ? requests(0, 999) + event({ jsonrpc: '2.0', method: 'notifications/progress', params: {} }) + requests(999, 1)
        : requests(5000, 1000);
      return Promise.resolve(new Response(body, { headers: { 'content-type': 'text/event-stream' } }));
    });
    await (await ties.fetch('http://127.0.0.1/mcp', post('o1'))).text();
    await (await ties.fetch('http://127.0.0.1/mcp', { method: 'POST', body: '{"jsonrpc":"2.0","id":3,"method":"tools/list"}' })).text();
    expect(ties.take(0)).toBe('o1');
    expect(ties.take(999)).toBe('o1');
  });
});
