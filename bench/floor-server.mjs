#!/usr/bin/env node
// The floors: the least a Streamable HTTP MCP endpoint on node:http can do, with JSON responses and
// a session id header. What a gateway costs beyond them is its own overhead.
// - HTTP floor (no arguments): answers initialize, tools/list and tools/call itself. TOOL_COUNT
//   (default 1) sets the size of tools/list; `echo` is always the first tool.
// - Relay floor (`node bench/floor-server.mjs COMMAND [ARGS...]`): the cheapest gateway of
//   mcp-orch's shape. Every request goes to one stdio MCP server as a raw JSON line with nothing in
//   between but an id swap (no SDK, routing, validation or metrics); initialize is answered from the
//   child's own initialize result, taken once at start.
// - FLOOR_HTTP=hono serves either on Hono and @hono/node-server, the HTTP layer mcp-orch is built
//   on, instead of node:http: the difference is what that layer costs a call, which no gateway
//   built on it can win back.
// Prints {"url": ...} on stdout once listening on 127.0.0.1 (PORT, default 0).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';

const toolCount = Math.max(1, Number.parseInt(process.env.TOOL_COUNT ?? '1', 10));
const tools = Array.from({ length: toolCount }, (_, i) => ({
  name: i === 0 ? 'echo' : `tool_${i}`,
  description: i === 0 ? 'Returns its text' : `Returns "tool_${i}"`,
  inputSchema: { type: 'object', properties: i === 0 ? { text: { type: 'string' } } : {} },
}));
const sessions = new Set();

function result(method, params) {
  switch (method) {
    case 'initialize':
      return {
        protocolVersion: params?.protocolVersion ?? '2025-06-18',
        capabilities: { tools: {} },
        serverInfo: { name: 'http-floor', version: '1.0.0' },
      };
    case 'tools/list':
      return { tools };
    case 'tools/call':
      return { content: [{ type: 'text', text: String(params?.arguments?.text ?? params?.name) }] };
    case 'ping':
      return {};
    default:
      return undefined;
  }
}

/** The HTTP floor's answer: the result, or method not found. */
function answerItself(message) {
  const value = result(message.method, message.params);
  return value === undefined
    ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } }
    : { jsonrpc: '2.0', id: message.id, result: value };
}

/** The relay floor's answer: the child's response under the client's id (initialize from start-up). */
async function relayer([command, ...args]) {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  process.on('exit', () => child.kill());
  const pending = new Map();
  let nextId = 0;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const relay = (message) => {
    const id = nextId++;
    return new Promise((resolve) => {
      pending.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ ...message, id })}\n`);
    });
  };
  const clientInfo = { name: 'relay-floor', version: '1.0.0' };
  const initialized = await relay({
    jsonrpc: '2.0',
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo },
  });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return async (message) =>
    message.method === 'initialize'
      ? { jsonrpc: '2.0', id: message.id, result: initialized.result }
      : { ...(await relay(message)), id: message.id };
}

const answer = process.argv.length > 2 ? await relayer(process.argv.slice(2)) : answerItself;

/** One POST's answer: status, headers and body, whatever serves the HTTP. */
async function handle(message, sessionId) {
  if (message.id === undefined) return { status: 202, headers: {}, body: null };
  const headers = { 'content-type': 'application/json' };
  if (message.method === 'initialize') {
    const id = randomUUID();
    sessions.add(id);
    headers['mcp-session-id'] = id;
  } else if (!sessions.has(sessionId)) {
    const error = { jsonrpc: '2.0', id: message.id, error: { code: -32001, message: 'Session not found' } };
    return { status: 404, headers, body: JSON.stringify(error) };
  }
  return { status: 200, headers, body: JSON.stringify(await answer(message)) };
}

/** node:http itself. */
function listenBare(port, ready) {
  const server = createServer((req, res) => {
    if (req.method === 'DELETE') {
      sessions.delete(req.headers['mcp-session-id']);
      return void res.writeHead(200).end();
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const { status, headers, body } = await handle(JSON.parse(Buffer.concat(chunks).toString('utf8')), req.headers['mcp-session-id']);
      res.writeHead(status, headers).end(body ?? undefined);
    });
  });
  server.listen(port, '127.0.0.1', () => ready(server.address().port));
}

/** The same endpoint on Hono and @hono/node-server, as mcp-orch serves: what the framework costs. */
async function listenHono(port, ready) {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono();
  app.delete('/mcp', (c) => {
    sessions.delete(c.req.header('mcp-session-id'));
    return c.body(null, 200);
  });
  app.post('/mcp', async (c) => {
    const { status, headers, body } = await handle(JSON.parse(await c.req.text()), c.req.header('mcp-session-id'));
    return c.body(body, status, headers);
  });
  serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => ready(info.port));
}

const port = Number(process.env.PORT ?? 0);
const ready = (bound) => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${bound}` })}\n`);
if (process.env.FLOOR_HTTP === 'hono') await listenHono(port, ready);
else listenBare(port, ready);
process.on('SIGTERM', () => process.exit(0));
