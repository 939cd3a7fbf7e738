// Bad input at the HTTP edge and bad upstreams behind it, against a real daemon with raw fetch (and the
// SDK client where a live session is needed): every mistake gets the status and JSON-RPC error the
// error table promises, names what was wrong, and never takes the healthy servers down with it.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const MISSING_COMMAND = 'mcp-orch-test-no-such-command';
const BROKEN_TIMEOUT_SEC = 5;
/** Final states of a server that will not come up (the lifecycle calls it "crashed"). */
const FAILED_STATES = ['failed', 'crashed'];

interface ServerRow {
  name: string;
  state: string;
  pid: number | null;
  error: string | null;
}

interface JsonRpcReply {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

let daemon: DaemonHandle;
const clients: Client[] = [];

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      mcpServers: {
        one: fixtureServer('echo', { FIXTURE_ID: 'one' }),
        two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
        // Restarted by the default policy: clients must still get an answer within its timeout.
        broken: { ...fixtureServer('crash-on-start'), timeout: BROKEN_TIMEOUT_SEC },
        // Not restarted, so that they settle in their final failed state.
        noisy: { ...fixtureServer('garbage'), timeout: BROKEN_TIMEOUT_SEC, restart: 'never' },
        missing: { command: MISSING_COMMAND, args: [], timeout: BROKEN_TIMEOUT_SEC, restart: 'never' },
      },
      orch: { maxBodyBytes: 1024, logLevel: 'debug' },
    },
  });
  await waitFor(
    async () => {
      const rows = await servers();
      return rows.find((s) => s.name === 'one')?.state === 'running' && rows.find((s) => s.name === 'two')?.state === 'running';
    },
    { timeoutMs: 15_000 },
  );
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close().catch(() => undefined)));
  await daemon?.stop();
});

async function servers(): Promise<ServerRow[]> {
  const response = await daemon.api('/api/servers');
  return ((await response.json()) as { servers: ServerRow[] }).servers;
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bad-input-test', version: '0.0.0' } },
};

