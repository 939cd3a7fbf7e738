import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { loadConfig, parseConfigText, resolveConfigPath } from './load.js';

let dir: string;
let home: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-load-'));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-home-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(home, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function failure(fn: () => unknown): OrchError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OrchError) return err;
    throw err;
  }
  throw new Error('expected an OrchError');
}

const parse = (value: unknown, env: NodeJS.ProcessEnv = {}) => parseConfigText(JSON.stringify(value), 'c.json', env);

describe('resolveConfigPath', () => {
  it('takes --config relative to cwd, and names it when missing', () => {
    const file = write('custom.json', '{}');
    expect(resolveConfigPath('custom.json', dir, home)).toBe(file);
    const err = failure(() => resolveConfigPath('nope.json', dir, home));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(path.join(dir, 'nope.json'));
  });

  it('prefers ./mcp-config.json, then YAML, then ~/.mcp.json', () => {
    const homeFile = path.join(home, '.mcp.json');
    fs.writeFileSync(homeFile, '{}');
    expect(resolveConfigPath(undefined, dir, home)).toBe(homeFile);
    const yml = write('mcp-config.yml', '{}');
    expect(resolveConfigPath(undefined, dir, home)).toBe(yml);
    const yaml = write('mcp-config.yaml', '{}');
    expect(resolveConfigPath(undefined, dir, home)).toBe(yaml);
    const json = write('mcp-config.json', '{}');
    expect(resolveConfigPath(undefined, dir, home)).toBe(json);
  });

  it('lists the paths tried and how to create one', () => {
    const err = failure(() => resolveConfigPath(undefined, dir, home));
    expect(err.code).toBe('CONFIG_NOT_FOUND');
    expect(err.message).toContain(path.join(dir, 'mcp-config.json'));
    expect(err.message).toContain(path.join(home, '.mcp.json'));
    expect(err.hint).toContain('cp mcp-config.json.example mcp-config.json');
  });
});

