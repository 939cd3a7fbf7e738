/**
 * Opening one connection (openConnection) against real servers: a command that cannot run, a stdio
 * server that writes lines that are no messages, and SDK servers in this process over HTTP (legacy
 * SSE behind a header check, Streamable HTTP that forgets its sessions as a restarted server would).
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { configSchema, type ServerConfig } from '../config/schema.js';
import { isOrchError } from '../errors.js';
import { createLogger } from '../log.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { createLogBuffer } from '../supervisor/logBuffer.js';
import { ChannelUndeliveredError } from './channel.js';
import { describeExit, type Connection, type ConnectionDeps } from './connection.js';
import { openConnection } from './open.js';

interface LogEntry {
  level: number;
  msg?: string;
  stdout?: string;
}

/**
 * Calls echo on a stdio connection; its answer goes to the request channel alone (the SDK's client
 * reports no message it did not ask for). Then the child is killed: the connection is lost.
 */
async function echoesThenIsLost(connection: Connection, text: string, logged: LogEntry[], closed: string[]): Promise<void> {
  const answer = await connection.request('tools/call', { name: 'echo', arguments: { text } }, { timeoutMs: 5000 });
  expect(textOf(answer)).toBe(text);
  expect(logged.filter((entry) => entry.msg === 'client transport error')).toEqual([]);
  process.kill(connection.child!.pid!, 'SIGKILL');
  await expect.poll(() => closed).toEqual(['connection closed']);
}

/** Deps for one `mcpServers` entry, with a logger whose JSON lines the test reads and the reasons it was told of. */
function depsFor(name: string, entry: object): { deps: ConnectionDeps; logged: LogEntry[]; closed: string[] } {
  const logged: LogEntry[] = [];
  const closed: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logged.push(JSON.parse(line) as LogEntry);
      done();
    },
  });
  const config = configSchema.parse({ mcpServers: { [name]: entry } }).mcpServers[name] as ServerConfig;
  const deps: ConnectionDeps = {
    name,
    config,
    logger: createLogger({ level: 'debug', destination, pretty: false }),
    spawnChild,
    clientInfo: { name: 'mcp-orch', version: '0.0.0-test' },
    stopGraceMs: 2000,
    logs: createLogBuffer(100),
    timeoutMs: 10_000,
    capabilities: {},
    roots: undefined,
    onServerRequest: () => Promise.reject(new Error(`${name} sends no requests in this test`)),
    onNotification: () => undefined,
    onClosed: (reason) => closed.push(reason),
    onExit: () => undefined,
    onCorrupt: () => undefined,
  };
  return { deps, logged, closed };
}

const opened = (deps: ConnectionDeps) => openConnection(deps, new AbortController().signal);

/** A stdio server entry running `body` in Node, with `rl` reading its stdin by line and `send` writing a message; it exits when stdin closes. */
const scripted = (body: string) => ({
  command: process.execPath,
  args: [
    '-e',
    `const rl = require('node:readline').createInterface({ input: process.stdin });` +
      ` const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n'); rl.on('close', () => process.exit(0)); ${body}`,
  ],
});
const textOf = (result: unknown): string => (result as { content: { text: string }[] }).content[0]!.text;

function echoServer(): McpServer {
  const server = new McpServer({ name: 'in-process', version: '1.0.0' });
  server.registerTool('hello', {}, () => ({ content: [{ type: 'text' as const, text: 'hello' }] }));
  return server;
}

