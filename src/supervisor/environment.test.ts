import { describe, expect, it } from 'vitest';
import { defaultEnvironment } from './environment.js';

describe('defaultEnvironment', () => {
  // What npx, uvx and their proxies need; anything else reaches a server only through its `env`.
  const INHERITED = [
    'HOME',
    'LOGNAME',
    'PATH',
    'SHELL',
    'TERM',
    'USER',
    'LANG',
    'LC_ALL',
    'LC_CTYPE',
    'TMPDIR',
    'TZ',
    'XDG_RUNTIME_DIR',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
    'NODE_EXTRA_CA_CERTS',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
  ];

  it('passes on the listed variables and nothing else', () => {
    const source = Object.fromEntries([...INHERITED, 'MCP_ORCH_SECRET_KEY', 'GITHUB_TOKEN'].map((k) => [k, `value of ${k}`]));
    expect(defaultEnvironment(source)).toStrictEqual(Object.fromEntries(INHERITED.map((k) => [k, `value of ${k}`])));
  });

  it('drops exported shell functions, but keeps values that merely contain "()"', () => {
    expect(defaultEnvironment({ HOME: '/home/u', SHELL: '() { evil; }', TERM: 'xterm()', PATH: '' })).toStrictEqual({
      HOME: '/home/u',
      TERM: 'xterm()',
      PATH: '',
    });
  });
});
