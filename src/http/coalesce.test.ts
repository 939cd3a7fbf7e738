import { describe, expect, it } from 'vitest';
import { COALESCE_MAX_BYTES, coalesceEventStream } from './coalesce.js';

const encoder = new TextEncoder();
const sse = (stream: ReadableStream<Uint8Array>): Response =>
  new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'mcp-session-id': 's1' } });

/** Every chunk a body yields, in order: how many writes the server will make for it. */
async function chunksOf(response: Response): Promise<string[]> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const out: string[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push(decoder.decode(value));
  }
}

/** A stream whose chunks are all there from the start and which then ends. */
function finished(parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
}

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
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toBe('s1');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    // A body built from bytes, not a stream: it yields one chunk, which node-server writes in one go.
    expect(await chunksOf(response)).toEqual(['event: message\ndata: {"id":1}\n\n']);
  });

  it('joins many ready chunks into one, in order', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => `event: message\ndata: {"n":${i}}\n\n`);
    const response = await coalesceEventStream(sse(finished(parts)));
    expect(await chunksOf(response)).toEqual([parts.join('')]);
  });

  it('stops reading ahead at COALESCE_MAX_BYTES and streams the rest, losing nothing', async () => {
    const part = `data: ${'x'.repeat(64 * 1024)}\n\n`;
    const count = Math.ceil((2 * COALESCE_MAX_BYTES) / part.length);
    let pulled = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (pulled === count) return controller.close();
          pulled++;
          controller.enqueue(encoder.encode(part));
        },
      },
      { highWaterMark: 0 },
    );
    const response = await coalesceEventStream(sse(source));
    // Read ahead no further than the bound (plus the one chunk that crossed it).
    expect(pulled * part.length).toBeLessThanOrEqual(COALESCE_MAX_BYTES + part.length);
    const chunks = await chunksOf(response);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('')).toBe(part.repeat(count));
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