async function listen(http: Server): Promise<string> {
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

describe('a stdio server', () => {
  it('whose command cannot run is a config error naming the field and the fix', async () => {
    const { deps } = depsFor('ghost', { command: '/nonexistent/mcp-orch-no-such-command' });
    const error = await opened(deps).then(
      () => expect.unreachable('a command that does not exist started'),
      (thrown: unknown) => (thrown as Error).cause,
    );
    expect(isOrchError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/^mcpServers\.ghost\.command: /);
    expect(isOrchError(error) && error.hint).toBe('install it or fix "command" (a full path works), then `mcp-orch start ghost`');
  });

  it('that writes stray lines to stdout: the first is a warning naming it, the rest are logged at debug', async () => {
    const { deps, logged } = depsFor('noisy', fixtureServer('noisy'));
    const connection = await opened(deps);
    try {
      // noisy.mjs prints a banner and a JSON log line before its first message.
      await expect.poll(() => deps.logs.stdoutLines).toBeGreaterThanOrEqual(2);
      const strays = logged.filter((entry) => entry.stdout !== undefined);
      expect(strays.filter((entry) => entry.level === 40)).toEqual([
        expect.objectContaining({ stdout: 'Starting noisy server...', msg: expect.stringMatching(/not JSON-RPC/) }),
      ]);
      expect(strays.filter((entry) => entry.level === 20).map((entry) => entry.stdout)).toEqual([
        JSON.stringify({ level: 30, time: 0, msg: 'noisy server ready' }),
      ]);
    } finally {
      await connection.close();
    }
  });
  it('of both eras is initialized on the stream it was probed on, and is lost when that stream closes', async () => {
    const { deps, closed, logged } = depsFor('dual', fixtureServer('modern-only', { MODERN_DUAL: '1' }));
    const connection = await opened(deps);
    try {
      expect(connection.era).toBe('2026-07-28');
      expect(connection.transportKind).toBe('stdio');
      expect(connection.modernOnly).toBe(false);
      expect(connection.serverInfo).toEqual({ name: 'modern-only', version: '1.0.0' });
      // Without the envelope: the session initialize opened carries it.
      await echoesThenIsLost(connection, 'in session', logged, closed);
    } finally {
      await connection.close();
    }
  });

  it('of both eras: closing the connection ends what its own client still waits for', async () => {
    const { deps } = depsFor('dual', fixtureServer('modern-only', { MODERN_DUAL: '1' }));
    const connection = await opened(deps);
    const pending = connection.client.request(
      { method: 'tools/call', params: { name: 'slow', arguments: { steps: 1, ms: 60_000 } } },
      CallToolResultSchema,
    );
    const ended = expect(pending).rejects.toThrow(/connection closed/i);
    await connection.close();
    await ended;
  });

  it('of the 2026-07-28 era only is spoken to on the stream initialize was refused on, and is lost when it closes', async () => {
    const { deps, closed, logged } = depsFor('modern', fixtureServer('modern-only'));
    const connection = await opened(deps);
    try {
      expect(connection.modernOnly).toBe(true);
      // The client that tried initialize let go of the stream: it hears nothing more.
      await echoesThenIsLost(connection, 'enveloped', logged, closed);
    } finally {
      await connection.close();
    }
  });

  it('that breaks a message while it is being opened says so, though the attempt fails', async () => {
    const { deps } = depsFor(
      'broken',
      scripted(`process.stdout.write('{"jsonrpc":"2.0","id":1,"result":{"cut\\n', () => process.exit(0));`),
    );
    const corrupt: string[] = [];
    deps.onCorrupt = (reason) => corrupt.push(reason);
    await expect(opened(deps)).rejects.toThrow();
    expect(corrupt).toEqual([expect.stringMatching(/^wrote a line to stdout that breaks off inside a JSON-RPC message/)]);
  });

  it('that breaks a message after the attempt was given up is not reported: the line is only kept in the log', async () => {
    const { deps } = depsFor(
      'gone',
      scripted(
        `rl.on('line', (line) => { const m = JSON.parse(line);` +
          ` if (m.method === 'server/discover') send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no' } });` +
          ` if (m.method === 'initialize') process.stdout.write('starting\\n{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"result":{"cut\\n'); });`,
      ),
    );
    const corrupt: string[] = [];
    deps.onCorrupt = (reason) => corrupt.push(reason);
    // Given up on the line the server writes just before its broken answer to initialize, in the same chunk.
    const abort = new AbortController();
    const pushStdout = deps.logs.pushStdout.bind(deps.logs);
    deps.logs.pushStdout = (line) => {
      pushStdout(line);
      if (line === 'starting') abort.abort(new Error('given up'));
    };
    await expect(openConnection(deps, abort.signal)).rejects.toThrow();
    expect(deps.logs.stdoutLines).toBe(2);
    expect(corrupt).toEqual([]);
  });

  it('that answers initialize after the attempt was given up is closed as it arrives, and reports nothing', async () => {
    const answer = { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'late', version: '1.0.0' } };
    const { deps, closed } = depsFor(
      'late',
      scripted(
        `rl.on('line', (line) => { const m = JSON.parse(line);` +
          ` if (m.method === 'server/discover') send({ jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'no' } });` +
          ` if (m.method === 'initialize') process.stdout.write('answering\\n' + JSON.stringify({ jsonrpc: '2.0', id: m.id, result: ${JSON.stringify(answer)} }) + '\\n'); });`,
      ),
    );
    // The attempt is given up as the line before the answer is read, in the same chunk as the answer.
    const abort = new AbortController();
    const pushStdout = deps.logs.pushStdout.bind(deps.logs);
    deps.logs.pushStdout = (line) => {
      pushStdout(line);
      if (line === 'answering') abort.abort(new Error('given up'));
    };
    const error = await openConnection(deps, abort.signal).then(
      () => expect.unreachable('an attempt given up succeeded'),
      (thrown: unknown) => thrown as Error,
    );
    expect((error.cause as Error).message).toBe('given up');
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toEqual([]);
  });
});

