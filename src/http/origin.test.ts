import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { isAllowedOrigin, originGuard } from './origin.js';

describe('isAllowedOrigin', () => {
  it('allows localhost origins on any port and configured ones', () => {
    expect(isAllowedOrigin('http://localhost:6274', [])).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:3000', [])).toBe(true);
    expect(isAllowedOrigin('http://[::1]:8080', [])).toBe(true);
    expect(isAllowedOrigin('https://app.example.com', ['https://app.example.com'])).toBe(true);
  });

  it('refuses other sites, look-alikes and junk', () => {
    expect(isAllowedOrigin('https://evil.example', [])).toBe(false);
    expect(isAllowedOrigin('http://localhost.evil.example', [])).toBe(false);
    expect(isAllowedOrigin('null', [])).toBe(false);
    expect(isAllowedOrigin('file://localhost', [])).toBe(false);
  });
});

describe('originGuard', () => {
  const app = new Hono().use(originGuard([])).post('/mcp', (c) => c.text('ok'));

  it('answers 403 with a JSON-RPC error naming the origin and the fix', async () => {
    const res = await app.request('/mcp', { method: 'POST', headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toContain('https://evil.example');
    expect(body.error.message).toContain('--allow-origin');
  });

  it('lets requests without Origin through', async () => {
    const res = await app.request('/mcp', { method: 'POST' });
    expect(res.status).toBe(200);
  });
});
