import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { hostAllowlist, hostGuard, parseHost } from './host.js';

const loopbackOnly = hostAllowlist({ allowedHosts: [], host: '127.0.0.1' });
const allows = (list: ReturnType<typeof hostAllowlist>, value: string): boolean => {
  const host = parseHost(value);
  return host !== undefined && list.allows(host);
};

describe('parseHost', () => {
  it('splits names, IPv4 and bracketed IPv6 from their ports, in lower case', () => {
    expect(parseHost('LocalHost:8000')).toEqual({ hostname: 'localhost', port: '8000' });
    expect(parseHost('127.0.0.1')).toEqual({ hostname: '127.0.0.1', port: undefined });
    expect(parseHost('[::1]:8000')).toEqual({ hostname: '[::1]', port: '8000' });
    expect(parseHost('[::1]')).toEqual({ hostname: '[::1]', port: undefined });
  });

  it('refuses what is no Host value: user info, paths, bare IPv6, empty', () => {
    for (const value of ['evil.example@localhost', 'localhost/x', '::1', '', 'localhost:', 'local host', 'localhost:80:80']) {
      expect(parseHost(value), value).toBeUndefined();
    }
  });
});

describe('hostAllowlist', () => {
  it('answers to the loopback names on any port by default, and to nothing else', () => {
    for (const value of ['localhost', 'localhost:8000', '127.0.0.1:1', '[::1]:65535', 'LOCALHOST:8000']) {
      expect(allows(loopbackOnly, value), value).toBe(true);
    }
    for (const value of ['evil.example', 'evil.example:8000', 'localhost.evil.example', '127.0.0.2', '0.0.0.0:8000', '192.168.1.5']) {
      expect(allows(loopbackOnly, value), value).toBe(false);
    }
  });

  it('adds the bound address, which the CLI reaches it by; not the names of a wildcard bind', () => {
    expect(allows(hostAllowlist({ allowedHosts: [], host: '192.168.1.5' }), '192.168.1.5:8000')).toBe(true);
    expect(allows(hostAllowlist({ allowedHosts: [], host: 'fd00::5' }), '[fd00::5]:8000')).toBe(true);
    const wildcard = hostAllowlist({ allowedHosts: [], host: '0.0.0.0' });
    expect(allows(wildcard, '0.0.0.0:8000')).toBe(true);
    expect(allows(wildcard, '192.168.1.5:8000')).toBe(false);
    expect(allows(wildcard, 'box.lan:8000')).toBe(false);
    expect(allows(hostAllowlist({ allowedHosts: [], host: '::' }), '[::]:8000')).toBe(true);
  });

  it('adds orch.allowedHosts: a name on any port, a name with a port on that one, "*" on all', () => {
    const list = hostAllowlist({ allowedHosts: ['mcp.example.com', 'box.lan:8100'], host: '0.0.0.0' });
    expect(allows(list, 'mcp.example.com')).toBe(true);
    expect(allows(list, 'MCP.example.com:443')).toBe(true);
    expect(allows(list, 'box.lan:8100')).toBe(true);
    expect(allows(list, 'box.lan:8000')).toBe(false);
    expect(allows(list, 'box.lan')).toBe(false);
    const open = hostAllowlist({ allowedHosts: ['*'], host: '0.0.0.0' });
    expect(allows(open, 'anything.example:1')).toBe(true);
    expect(open.lists(parseHost('anything.example:1')!)).toBe(false);
  });
});

describe('hostGuard', () => {
  const app = new Hono().use(hostGuard(loopbackOnly)).get('/health', (c) => c.text('ok'));

  it('answers 403 with a JSON error naming the host and the setting to change', async () => {
    const res = await app.request('/health', { headers: { host: 'evil.example:8000' } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { message: string; data: { orchCode: string } } };
    expect(body.error.data.orchCode).toBe('FORBIDDEN_HOST');
    expect(body.error.message).toContain('"evil.example:8000"');
    expect(body.error.message).toContain('add "evil.example" to orch.allowedHosts');
    expect(body.error.message).toContain('localhost, 127.0.0.1, [::1]');
  });

  it('lets the loopback names through, and a request without Host by its URL', async () => {
    expect((await app.request('/health', { headers: { host: '127.0.0.1:8000' } })).status).toBe(200);
    expect((await app.request('http://localhost/health')).status).toBe(200);
    expect((await app.request('http://evil.example/health')).status).toBe(403);
  });
});