describe('the health check of a server of the initialize era', () => {
  it('is a ping, given up after the time it is allowed', async () => {
    const { deps } = depsFor('stuck', fixtureServer('no-ping', { PING_OK: '1' }));
    const connection = await opened(deps);
    try {
      await connection.ping(5000);
      // The second ping goes unanswered: it fails in its own time, not the SDK's default minute.
      await expect(connection.ping(200)).rejects.toThrow(/timed out/i);
    } finally {
      await connection.close();
    }
  });

  it('tells how a child ended', () => {
    expect(describeExit({ code: null, signal: 'SIGKILL' })).toBe('was killed by SIGKILL');
    expect(describeExit({ code: 3, signal: null })).toBe('exited with code 3');
  });
});

describe('a legacy SSE server', () => {
  let http: Server;
  let url: string;
  const streams = new Map<string, SSEServerTransport>();
  const refused: string[] = [];
  const accepted: (string | undefined)[] = [];

  beforeAll(async () => {
    // Every request must carry the configured header, the event stream's GET as much as each POST.
    http = createServer((req, res) => {
      const path = new URL(req.url!, 'http://localhost').pathname;
      if (req.method === 'GET') accepted.push(req.headers.accept);
      if (req.headers['x-token'] !== 'secret') {
        refused.push(`${req.method!} ${path}`);
        res.writeHead(401).end();
        return;
      }
      if (req.method === 'GET' && path === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        streams.set(transport.sessionId, transport);
        void echoServer().connect(transport);
        return;
      }
      const transport = streams.get(new URL(req.url!, 'http://localhost').searchParams.get('sessionId') ?? '');
      if (req.method === 'POST' && path === '/messages' && transport) void transport.handlePostMessage(req, res);
      else res.writeHead(404).end();
    });
    url = `${await listen(http)}/sse`;
  });
  afterAll(async () => {
    http.closeAllConnections();
    http.close();
    await once(http, 'close');
  });

  it('is sent the configured headers on its stream and its messages, and is lost when the stream breaks', async () => {
    const { deps, closed } = depsFor('legacy', { type: 'sse', url, headers: { 'x-token': 'secret' } });
    const connection = await opened(deps);
    try {
      expect(connection.transportKind).toBe('sse');
      expect(textOf(await connection.request('tools/call', { name: 'hello', arguments: {} }, { timeoutMs: 5000 }))).toBe('hello');
      expect(refused).toEqual([]);
      expect(accepted).toEqual(['text/event-stream']);
      // The server ends the event stream: the SDK would reconnect into a new, uninitialized session.
      await Promise.all([...streams.values()].map((transport) => transport.close()));
      await expect.poll(() => closed).toEqual([expect.stringMatching(/^the SSE stream broke \(/)]);
    } finally {
      await connection.close();
    }
  });
});

describe('a Streamable HTTP server with sessions', () => {
  let http: Server;
  let url: string;
  let forgotten = false;
  let streamRefused = false;
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  /** The sessions whose event stream (the GET) the server has taken. */
  const streaming = new Set<string>();

  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.headers['x-token'] !== 'secret') {
        res.writeHead(401).end();
        return;
      }
      const id = req.headers['mcp-session-id'];
      if (req.method === 'GET' && streamRefused) {
        res.writeHead(500).end();
        return;
      }
      if (typeof id === 'string') {
        // A restarted server knows no session from before: the spec's 404.
        const transport = forgotten ? undefined : sessions.get(id);
        if (transport && req.method === 'GET') streaming.add(id);
        if (transport) void transport.handleRequest(req, res);
        else res.writeHead(404).end();
        return;
      }
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
      });
      void echoServer()
        .connect(transport)
        .then(() => transport.handleRequest(req, res));
    });
    url = `${await listen(http)}/mcp`;
  });
  // Each test starts with a server that remembers its sessions.
  afterEach(() => {
    forgotten = false;
  });
  afterAll(async () => {
    await Promise.all([...sessions.values()].map((transport) => transport.close()));
    http.closeAllConnections();
    http.close();
    await once(http, 'close');
  });

  it('is found by auto-detection, sent the configured headers', async () => {
    const { deps } = depsFor('detected', { url, headers: { 'x-token': 'secret' } });
    const connection = await opened(deps);
    try {
      expect(connection.transportKind).toBe('streamable-http');
      expect(connection.era).toBe('2025-11-25');
      expect(textOf(await connection.request('tools/call', { name: 'hello', arguments: {} }, { timeoutMs: 5000 }))).toBe('hello');
    } finally {
      await connection.close();
    }
  });

  it('that refuses the stream for its own messages is kept: that is no lost session', async () => {
    streamRefused = true;
    const { deps, closed, logged } = depsFor('streamless', { type: 'streamable-http', url, headers: { 'x-token': 'secret' } });
    const connection = await opened(deps);
    try {
      await expect.poll(() => logged.filter((entry) => entry.msg === 'client transport error').length).toBeGreaterThan(0);
      expect(closed).toEqual([]);
      expect(textOf(await connection.request('tools/call', { name: 'hello', arguments: {} }, { timeoutMs: 5000 }))).toBe('hello');
    } finally {
      streamRefused = false;
      await connection.close();
    }
  });

  it('that no longer knows the session is lost with the reason, and its request fails as never delivered', async () => {
    const { deps, closed } = depsFor('forgetful', { type: 'streamable-http', url, headers: { 'x-token': 'secret' } });
    const connection = await opened(deps);
    try {
      expect(connection.transportKind).toBe('streamable-http');
      expect(textOf(await connection.request('tools/call', { name: 'hello', arguments: {} }, { timeoutMs: 5000 }))).toBe('hello');
      expect(closed).toEqual([]);
      forgotten = true;
      // The request refused with the session never reached the server: it may be sent again, on a new connection.
      const refused = connection.request('tools/call', { name: 'hello', arguments: {} }, { timeoutMs: 5000 });
      await expect(refused).rejects.toBeInstanceOf(ChannelUndeliveredError);
      await expect(refused).rejects.toThrow('the server no longer knows the session (HTTP 404; it may have restarted)');
      expect(closed).toEqual(['the server no longer knows the session (HTTP 404; it may have restarted)']);
    } finally {
      await connection.close();
    }
  });

  it('that no longer knows the session when the event stream comes back is lost with the reason', async () => {
    const { deps, closed } = depsFor('streamed', { type: 'streamable-http', url, headers: { 'x-token': 'secret' } });
    const connection = await opened(deps);
    try {
      const before = new Set(streaming);
      await expect.poll(() => [...streaming].filter((id) => !before.has(id))).toHaveLength(1);
      const session = [...streaming].find((id) => !before.has(id))!;
      forgotten = true;
      // The server ends the event stream; the client asks for it again (a GET, no body) and meets the 404.
      sessions.get(session)!.closeStandaloneSSEStream();
      await expect
        .poll(() => closed, { timeout: 5000 })
        .toEqual(['the server no longer knows the session (HTTP 404; it may have restarted)']);
    } finally {
      await connection.close();
    }
  });

  it('that forgets the session while it is being opened fails the attempt with its answer', async () => {
    forgotten = true;
    const { deps, closed } = depsFor('amnesiac', { type: 'streamable-http', url, headers: { 'x-token': 'secret' } });
    const error = await opened(deps).then(
      () => expect.unreachable('a session the server forgot was opened'),
      (thrown: unknown) => thrown as Error,
    );
    // The SDK's error for the refused notifications/initialized, with the status the server gave.
    expect(error.cause).toMatchObject({ code: 404 });
    expect(closed).toEqual([]);
  });
});
