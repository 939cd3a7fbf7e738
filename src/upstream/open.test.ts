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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { configSchema, type ServerConfig } from '../config/schema.js';
import { isOrchError } from '../errors.js';
import { createLogger } from '../log.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { createLogBuffer } from '../supervisor/logBuffer.js';
import { ChannelUndeliveredError } from './channel.js';
import { describeExit, type ConnectionDeps } from './connection.js';
import { openConnection } from './open.js';

interface LogEntry {
  level: number;
  msg?: string;
  stdout?: string;
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
    const { deps, closed } = depsFor('dual', fixtureServer('modern-only', { MODERN_DUAL: '1' }));
    const connection = await opened(deps);
    try {
      expect(connection.era).toBe('2026-07-28');
      expect(connection.transportKind).toBe('stdio');
      expect(connection.modernOnly).toBe(false);
      expect(connection.serverInfo).toEqual({ name: 'modern-only', version: '1.0.0' });
      // Without the envelope: the session initialize opened carries it.
      const answer = await connection.request('tools/call', { name: 'echo', arguments: { text: 'in session' } }, { timeoutMs: 5000 });
      expect(textOf(answer)).toBe('in session');
      process.kill(connection.child!.pid!, 'SIGKILL');
      await expect.poll(() => closed).toEqual(['connection closed']);
    } finally {
      await connection.close();
    }
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
  const sessions = new Map<string, StreamableHTTPServerTransport>();

  beforeAll(async () => {
    http = createServer((req, res) => {
      if (req.headers['x-token'] !== 'secret') {
        res.writeHead(401).end();
        return;
      }
      const id = req.headers['mcp-session-id'];
      if (typeof id === 'string') {
        // A restarted server knows no session from before: the spec's 404.
        const transport = forgotten ? undefined : sessions.get(id);
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
});