describe('loadConfig', () => {
  it('loads JSON with defaults applied', () => {
    const file = write('mcp-config.json', JSON.stringify({ mcpServers: { fs: { command: 'npx', args: ['-y', 'x'] } } }));
    const { config, path: loaded, warnings } = loadConfig(file, {});
    expect(loaded).toBe(file);
    expect(warnings).toEqual([]);
    expect(config.mcpServers.fs).toMatchObject({ command: 'npx', args: ['-y', 'x'], env: {}, timeout: 30 });
    expect(config.orch.port).toBe(8000);
  });

  it('loads YAML for .yaml and .yml', () => {
    const text = 'mcpServers:\n  remote:\n    url: https://example.com/mcp # a comment\norch:\n  port: 9000\n';
    for (const name of ['c.yaml', 'c.yml', 'C.YML']) {
      const { config } = loadConfig(write(name, text), {});
      expect(config.mcpServers.remote).toMatchObject({ url: 'https://example.com/mcp' });
      expect(config.orch.port).toBe(9000);
    }
    // Only the last extension counts: a JSON file is parsed as JSON.
    expect(failure(() => loadConfig(write('c.yaml.json', text), {})).code).toBe('CONFIG_PARSE');
  });

  it('reports a missing file as CONFIG_NOT_FOUND', () => {
    expect(failure(() => loadConfig(path.join(dir, 'gone.json'))).code).toBe('CONFIG_NOT_FOUND');
  });

  it('names file, line and column of a JSON syntax error', () => {
    const file = write('bad.json', '{\n  "mcpServers": {\n    "a": { "command": tru }\n  }\n}\n');
    const err = failure(() => loadConfig(file, {}));
    expect(err.code).toBe('CONFIG_PARSE');
    expect(err.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:23: expected a value, found "tru"$`));
  });

  it('locates trailing commas and comments', () => {
    const trailing = failure(() => parseConfigText('{\n  "mcpServers": {},\n}', 'c.json', {}));
    expect(trailing.message).toBe("c.json:2:19: trailing comma before '}'");
    const comment = failure(() => parseConfigText('{\n  // servers\n}', 'c.json', {}));
    expect(comment.message).toMatch(/^c\.json:2:3: comments are not allowed/);
    expect(failure(() => parseConfigText('', 'c.json', {})).message).toBe('c.json:1:1: expected a value, found end of file');
  });

  it('names line and column of a YAML syntax error', () => {
    const err = failure(() => parseConfigText('mcpServers:\n  a: 1\n  a: 2\n', 'c.yaml', {}));
    expect(err.code).toBe('CONFIG_PARSE');
    expect(err.message).toMatch(/^c\.yaml:\d+:\d+: /);
  });
});

describe('interpolation', () => {
  const server = (env: Record<string, string>) => ({ mcpServers: { gh: { command: 'gh', env } } });

  it('replaces ${VAR} and ${VAR:-default} in values but not keys', () => {
    const { config } = parse(
      {
        mcpServers: { gh: { command: '${CMD}', args: ['--token=${TOKEN}', '${NONE:-fallback}', '${EMPTY:-used}'], env: { '${K}': 'v' } } },
      },
      { CMD: 'github-mcp', TOKEN: 't0k', EMPTY: '' },
    );
    expect(config.mcpServers.gh).toMatchObject({ command: 'github-mcp', args: ['--token=t0k', 'fallback', 'used'], env: { '${K}': 'v' } });
  });

  it('keeps $${ as a literal, and without a secret store makes a server that uses ${secret:NAME} unavailable', () => {
    const { config, unavailable, warnings } = parse(server({ A: 'cost $${HOME}', B: '${secret:gh_token}', C: '${env:X}' }), {
      HOME: '/h',
      X: 'x',
    });
    expect(config.mcpServers.gh).toMatchObject({ disabled: true, env: { A: 'cost ${HOME}', B: '${secret:gh_token}', C: 'x' } });
    expect(unavailable.gh).toBe('mcpServers.gh.env.B: secret "gh_token" is not available: this command does not read secrets');
    expect(warnings).toContainEqual(expect.stringContaining('server "gh" is not started'));
  });

  it('names file, JSON path and variable when one is missing', () => {
    const err = failure(() => parse({ mcpServers: { gh: { command: 'gh', args: ['a', '${GITHUB_TOKEN}'] } } }));
    expect(err.code).toBe('CONFIG_ENV_MISSING');
    expect(err.message).toBe('c.json: mcpServers.gh.args[1]: environment variable GITHUB_TOKEN is not set');
    expect(err.hint).toContain('${VAR:-default}');
  });

  it('rejects references it cannot resolve, such as VS Code inputs', () => {
    const err = failure(() => parse(server({ T: '${input:token}' })));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('c.json: mcpServers.gh.env.T: unsupported reference ${input:token}');
  });
});

describe('validation messages', () => {
  it('names path, expected thing and actual value', () => {
    const err = failure(() => parse({ mcpServers: { github: { command: 'gh', args: 'x' } } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('c.json: mcpServers.github.args: expected an array of strings, got "x"');
    expect(err.hint).toBeTruthy();
  });

  it('reports every issue, with array indices and record values', () => {
    const err = failure(() =>
      parse({ mcpServers: { a: { command: 'x', args: ['ok', 3], env: { K: 1 } } }, orch: { port: 'x', host: '' } }),
    );
    expect(err.message.split('\n')).toEqual([
      'c.json: mcpServers.a.args[1]: expected a string, got 3',
      'c.json: mcpServers.a.env.K: expected a string, got 1',
      'c.json: orch.host: expected a non-empty string, got ""',
      'c.json: orch.port: expected a whole number, got "x"',
    ]);
  });

  it('tells a remote server from a stdio one by its keys', () => {
    expect(failure(() => parse({ mcpServers: { r: { url: 'ftp://x' } } })).message).toBe(
      'c.json: mcpServers.r.url: expected an http:// or https:// URL, got "ftp://x"',
    );
    expect(failure(() => parse({ mcpServers: { r: { url: 'https://x', type: 'websocket' } } })).message).toBe(
      'c.json: mcpServers.r.type: expected one of "streamable-http", "http", "sse", got "websocket"',
    );
    expect(failure(() => parse({ mcpServers: { s: { command: '' } } })).message).toBe(
      'c.json: mcpServers.s.command: must not be empty, got ""',
    );
    expect(failure(() => parse({ mcpServers: { n: { args: [] } } })).message).toBe(
      'c.json: mcpServers.n: needs "command" (a stdio server) or "url" (a remote server)',
    );
    expect(failure(() => parse({ mcpServers: { n: 'npx foo' } })).message).toMatch(
      /^c\.json: mcpServers\.n: expected a server object .*, got "npx foo"$/,
    );
  });

  it('explains bad server names and shortens long values', () => {
    const err = failure(() => parse({ mcpServers: { 'bad name': { command: 'x' } }, orch: { logLevel: 'x'.repeat(100) } }));
    const [name, level] = err.message.split('\n');
    expect(name).toBe('c.json: mcpServers["bad name"]: invalid name: server names use letters, digits, "_", "-" and "."');
    expect(level).toMatch(/^c\.json: orch\.logLevel: expected one of "fatal", .*, got "x+…$/);
    expect(level!.length).toBeLessThan(200);
  });

  it("refuses a server named as the gateway's own tools", () => {
    const err = failure(() => parse({ mcpServers: { 'mcp-orch': { command: 'x' } } }));
    expect(err.message).toBe(
      'c.json: mcpServers.mcp-orch: invalid name: "mcp-orch" names the gateway\'s own tools on /mcp; give this server another name',
    );
  });

  it('refuses a server name that the namespace separator would make ambiguous on /mcp', () => {
    for (const name of ['a_', 'a__b']) {
      const err = failure(() => parse({ mcpServers: { [name]: { command: 'x' }, a: { command: 'x' } } }));
      expect(err.message).toBe(
        `c.json: mcpServers.${name}: invalid name: "${name}" contains or ends like the namespace separator "__", so its tools' names on /mcp would not say where the server's name ends; rename the server or change orch.namespaceSeparator`,
      );
    }
    // With another separator the same names are plain.
    expect(Object.keys(parse({ mcpServers: { a_: { command: 'x' } }, orch: { namespaceSeparator: '.' } }).config.mcpServers)).toEqual([
      'a_',
    ]);
  });

  it('warns about unknown keys instead of failing', () => {
    const { warnings, config } = parse({
      $schema: 'x',
      extra: 1,
      orch: { colour: 'blue' },
      mcpServers: { a: { command: 'x', autoApprove: [] }, b: { url: 'https://x', headers: {}, command2: 1 } },
    });
    expect(warnings).toEqual([
      'c.json: extra: unknown key, ignored',
      'c.json: orch.colour: unknown key, ignored',
      'c.json: mcpServers.a.autoApprove: unknown key, ignored',
      'c.json: mcpServers.b.command2: unknown key, ignored',
    ]);
    expect(config.mcpServers.a).toMatchObject({ autoApprove: [] });
  });
});

describe('variables in disabled servers', () => {
  it('warn instead of failing, so a server can be parked until its token is at hand', () => {
    const text = JSON.stringify({
      mcpServers: {
        parked: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${PARKED_TOKEN}' }, disabled: true },
        live: { command: 'node', args: ['${LIVE_ARG}'] },
      },
    });
    const { config, warnings } = parseConfigText(text, 'c.json', { LIVE_ARG: 'x' });
    expect(config.mcpServers.live).toMatchObject({ args: ['x'] });
    expect(warnings.join('\n')).toContain(
      'mcpServers.parked.headers.Authorization: environment variable PARKED_TOKEN is not set (server disabled)',
    );
    expect(() => parseConfigText(text, 'c.json', {})).toThrow(/mcpServers\.live\.args\[0\]: environment variable LIVE_ARG is not set/);
  });
});

describe('headers over plain http', () => {
  it('are warned about by server name and host, never with their values; https and loopback are not', () => {
    const text = JSON.stringify({
      mcpServers: {
        plain: { url: 'http://mcp.example.com:8080/mcp', headers: { Authorization: 'Bearer ${TOKEN}', 'X-Team': 'a' } },
        secure: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        local: { url: 'http://127.0.0.1:9000/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        localOther: { url: 'http://127.10.200.255:9000/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        localName: { url: 'http://localhost:9000/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        localV6: { url: 'http://[::1]:9000/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        lookalike: { url: 'http://127.0.0.1.example.com/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        lan: { url: 'http://10.0.0.5/mcp', headers: { Authorization: 'Bearer ${TOKEN}' } },
        bare: { url: 'http://mcp.example.com/mcp' },
        parked: { url: 'http://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${TOKEN}' }, disabled: true },
      },
    });
    const { warnings } = parseConfigText(text, 'c.json', { TOKEN: 'sekrit-value' });
    expect(warnings).toEqual([
      'c.json: mcpServers.plain.url: its headers (Authorization, X-Team) are sent over plain http:// to mcp.example.com:8080, readable on the way; use https://',
      'c.json: mcpServers.lookalike.url: its headers (Authorization) are sent over plain http:// to 127.0.0.1.example.com, readable on the way; use https://',
      'c.json: mcpServers.lan.url: its headers (Authorization) are sent over plain http:// to 10.0.0.5, readable on the way; use https://',
    ]);
    expect(warnings.join('\n')).not.toContain('sekrit');
  });
});

describe('reading and parsing, the details', () => {
  it('names a config path that is not a readable file, with the fix', () => {
    const missing = failure(() => resolveConfigPath('nope.json', dir, home));
    expect(missing.hint).toBe(
      'check the --config path, or create one with `cp mcp-config.json.example mcp-config.json`, or pass --config PATH',
    );
    const none = failure(() => resolveConfigPath(undefined, dir, home));
    expect(none.message).toBe(
      `no config file found (tried ${['mcp-config.json', 'mcp-config.yaml', 'mcp-config.yml'].map((f) => path.join(dir, f)).join(', ')}, ${path.join(home, '.mcp.json')})`,
    );
    const directory = failure(() => loadConfig(dir, {}));
    expect(directory.code).toBe('CONFIG_NOT_FOUND');
    expect(directory.message).toBe(`cannot read config file (EISDIR): ${dir}`);
    expect(directory.hint).toBe('create one with `cp mcp-config.json.example mcp-config.json`, or pass --config PATH');
    expect((directory.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
  });

  it('skips a byte order mark', () => {
    expect(Object.keys(parseConfigText('\uFEFF{"mcpServers": {"a": {"command": "x"}}}', 'c.json', {}).config.mcpServers)).toEqual(['a']);
    expect(Object.keys(parseConfigText('\uFEFFmcpServers:\n  a:\n    command: x\n', 'c.yaml', {}).config.mcpServers)).toEqual(['a']);
  });

  it("gives YAML's own reason without its position, which the message starts with", () => {
    const text = `${Array.from({ length: 11 }, (_, i) => `key${i}: ${i}`).join('\n')}\naaaaaaaaaaaaa: b: c\n`;
    const err = failure(() => parseConfigText(text, 'c.yaml', {}));
    expect(err.message).toBe('c.yaml:12:16: Nested mappings are not allowed in compact mappings');
  });

  it('points at the README when the example itself is the file being fixed', () => {
    expect(failure(() => parse({ mcpServers: { a: 5 } })).hint).toBe(
      'fix the fields named above; mcp-config.json.example shows a working config',
    );
    const own = failure(() => parseConfigText('{"mcpServers": {"a": 5}}', path.join('x', 'mcp-config.json.example'), {}));
    expect(own.hint).toBe('fix the fields named above; the README\'s "Config" section lists every key');
  });

  it('warns about cache settings that keep nothing', () => {
    const { warnings } = parse({
      mcpServers: {
        perSession: { command: 'x', isolation: 'session', cache: { tools: 'readOnly' } },
        empty: { command: 'x', cache: { ttlSec: 10 } },
        tools: { command: 'x', cache: { tools: ['get'] } },
        resources: { command: 'x', cache: { resources: true } },
        lists: { command: 'x', cache: { lists: true } },
        none: { command: 'x' },
      },
    });
    expect(warnings).toEqual([
      `c.json: mcpServers.perSession.cache: ignored: with "isolation": "session" each client's answers are its own`,
      'c.json: mcpServers.empty.cache: keeps nothing; add "tools": [...] or "readOnly", "resources": true or "lists": true',
    ]);
  });

  it('says how to fix each kind of error, with the data a program needs', () => {
    const json = failure(() => parseConfigText('{\n  "a": 1,\n}', 'c.json', {}));
    expect(json.hint).toBe('fix the JSON syntax there (JSON has no comments or trailing commas; YAML in mcp-config.yaml allows comments)');
    expect(json.data).toEqual({ file: 'c.json', line: 2, column: 9 });
    expect(json.cause).toBeInstanceOf(SyntaxError);

    const yaml = failure(() => parseConfigText('a: b: c\n', 'c.yaml', {}));
    expect(yaml.hint).toBe('fix the YAML syntax at that line');
    expect(yaml.cause).toBeDefined();

    const refs = failure(() => parse({ mcpServers: { a: { command: '${input:x}', args: ['${command:y}'] } } }));
    expect(refs.message.split('\n')).toEqual([
      'c.json: mcpServers.a.command: unsupported reference ${input:x}',
      'c.json: mcpServers.a.args[0]: unsupported reference ${command:y}',
    ]);
    expect(refs.hint).toBe('write ${VAR} or ${VAR:-default} for environment variables, or $${ for a literal "${"');
    expect(refs.data).toEqual({
      file: 'c.json',
      references: [
        { path: 'mcpServers.a.command', text: '${input:x}' },
        { path: 'mcpServers.a.args[0]', text: '${command:y}' },
      ],
    });

    const env = failure(() => parse({ mcpServers: { a: { command: '${CMD}', args: ['${ARG}'] } } }));
    expect(env.message.split('\n')).toEqual([
      'c.json: mcpServers.a.command: environment variable CMD is not set',
      'c.json: mcpServers.a.args[0]: environment variable ARG is not set',
    ]);
    expect(env.data).toEqual({ file: 'c.json', variables: ['CMD', 'ARG'] });

    const invalid = failure(() => parse({ mcpServers: { a: { command: 'x', timeout: -1 } } }));
    expect(invalid.data).toEqual({ file: 'c.json', issues: [invalid.message] });

    const deps = failure(() => parse({ mcpServers: { a: { command: 'x', dependsOn: ['a', 'gone'] } } }));
    const lines = [
      'c.json: mcpServers.a.dependsOn: a server cannot depend on itself',
      'c.json: mcpServers.a.dependsOn: unknown server "gone"; configured servers: a',
    ];
    expect(deps.code).toBe('CONFIG_INVALID');
    expect(deps.message.split('\n')).toEqual(lines);
    expect(deps.hint).toBe('dependsOn names servers of this config that must be running first, without cycles');
    expect(deps.data).toEqual({ file: 'c.json', issues: lines.map((line) => line.slice('c.json: '.length)) });
  });
});