/** POSTs a raw body; the reply is parsed whether it came as JSON or as an SSE stream of one message. */
async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; reply: JsonRpcReply | undefined }> {
  const response = await fetch(`${daemon.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await readReply(response);
  return { status: response.status, headers: response.headers, reply: text ? (JSON.parse(text) as JsonRpcReply) : undefined };
}

/** The JSON of a response: the body itself, or the first `data:` line of an SSE stream. */
async function readReply(response: Response): Promise<string> {
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return response.text();
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += value;
      const data = buffered.split('\n').find((line) => line.startsWith('data:'));
      if (data && buffered.includes('\n\n')) return data.slice('data:'.length).trim();
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return '';
}

async function closeSession(path: string, sessionId: string | null): Promise<void> {
  if (!sessionId) return;
  await fetch(`${daemon.url}${path}`, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } }).catch(() => undefined);
}

async function connectUnified(): Promise<Client> {
  const client = await connectStreamable(`${daemon.url}/mcp`);
  clients.push(client);
  return client;
}

const textOf = (result: Awaited<ReturnType<Client['callTool']>>) => (result.content as Array<{ type: string; text?: string }>)[0]?.text;

describe('malformed requests', () => {
  it('answers malformed JSON with 400 and a JSON-RPC parse error', async () => {
    const { status, reply } = await post('/mcp', '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(status).toBe(400);
    expect(reply?.error?.code).toBe(-32700);
  });

  it('answers an unknown Mcp-Session-Id with 404', async () => {
    const { status, reply } = await post(
      '/mcp',
      { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} },
      { 'mcp-session-id': 'no-such-session' },
    );
    expect(status).toBe(404);
    expect(reply?.id).toBe(7);
    expect(reply?.error?.message).toContain('no-such-session');
  });

  it('answers a non-initialize request without a session with 400', async () => {
    const { status, reply } = await post('/mcp', { jsonrpc: '2.0', id: 8, method: 'tools/list', params: {} });
    expect(status).toBe(400);
    expect(reply?.error?.message).toMatch(/Mcp-Session-Id/i);
  });

  it('takes a body of exactly orch.maxBodyBytes and refuses one byte more, declared or chunked', async () => {
    /** An initialize request padded to `bytes` bytes of JSON. */
    const sized = (bytes: number): string => {
      const bare = JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, padding: '' } });
      return JSON.stringify({ ...INITIALIZE, params: { ...INITIALIZE.params, padding: 'x'.repeat(bytes - bare.length) } });
    };
    const chunked = (text: string): RequestInit & { duplex: 'half' } => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      // Two pieces and no Content-Length: the limit has to count what arrives.
      body: new ReadableStream({
        start(controller) {
          const bytes = new TextEncoder().encode(text);
          controller.enqueue(bytes.slice(0, 100));
          controller.enqueue(bytes.slice(100));
          controller.close();
        },
      }),
      duplex: 'half',
    });
    expect(sized(1024)).toHaveLength(1024);
    const fits = await post('/mcp', sized(1024));
    expect(fits.status).toBe(200);
    await closeSession('/mcp', fits.headers.get('mcp-session-id'));
    expect((await post('/mcp', sized(1025))).status).toBe(413);

    const fitsChunked = await fetch(`${daemon.url}/mcp`, chunked(sized(1024)));
    expect(fitsChunked.status).toBe(200);
    await fitsChunked.body?.cancel();
    await closeSession('/mcp', fitsChunked.headers.get('mcp-session-id'));
    const overChunked = await fetch(`${daemon.url}/mcp`, chunked(sized(1025)));
    expect(overChunked.status).toBe(413);
    expect(((await overChunked.json()) as JsonRpcReply).error?.message).toContain('1024');
  });

  it('answers a body over orch.maxBodyBytes with 413', async () => {
    const big = { ...INITIALIZE, params: { ...INITIALIZE.params, padding: 'x'.repeat(4096) } };
    const { status, reply } = await post('/mcp', big);
    expect(status).toBe(413);
    expect(reply?.error?.message).toContain('1024');
  });

  it('answers a POST to the SSE messages endpoint with an unknown sessionId with 404', async () => {
    const { status, reply } = await post('/messages?sessionId=no-such-session', { jsonrpc: '2.0', id: 9, method: 'ping' });
    expect(status).toBe(404);
    expect(reply?.error?.message).toContain('no-such-session');
  });
});

describe('origin check', () => {
  it('refuses a foreign Origin with 403', async () => {
    const { status, reply } = await post('/mcp', INITIALIZE, { origin: 'https://evil.example' });
    expect(status).toBe(403);
    expect(reply?.error?.message).toContain('https://evil.example');
  });

  it('refuses a page served on another local port, which is another site', async () => {
    const { status, reply } = await post('/mcp', INITIALIZE, { origin: `http://localhost:${daemon.port === 6274 ? 6275 : 6274}` });
    expect(status).toBe(403);
    expect(reply?.error?.message).toContain('--allow-origin');
  });

  it("accepts the daemon's own origin", async () => {
    const { status, headers, reply } = await post('/mcp', INITIALIZE, { origin: `http://localhost:${daemon.port}` });
    try {
      expect(status).toBe(200);
      expect(reply?.result).toHaveProperty('serverInfo');
      expect(headers.get('mcp-session-id')).toBeTruthy();
    } finally {
      await closeSession('/mcp', headers.get('mcp-session-id'));
    }
  });
});

