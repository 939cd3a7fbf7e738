// DNS rebinding against a real daemon: a page whose name now points at 127.0.0.1 sends its own name
// as Host. Every kind of route must refuse it before doing anything (no health, no metrics, no
// session, no admin call even with the token), while the daemon's own names keep working.
import { request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rebound-page', version: '0' } },
};

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with the Host header as given (fetch would not let a test set it); resolves with the whole answer. */
function send(port: number, method: string, path: string, host: string, extra: { body?: unknown; headers?: Record<string, string> } = {}) {
  return new Promise<Answer>((resolve, reject) => {
    const body = extra.body === undefined ? undefined : JSON.stringify(extra.body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          host,
          accept: 'application/json, text/event-stream',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...extra.headers,
        },
      },
      (res) => {
        // An event stream is an open session: its status is the answer; reading on would never end.
        if (res.headers['content-type']?.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
          return;
        }
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('Host allowlist', () => {
  let daemon: DaemonHandle;
  let token: string;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo') } } });
    token = (await readFile(join(daemon.dataDir, 'admin-token'), 'utf8')).trim();
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it('refuses a Host of evil.example on every kind of route, before the route runs', async () => {
    const routes: [string, string, unknown?][] = [
      ['GET', '/health'],
      ['GET', '/metrics'],
      ['GET', '/api/servers'],
      ['POST', '/api/servers/echo/stop'],
      ['POST', '/mcp', INITIALIZE],
      ['GET', '/mcp'],
      ['DELETE', '/mcp'],
      ['GET', '/sse'],
      ['POST', '/messages?sessionId=x', { jsonrpc: '2.0', id: 2, method: 'ping' }],
      ['POST', '/servers/echo/mcp', INITIALIZE],
      ['GET', '/servers/echo/sse'],
      ['POST', '/servers/echo/messages?sessionId=x', { jsonrpc: '2.0', id: 2, method: 'ping' }],
      ['GET', '/no-such-route'],
    ];
    for (const host of ['evil.example', `evil.example:${daemon.port}`]) {
      for (const [method, path, body] of routes) {
        const answer = await send(daemon.port, method, path, host, { body, headers: { authorization: `Bearer ${token}` } });
        const what = `${method} ${path} with Host ${host}`;
        expect(answer.status, what).toBe(403);
        expect(answer.headers['content-type'], what).toMatch(/^application\/json/);
        expect(answer.headers['mcp-session-id'], what).toBeUndefined();
        const error = (JSON.parse(answer.body) as { error: { message: string } }).error;
        expect(error.message, what).toContain('orch.allowedHosts');
      }
    }

    // Nothing was opened or stopped meanwhile.
    const metrics = await send(daemon.port, 'GET', '/metrics', `127.0.0.1:${daemon.port}`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^mcp_orch_sessions_open\{transport="sse"\} 0$/m);
    expect(metrics.body).toMatch(/^mcp_orch_sessions_open\{transport="streamable-http"\} 0$/m);
    const servers = (await (await daemon.api('/api/servers')).json()) as { servers: { name: string; state: string }[] };
    expect(servers.servers.find((s) => s.name === 'echo')?.state).not.toMatch(/^stop/);
  });

  it('answers the loopback names, with and without a port', async () => {
    for (const host of ['localhost', `localhost:${daemon.port}`, `127.0.0.1:${daemon.port}`, `[::1]:${daemon.port}`]) {
      const answer = await send(daemon.port, 'GET', '/health', host);
      expect(answer.status, host).toBe(200);
    }
    const opened = await send(daemon.port, 'POST', '/servers/echo/mcp', `localhost:${daemon.port}`, { body: INITIALIZE });
    expect(opened.status).toBe(200);
    const session = opened.headers['mcp-session-id'] as string;
    expect(session).toBeTruthy();
    const closed = await send(daemon.port, 'DELETE', '/servers/echo/mcp', `localhost:${daemon.port}`, {
      headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(closed.status).toBe(200);
  });

  it('answers a name from orch.allowedHosts once the config lists it', async () => {
    const named = await startDaemon({ config: { mcpServers: {}, orch: { allowedHosts: ['mcp.box.lan'] } } });
    try {
      expect((await send(named.port, 'GET', '/health', `mcp.box.lan:${named.port}`)).status).toBe(200);
      expect((await send(named.port, 'GET', '/health', `other.box.lan:${named.port}`)).status).toBe(403);
    } finally {
      await named.stop();
    }
  });
});

describe('Origin', () => {
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: {} }, args: ['--allow-origin', 'https://app.example.com'] });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  it("accepts the daemon's own origin and --allow-origin, refuses pages on other local ports", async () => {
    const host = `127.0.0.1:${daemon.port}`;
    const status = async (origin: string) => (await send(daemon.port, 'GET', '/health', host, { headers: { origin } })).status;
    expect(await status(`http://127.0.0.1:${daemon.port}`)).toBe(200);
    expect(await status(`https://localhost:${daemon.port}`)).toBe(200);
    expect(await status('https://app.example.com')).toBe(200);
    expect(await status(`http://localhost:${daemon.port === 6274 ? 6275 : 6274}`)).toBe(403);
    expect(await status('https://evil.example')).toBe(403);
  });

  it('opens no SSE session for a tag of another site, which sends no Origin', async () => {
    const host = `127.0.0.1:${daemon.port}`;
    const tag = await send(daemon.port, 'GET', '/sse', host, { headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } });
    expect(tag.status).toBe(403);
    const metrics = await send(daemon.port, 'GET', '/metrics', host);
    expect(metrics.body).toMatch(/^mcp_orch_sessions_open\{transport="sse"\} 0$/m);
  });
});
