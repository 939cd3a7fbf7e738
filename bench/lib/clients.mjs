// SDK clients for each way in: Streamable HTTP, legacy SSE, and direct stdio to the upstream; plus a
// raw-fetch initialize that opens a session at a fraction of a client's cost (for the memory figure).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/**
 * A way in: `{ kind: 'streamable' | 'sse', url }` or `{ kind: 'stdio', command, args, env }`.
 * Returns a connected SDK Client (connect + initialize done).
 */
export async function connect(way) {
  const client = new Client({ name: 'mcp-orch-bench', version: '0.0.0' }, { capabilities: {} });
  await client.connect(transportFor(way));
  return client;
}

function transportFor(way) {
  // `key`: sent as a bearer token, as a client of a daemon with API keys on does.
  const requestInit = way.key ? { headers: { authorization: `Bearer ${way.key}` } } : undefined;
  switch (way.kind) {
    case 'streamable':
      return new StreamableHTTPClientTransport(new URL(way.url), { requestInit });
    case 'sse':
      return new SSEClientTransport(new URL(way.url), { requestInit });
    case 'stdio':
      return new StdioClientTransport({ command: way.command, args: way.args, env: { ...process.env, ...way.env }, stderr: 'ignore' });
    default:
      throw new Error(`unknown way in: ${way.kind}`);
  }
}

/** One tools/call, as the benchmark sends it: { name, arguments } from `call`. */
export function callTool(client, call) {
  return client.callTool({ name: call.name, arguments: call.arguments });
}

let nextId = 1;
/** Opens a session with one initialize POST and no client object; resolves with its session id. */
export async function rawInitialize(url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: nextId++,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-orch-bench-raw', version: '0.0.0' } },
    }),
  });
  await response.text();
  if (!response.ok) throw new Error(`initialize: HTTP ${response.status}`);
  return response.headers.get('mcp-session-id');
}