describe('unknown names', () => {
  it('answers initialize on an unknown server with 404 naming the known servers', async () => {
    const { status, reply } = await post('/servers/nope/mcp', INITIALIZE);
    expect(status).toBe(404);
    expect(reply?.error?.message).toContain('nope');
    for (const name of ['one', 'two', 'broken']) expect(reply?.error?.message).toContain(name);
  });

  it('answers a unified call of an unknown tool with a JSON-RPC error naming the tool', async () => {
    const client = await connectUnified();
    const error = await client.callTool({ name: 'one__nope', arguments: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
    expect((error as McpError).message).toContain('one__nope');
  });
  it('sends the error message on the wire without the SDK\'s "MCP error <code>:" prefix', async () => {
    const init = await post('/mcp', INITIALIZE);
    const sessionId = init.headers.get('mcp-session-id');
    expect(sessionId).toBeTruthy();
    try {
      const headers = { 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-06-18' };
      expect((await post('/mcp', { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status).toBe(202);
      const { reply } = await post(
        '/mcp',
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'one__nope', arguments: {} } },
        headers,
      );
      expect(reply?.error?.code).toBe(-32602);
      expect(reply?.error?.message).toContain('one__nope');
      // The SDK client prefixes "MCP error <code>: " itself; a prefixed wire message shows up doubled.
      expect(reply?.error?.message).not.toMatch(/^MCP error/);
    } finally {
      await closeSession('/mcp', sessionId);
    }
  });
});

describe('failing servers', () => {
  it('explains a server that crashed on start by its exit code, at its timeout; its stderr only to the operator', async () => {
    const { status, reply } = await post('/servers/broken/mcp', INITIALIZE);
    expect(status).toBe(503);
    expect(reply?.error?.message).toContain('broken');
    expect(reply?.error?.message).toMatch(/code 3/);
    // The wait ended at the server's own timeout, which the answer names (a hang fails the test's timeout).
    expect(reply?.error?.message).toContain(`not running after ${BROKEN_TIMEOUT_SEC}s`);
    expect(reply?.error?.message).toContain('mcp-orch logs broken');
    // What a server prints may hold secrets: clients never see it, the admin API does.
    expect(JSON.stringify(reply)).not.toContain('missing API token');
    const broken = (await servers()).find((s) => s.name === 'broken');
    expect(broken?.error).toContain('missing API token');
  });

  it('marks a server that writes only lines that are not JSON-RPC as failed, those lines in its error; the others still answer', async () => {
    const noisy = await waitFor(async () => (await servers()).find((s) => s.name === 'noisy' && FAILED_STATES.includes(s.state)), {
      timeoutMs: BROKEN_TIMEOUT_SEC * 1000 + 2000,
    });
    // Its lines are skipped, kept in its log as stdout: it fails because it never answers initialize.
    expect(noisy.error).toContain(`did not finish initialize within ${BROKEN_TIMEOUT_SEC}s`);
    expect(noisy.error).toContain('[stdout] Listening on nothing at all');
    const client = await connectUnified();
    expect(textOf(await client.callTool({ name: 'one__echo', arguments: { text: 'still here' } }))).toBe('still here');
  });

  it('reports a command that does not exist as "command not found"', async () => {
    const missing = await waitFor(async () => (await servers()).find((s) => s.name === 'missing' && FAILED_STATES.includes(s.state)));
    expect(missing.error).toContain('command not found');
    expect(missing.error).toContain(MISSING_COMMAND);
  });

  it('fails a call promptly, naming the server, when its child dies mid-call; the other server answers', async () => {
    const client = await connectUnified();
    const pid = (await servers()).find((s) => s.name === 'two')?.pid;
    expect(pid).toBeGreaterThan(0);

    let progressed = false;
    const call = client
      // Longer than a test may take, and so is the call's timeout: only the child's death can end it in time.
      .callTool({ name: 'two__slow', arguments: { ms: 120_000, steps: 1200 } }, undefined, {
        timeout: 120_000,
        onprogress: () => {
          progressed = true;
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    // The first progress says the call reached the child and is in flight.
    await waitFor(() => progressed, { timeoutMs: 5000 });

    process.kill(pid!, 'SIGKILL');
    const error = await call;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('"two"');
    expect((error as Error).message).not.toMatch(/timed? ?out/i);

    expect(textOf(await client.callTool({ name: 'one__echo', arguments: { text: 'survivor' } }))).toBe('survivor');
  });
});
