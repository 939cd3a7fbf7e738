import { describe, expect, it } from 'vitest';
import { coalesceEventStream } from './coalesce.js';

const encoder = new TextEncoder();
const sse = (stream: ReadableStream<Uint8Array>): Response =>
  new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' } });

describe('coalesceEventStream', () => {
  it('sends a stream that is already complete as one body, keeping status and headers', async () => {
    const response = await coalesceEventStream(
      sse(
        new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('event: message\n'));
            controller.enqueue(encoder.encode('data: {"id":1}\n\n'));
            controller.close();
          },
        }),
      ),
    );
    expect(response.headers.get('mcp-session-id')).toBe('s1');
    // A body built from bytes, not a stream: node-server writes it in one go.
    expect(await response.text()).toBe('event: message\ndata: {"id":1}\n\n');
  });

  it('keeps streaming when later events are not ready yet, losing nothing', async () => {
    let push!: (text: string | null) => void;
    const response = await coalesceEventStream(
      sse(
        new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('event: message\ndata: progress\n\n'));
            push = (text) => (text === null ? controller.close() : controller.enqueue(encoder.encode(text)));
          },
        }),
      ),
    );
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('progress');
    setTimeout(() => {
      push('event: message\ndata: result\n\n');
      push(null);
    }, 20);
    const second = await reader.read();
    expect(new TextDecoder().decode(second.value)).toContain('result');
    expect((await reader.read()).done).toBe(true);
  });

  it('leaves other responses alone', async () => {
    const json = Response.json({ ok: true });
    expect(await coalesceEventStream(json)).toBe(json);
  });
});
