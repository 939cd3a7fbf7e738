import { describe, expect, it } from 'vitest';
import { banner, reachableFromNetwork, usableUrls } from './banner.js';
import { colorsFor, paintState } from './colors.js';
import { withDataDir } from './findDaemon.js';
import { shellArg, table } from './output.js';
import type { Config } from '../config/schema.js';

const on = colorsFor({ isTTY: true }, {});
const off = colorsFor({ isTTY: false }, {});

describe('colours', () => {
  it('on a terminal only, never with NO_COLOR, anywhere with FORCE_COLOR', () => {
    expect(paintState(on, 'running')).toBe('\x1b[32mrunning\x1b[39m');
    expect(paintState(off, 'running')).toBe('running');
    expect(paintState(colorsFor({ isTTY: true }, { NO_COLOR: '1' }), 'running')).toBe('running');
    expect(paintState(colorsFor({ isTTY: false }, { FORCE_COLOR: '1' }), 'crashed')).toBe('\x1b[31mcrashed\x1b[39m');
    expect(paintState(colorsFor({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: '1' }), 'crashed')).toBe('crashed');
  });

  it('green running, yellow on the way, red crashed, grey stopped and disabled', () => {
    expect(['running', 'starting', 'restarting', 'unhealthy', 'crashed', 'stopped', 'disabled'].map((s) => paintState(on, s))).toEqual([
      on.green('running'),
      on.yellow('starting'),
      on.yellow('restarting'),
      on.yellow('unhealthy'),
      on.red('crashed'),
      on.gray('stopped'),
      on.gray('disabled'),
    ]);
  });

  it('tables align coloured cells by what shows', () => {
    const plain = table(
      ['name', 'state', 'pid'],
      [
        ['a', 'running', 1],
        ['bb', 'crashed', '-'],
      ],
    );
    const painted = table(
      ['name', 'state', 'pid'],
      [
        ['a', paintState(on, 'running'), 1],
        ['bb', paintState(on, 'crashed'), '-'],
      ],
    );
    // eslint-disable-next-line no-control-regex
    expect(painted.replace(/\x1b\[\d+m/g, '')).toBe(plain);
  });
});

describe('hints', () => {
  it('quote for the shell only what needs it', () => {
    expect(shellArg('/home/me/.mcp-orch')).toBe('/home/me/.mcp-orch');
    expect(shellArg("/Users/Ann Lee/it's")).toBe(`'/Users/Ann Lee/it'\\''s'`);
  });

  it('repeat the command as typed, with --data-dir in place of any given', () => {
    expect(withDataDir('/d/x', ['logs', 'memory', '-f'])).toBe('mcp-orch logs memory -f --data-dir /d/x');
    expect(withDataDir('/d/y', ['status', '--data-dir', '/d/x', '--json'])).toBe('mcp-orch status --json --data-dir /d/y');
    expect(withDataDir('/d/y', ['status', '--data-dir=/d/x'])).toBe('mcp-orch status --data-dir /d/y');
  });
});

describe('the start-up banner', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    eth0: [
      { address: '192.0.2.7', family: 'IPv4', internal: false },
      { address: '2001:db8::7', family: 'IPv6', internal: false },
    ],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;

  it('turns a wildcard address into URLs a client can use', () => {
    expect(usableUrls('http://0.0.0.0:8000', interfaces)).toEqual(['http://127.0.0.1:8000', 'http://192.0.2.7:8000']);
    expect(usableUrls('http://[::]:8000', interfaces)).toEqual([
      'http://127.0.0.1:8000',
      'http://192.0.2.7:8000',
      'http://[2001:db8::7]:8000',
    ]);
    expect(usableUrls('http://127.0.0.1:8000', interfaces)).toEqual(['http://127.0.0.1:8000']);
    expect(reachableFromNetwork('http://127.0.0.1:8000')).toBe(false);
    expect(reachableFromNetwork('http://[::1]:8000')).toBe(false);
    expect(reachableFromNetwork('http://0.0.0.0:8000')).toBe(true);
    expect(reachableFromNetwork('http://192.0.2.7:8000')).toBe(true);
  });

  it("names each server's URL, the disabled ones, /health, the dashboard and how to connect, and warns off loopback", () => {
    const config = { mcpServers: { memory: {}, off: { disabled: true } }, orch: {} } as unknown as Config;
    const input = { url: 'http://127.0.0.1:8000', configPath: '/c/mcp-config.json', config, dataDir: '/d', version: '1.2.3', auth: false };
    const text = banner(input, off);
    expect(text).toContain('http://127.0.0.1:8000/mcp');
    expect(text).toMatch(/^ {2}memory +http:\/\/127\.0\.0\.1:8000\/servers\/memory\/mcp$/m);
    expect(text).toMatch(/^ {2}off +disabled in the config$/m);
    expect(text).toContain('http://127.0.0.1:8000/health');
    expect(text).toMatch(
      /^ {2}dashboard +http:\/\/127\.0\.0\.1:8000\/ui {2}\(REST API: http:\/\/127\.0\.0\.1:8000\/api\/docs; log in with the token in \/d\/admin-token\)$/m,
    );
    expect(text).toContain('claude mcp add --transport http mcp-orch http://127.0.0.1:8000/mcp');
    expect(text).not.toContain('{name}');
    expect(text).not.toContain('warning');
    const open = banner({ ...input, url: 'http://0.0.0.0:8000', auth: true }, off);
    expect(open).toMatch(/^warning: listening on 0\.0\.0\.0: the gateway is reachable from the network/);
    expect(open).not.toContain('http://0.0.0.0');
    // With keys on, the ways to connect carry one.
    expect(open).toContain('--header "Authorization: Bearer <key>"');
    expect(open).toContain('mcp-orch connect CLIENT');
    expect(open).toMatch(/^ {2}dashboard +http:\/\/127\.0\.0\.1:8000\/ui {2}\(REST API: http:\/\/127\.0\.0\.1:8000\/api\/docs\)$/m);
  });
});
