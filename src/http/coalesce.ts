/**
 * A Streamable HTTP POST is answered with an SSE stream that, for most calls, carries one event
 * and ends at once. Streaming it costs a write for the headers, one per chunk and one for the end;
 * a body known in full goes out in a single write. So the first event is awaited (the client has
 * nothing to read before it anyway), then the stream is read for as long as chunks are already
 * there, up to COALESCE_MAX_BYTES: if it ends, the response is sent whole; otherwise (progress, a
 * sampling request, a flood of events) what was read goes first and the rest keeps streaming, read
 * only as fast as the client reads, so that the event stream's own bound on unread bytes holds.
 */
/** How much is read ahead before the rest streams at the client's pace. */
export const COALESCE_MAX_BYTES = 256 * 1024;

export async function coalesceEventStream(response: Response): Promise<Response> {
  // The content type first: reading `body` turns a JSON answer built from a string into a stream.
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  const body = response.body;
  if (!body) return response;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  // A read that lost the race is still owed its chunk: the streaming part must start with it.
  let pending: ReturnType<typeof reader.read> | undefined;
  for (let first = true; first || bytes < COALESCE_MAX_BYTES; first = false) {
    pending = reader.read();
    const next = first ? await pending : await Promise.race([pending, nextTurn()]);
    if (next === undefined) break; // nothing more ready now: keep streaming
    pending = undefined;
    if (next.done) return new Response(concat(chunks), { status: response.status, headers: response.headers });
    chunks.push(next.value);
    bytes += next.value.byteLength;
  }
  const rest = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
    },
    async pull(controller) {
      const read = pending ?? reader.read();
      pending = undefined;
      const { done, value } = await read;
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(rest, { status: response.status, headers: response.headers });
}

/** Resolves after pending I/O callbacks and microtasks: what the stream has by then is "ready now". */
function nextTurn(): Promise<undefined> {
  return new Promise((resolve) => setImmediate(resolve, undefined));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
