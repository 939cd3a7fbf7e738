import { describe, expect, it } from 'vitest';
import { secretName, serverEntryOf } from './serverEntry.js';

describe('serverEntryOf', () => {
  it('makes a stdio entry of what was filled in; secret env goes to the store and the entry references it', () => {
    expect(
      serverEntryOf({
        name: 'gh',
        kind: 'stdio',
        command: ' npx ',
        args: '-y\n\n@modelcontextprotocol/server-github\n',
        env: 'DEBUG=1',
        secretEnv: 'GITHUB_TOKEN=ghp_abc=def',
        restart: '',
        timeout: '20',
        lazy: 'true',
      }),
    ).toEqual({
      name: 'gh',
      config: {
        command: 'npx',
        args: ['-y', '@modelcontextprotocol/server-github'],
        env: { DEBUG: '1', GITHUB_TOKEN: '${secret:GH_GITHUB_TOKEN}' },
        timeout: 20,
        lazy: true,
      },
      secrets: { GH_GITHUB_TOKEN: 'ghp_abc=def' },
    });
  });

  it('makes a remote entry with headers, plain and secret', () => {
    expect(
      serverEntryOf({
        name: 'api',
        kind: 'remote',
        url: 'https://example.com/mcp',
        type: 'sse',
        headers: 'X-Team: a',
        secretHeaders: 'Authorization: Bearer t',
      }),
    ).toEqual({
      name: 'api',
      config: { url: 'https://example.com/mcp', type: 'sse', headers: { 'X-Team': 'a', Authorization: '${secret:API_AUTHORIZATION}' } },
      secrets: { API_AUTHORIZATION: 'Bearer t' },
    });
  });

  it('names a line it cannot read', () => {
    expect(() => serverEntryOf({ name: 'x', env: 'JUSTANAME' })).toThrow('env: "JUSTANAME" is not NAME=value');
  });

  it('makes secret names the store accepts', () => {
    expect(secretName('my.server-1', 'x-api-key')).toBe('MY_SERVER_1_X_API_KEY');
  });
});
