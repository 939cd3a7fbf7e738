import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { hostAllowlist } from './host.js';
import { isAllowedOrigin, originGuard } from './origin.js';

const hosts = hostAllowlist({ allowedHosts: ['mcp.example.com'], host: '127.0.0.1' });
const PORT = 8000;

describe('isAllowedOrigin', () => {
  it("allows the daemon's own origins: its names, http or https, on its own port", () => {
    expect(isAllowedOrigin('http://localhost:8000', [], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('https://127.0.0.1:8000', [], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('http://[::1]:8000', [], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('http://mcp.example.com:8000', [], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('http://localhost', [], hosts, 80)).toBe(true);
  });

  it('refuses pages on other local ports, which are other sites', () => {
    expect(isAllowedOrigin('http://localhost:6274', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('http://127.0.0.1:3000', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('http://localhost', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('https://mcp.example.com', [], hosts, PORT)).toBe(false);
  });

  it('allows configured origins, on any port', () => {
    expect(isAllowedOrigin('https://app.example.com', ['https://app.example.com'], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('http://localhost:6274', ['http://localhost:6274'], hosts, PORT)).toBe(true);
    expect(isAllowedOrigin('http://localhost:6274', ['*'], hosts, undefined)).toBe(true);
  });

  it('refuses other sites, look-alikes and junk', () => {
    expect(isAllowedOrigin('https://evil.example:8000', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('http://localhost.evil.example:8000', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('null', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('file://localhost', [], hosts, PORT)).toBe(false);
    expect(isAllowedOrigin('http://localhost:8000', [], hosts, undefined)).toBe(false);
  });

  it('never takes "*" in allowedHosts for an origin', () => {
    const open = hostAllowlist({ allowedHosts: ['*'], host: '0.0.0.0' });
    expect(isAllowedOrigin('http://evil.example:8000', [], open, PORT)).toBe(false);
    expect(isAllowedOrigin('http://localhost:8000', [], open, PORT)).toBe(true);
  });
});

describe('originGuard', () => {
  const app = new Hono().use(originGuard([], hosts)).post('/mcp', (c) => c.text('ok'));
  // What @hono/node-server passes as the env: the socket, whose localPort is the daemon's port.
  const env = { incoming: { socket: { localPort: PORT } } };

  it('answers 403 with a JSON-RPC error naming the origin and the fix', async () => {
    const res = await app.request('/mcp', { method: 'POST', headers: { origin: 'http://localhost:6274' } }, env);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('http://localhost:6274');
    expect(body.error.message).toContain('--allow-origin');
  });

  it('refuses what a browser marks as from another site but sends without Origin (an <img> or <script> GET)', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await app.request('/mcp', { method: 'POST', headers: { 'sec-fetch-site': site } }, env);
      expect(res.status, site).toBe(403);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain(`Sec-Fetch-Site: ${site}`);
    }
    for (const site of ['same-origin', 'none']) {
      expect((await app.request('/mcp', { method: 'POST', headers: { 'sec-fetch-site': site } }, env)).status, site).toBe(200);
    }
    const allowed = new Hono().use(originGuard(['https://app.example.com'], hosts)).post('/mcp', (c) => c.text('ok'));
    const headers = { 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' };
    expect((await allowed.request('/mcp', { method: 'POST', headers }, env)).status).toBe(200);
  });

  it("lets the daemon's own origin through, and requests without Origin", async () => {
    expect((await app.request('/mcp', { method: 'POST', headers: { origin: 'http://localhost:8000' } }, env)).status).toBe(200);
    expect((await app.request('/mcp', { method: 'POST' }, env)).status).toBe(200);
  });
});
