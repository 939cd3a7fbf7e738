import { describe, expect, it } from 'vitest';
import { MASK, maskServer, unmaskServer } from './mask.js';

describe('maskServer and unmaskServer', () => {
  const entry = {
    command: 'x',
    env: { TOKEN: 'ghp_abc', REF: '${secret:TOKEN}', HOME_DIR: '${HOME}/x' },
    headers: { Authorization: 'Bearer ${secret:GH}' },
  };

  it('masks plain values of env and headers and a URL with credentials, not references', () => {
    expect(maskServer(entry)).toEqual({
      command: 'x',
      env: { TOKEN: MASK, REF: '${secret:TOKEN}', HOME_DIR: '${HOME}/x' },
      headers: { Authorization: 'Bearer ${secret:GH}' },
    });
    expect(maskServer({ url: 'https://u:p@example.com/mcp?key=1' }).url).toBe(MASK);
    expect(maskServer({ url: 'https://example.com/mcp' }).url).toBe('https://example.com/mcp');
  });

  it('puts back what a mask stands for, and refuses a mask that stands for nothing', () => {
    const edited = { ...maskServer(entry), args: ['--verbose'] };
    expect(unmaskServer(edited, entry, 'gh')).toEqual({ ...entry, args: ['--verbose'] });
    expect(() => unmaskServer({ env: { NEW: MASK } }, entry, 'gh')).toThrow(/mcpServers\.gh\.env\.NEW: "••••••" stands for a value/);
  });

  it('masks a URL that carries a user, a password or a query, and leaves empty values and odd URLs alone', () => {
    expect(maskServer({ url: 'https://user@example.com/mcp' }).url).toBe(MASK);
    expect(maskServer({ url: 'https://:secret@example.com/mcp' }).url).toBe(MASK);
    expect(maskServer({ url: 'https://example.com/mcp?token=x' }).url).toBe(MASK);
    expect(maskServer({ url: 'not a url' }).url).toBe('not a url');
    expect(maskServer({ url: 'https://${secret:HOST}/mcp?x=1' }).url).toBe('https://${secret:HOST}/mcp?x=1');
    expect(maskServer({ env: { EMPTY: '', N: 1 }, headers: 'none' })).toEqual({ env: { EMPTY: '', N: 1 }, headers: 'none' });
  });

  it('puts back a masked URL and header, and refuses them when the server had none', () => {
    const remote = { url: 'https://u:p@example.com/mcp', headers: { Authorization: 'Bearer abc', Accept: 'x' } };
    const masked = maskServer(remote);
    expect(masked).toEqual({ url: MASK, headers: { Authorization: MASK, Accept: MASK } });
    expect(unmaskServer({ ...masked, headers: { Authorization: MASK, Accept: 'y' } }, remote, 'r')).toEqual({
      url: remote.url,
      headers: { Authorization: 'Bearer abc', Accept: 'y' },
    });
    for (const previous of [undefined, { url: 5 }]) {
      const err = (() => {
        try {
          unmaskServer({ url: MASK }, previous, 'r');
        } catch (error) {
          return error as { code?: string; message: string; hint?: string };
        }
        throw new Error('expected a refusal');
      })();
      expect(err).toMatchObject({
        code: 'CONFIG_INVALID',
        message: 'mcpServers.r.url: "••••••" stands for a value the server does not have',
        hint: 'write the value itself, or ${secret:NAME} for a stored secret',
      });
    }
    expect(() => unmaskServer({ headers: { A: MASK } }, undefined, 'r')).toThrow(/mcpServers\.r\.headers\.A:/);
    expect(() => unmaskServer({ headers: { A: MASK } }, { headers: 'x' }, 'r')).toThrow(/mcpServers\.r\.headers\.A:/);
    expect(unmaskServer({ env: 'x', url: 'https://example.com' }, undefined, 'r')).toEqual({ env: 'x', url: 'https://example.com' });
  });
});
