#!/usr/bin/env node
// The HTTP floor: a do-nothing Streamable HTTP MCP endpoint on node:http that answers initialize,
// tools/list and tools/call itself with JSON responses and a session id header. What a gateway costs
// beyond this is its own overhead. TOOL_COUNT (default 1) sets the size of tools/list; `echo` is
// always the first tool. Prints {"url": ...} on stdout once listening on 127.0.0.1 (PORT, default 0).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

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

const server = createServer((req, res) => {
  if (req.method === 'DELETE') {
    sessions.delete(req.headers['mcp-session-id']);
    return void res.writeHead(200).end();
  }
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    if (message.id === undefined) return void res.writeHead(202).end();
    const headers = { 'content-type': 'application/json' };
    if (message.method === 'initialize') {
      const id = randomUUID();
      sessions.add(id);
      headers['mcp-session-id'] = id;
    } else if (!sessions.has(req.headers['mcp-session-id'])) {
      return void res.writeHead(404, headers).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32001, message: 'Session not found' } }));
    }
    const value = result(message.method, message.params);
    const body = value === undefined
      ? { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } }
      : { jsonrpc: '2.0', id: message.id, result: value };
    res.writeHead(200, headers).end(JSON.stringify(body));
  });
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
process.on("SIGTERM", () => process.exit(0));
