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
});
