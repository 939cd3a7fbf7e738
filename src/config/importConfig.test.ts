import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from '../errors.js';
import { importServers } from './importConfig.js';
import { loadConfig } from './load.js';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-import-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: unknown): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

// Assertions reach deep into arbitrary JSON; typing each level would only restate the fixtures.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const readJson = (file: string): Record<string, any> => JSON.parse(fs.readFileSync(file, 'utf8'));

const cline = {
  mcpServers: {
    github: {
      command: 'npx',
      args: ['-y', '@modelcontextprotocol/server-github'],
      env: { GITHUB_TOKEN: '${GITHUB_TOKEN}' },
      autoApprove: ['search'],
      alwaysAllow: [],
    },
    remote: { url: 'https://example.com/mcp', disabled: true },
  },
};

describe('importServers: source formats', () => {
  it('imports Claude Desktop / Cursor / Cline configs, keeping every field, into a new file', () => {
    const from = write('cline_mcp_settings.json', cline);
    const into = path.join(dir, 'nested', 'mcp-config.json');
    const result = importServers(from, into);
    expect(result).toMatchObject({
      added: ['github', 'remote'],
      skipped: [],
      renamed: [],
      sourceKey: 'mcpServers',
      target: into,
      created: true,
    });
    expect(readJson(into)).toEqual(cline);
    // The written file is a config mcp-orch can load.
    expect(Object.keys(loadConfig(into, { GITHUB_TOKEN: 't' }).config.mcpServers)).toEqual(['github', 'remote']);
  });

  it('imports .vscode/mcp.json, comments and trailing commas included', () => {
    const from = write(
      '.vscode/mcp.json',
      `{
  // VS Code allows comments here
  "inputs": [],
  "servers": {
    "fetch": { "type": "stdio", "command": "uvx", "args": ["mcp-server-fetch"], },
    "api": { "type": "http", "url": "https://api.example.com/mcp", "headers": { "X-Key": "\${env:API_KEY}" } }, /* trailing */
  },
}`,
    );
    const into = write('mcp-config.json', { mcpServers: {} });
    const result = importServers(from, into);
    expect(result).toMatchObject({ added: ['fetch', 'api'], skipped: [], sourceKey: 'servers', created: false });
    expect(readJson(into).mcpServers.api).toEqual({
      type: 'http',
      url: 'https://api.example.com/mcp',
      headers: { 'X-Key': '${env:API_KEY}' },
    });
  });

  it('imports VS Code settings.json ({"mcp": {"servers": ...}})', () => {
    const from = write('settings.json', { 'editor.fontSize': 14, mcp: { servers: { mem: { command: 'npx', args: ['-y', 'mem'] } } } });
    const into = path.join(dir, 'mcp-config.json');
    expect(importServers(from, into)).toMatchObject({ added: ['mem'], sourceKey: 'mcp.servers' });
    expect(readJson(into)).toEqual({ mcpServers: { mem: { command: 'npx', args: ['-y', 'mem'] } } });
  });

  it('rejects a file without servers, and a missing source', () => {
    const from = write('other.json', { editor: {} });
    expect(() => importServers(from, path.join(dir, 't.json'))).toThrow(OrchError);
    expect(() => importServers(path.join(dir, 'gone.json'), path.join(dir, 't.json'))).toThrow(/file to import not found/);
    expect(fs.existsSync(path.join(dir, 't.json'))).toBe(false);
  });

  it('says which formats it knows when the source has no server map, whatever its top level holds', () => {
    for (const content of ['null', '[]', '"text"', '{"mcpServers": []}']) {
      const from = write('other.json', content);
      expect(() => importServers(from, path.join(dir, 't.json'))).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: `${from}: no MCP servers found`,
          hint: expect.stringContaining('{"mcpServers": {...}} (Claude Desktop, Cursor, Cline)'),
        }),
      );
    }
  });

  it('names the places client configs live when the source is missing', () => {
    const gone = path.join(dir, 'gone.json');
    expect(() => importServers(gone, path.join(dir, 't.json'))).toThrow(
      expect.objectContaining({
        code: 'CONFIG_NOT_FOUND',
        message: `file to import not found: ${gone}`,
        hint: expect.stringContaining('Claude Desktop: claude_desktop_config.json'),
      }),
    );
  });
});

describe('importServers: validation', () => {
  it('skips invalid servers with the reason and imports the rest', () => {
    const from = write('claude_desktop_config.json', {
      mcpServers: {
        ok: { command: 'x' },
        noShape: { args: ['a'] },
        badArgs: { command: 'x', args: 'a b' },
        'bad name': { command: 'x' },
        prompt: { command: 'x', env: { T: '${input:token}' } },
        later: { url: '${REMOTE_URL}' },
      },
    });
    const into = path.join(dir, 'mcp-config.json');
    const result = importServers(from, into);
    expect(result.added).toEqual(['ok', 'later']);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.name, s.reason]));
    expect(reasons.noShape).toBe('invalid: mcpServers.noShape: needs "command" (a stdio server) or "url" (a remote server)');
    expect(reasons.badArgs).toBe('invalid: mcpServers.badArgs.args: expected an array of strings, got "a b"');
    expect(reasons['bad name']).toMatch(/^invalid name/);
    expect(reasons.prompt).toMatch(/\$\{input:token\}/);
  });

  it('gives every problem of a server in its reason', () => {
    const from = write('claude_desktop_config.json', {
      mcpServers: {
        twoFields: { command: 5, args: 'a b' },
        twoPrompts: { command: 'x', env: { A: '${input:a}', B: '${input:b}' } },
      },
    });
    const result = importServers(from, path.join(dir, 'mcp-config.json'));
    expect(result.added).toEqual([]);
    expect(result.skipped).toEqual([
      {
        name: 'twoFields',
        reason:
          'invalid: mcpServers.twoFields.command: expected a string, got 5; mcpServers.twoFields.args: expected an array of strings, got "a b"',
      },
      {
        name: 'twoPrompts',
        reason: 'uses ${input:a}, ${input:b}, which mcp-orch cannot resolve; write ${VAR} for an environment variable instead',
      },
    ]);
  });

  it('creates no target when nothing is imported', () => {
    const into = path.join(dir, 'mcp-config.json');
    const result = importServers(write('from.json', { mcpServers: { 'bad name': { command: 'x' } } }), into);
    expect(result).toMatchObject({ added: [], created: false });
    expect(fs.existsSync(into)).toBe(false);
  });
});

describe('importServers: conflicts', () => {
  const target = () =>
    write('mcp-config.json', {
      $schema: 'https://example.com/schema.json',
      orch: { port: 9000 },
      mcpServers: { github: structuredClone(cline.mcpServers.github), remote: { url: 'https://other.example.com/mcp' } },
    });

  it('skips an identical server as already present and a different one with a reason', () => {
    const into = target();
    const before = fs.readFileSync(into, 'utf8');
    const result = importServers(write('from.json', cline), into);
    expect(result.added).toEqual([]);
    expect(result.skipped).toEqual([
      { name: 'github', reason: 'already present' },
      { name: 'remote', reason: expect.stringContaining('a different server named "remote" already exists') },
    ]);
    expect(fs.readFileSync(into, 'utf8')).toBe(before);
  });

  it('counts a definition equal after defaults as already present', () => {
    const into = write('mcp-config.json', { mcpServers: { a: { command: 'x', args: [], env: {} } } });
    expect(importServers(write('from.json', { mcpServers: { a: { command: 'x' } } }), into).skipped).toEqual([
      { name: 'a', reason: 'already present' },
    ]);
  });

  it('overwrites when asked, keeping the other top-level keys', () => {
    const into = target();
    const result = importServers(write('from.json', cline), into, { overwrite: true });
    expect(result).toMatchObject({ added: ['remote'], overwritten: ['remote'] });
    const written = readJson(into);
    expect(written.mcpServers.remote).toEqual(cline.mcpServers.remote);
    expect(written.$schema).toBe('https://example.com/schema.json');
    expect(written.orch).toEqual({ port: 9000 });
  });

  it('renames to the next free name, and a rerun adds no second copy', () => {
    const into = target();
    const from = write('from.json', { mcpServers: { remote: cline.mcpServers.remote, 'remote-2': { command: 'y' } } });
    const first = importServers(from, into, { rename: true });
    expect(first.renamed).toEqual([{ from: 'remote', to: 'remote-3' }]);
    expect(first.added).toEqual(['remote-3', 'remote-2']);
    expect(readJson(into).mcpServers['remote-3']).toEqual(cline.mcpServers.remote);

    const again = importServers(from, into, { rename: true });
    expect(again.added).toEqual([]);
    expect(again.skipped).toEqual([
      { name: 'remote', reason: 'already present as "remote-3"' },
      { name: 'remote-2', reason: 'already present' },
    ]);
  });

  it('compares servers that still hold ${VAR} as written', () => {
    const into = write('mcp-config.json', { mcpServers: { later: { url: '${REMOTE_URL}' } } });
    const same = importServers(write('from.json', { mcpServers: { later: { url: '${REMOTE_URL}' } } }), into);
    expect(same.skipped).toEqual([{ name: 'later', reason: 'already present' }]);
    const other = importServers(write('from.json', { mcpServers: { later: { url: '${OTHER_URL}' } } }), into);
    expect(other.skipped).toEqual([{ name: 'later', reason: expect.stringContaining('a different server named "later"') }]);
    const resolved = write('mcp-config.json', { mcpServers: { later: { url: 'https://later.example.com/mcp' } } });
    const unresolved = importServers(write('from.json', { mcpServers: { later: { url: '${REMOTE_URL}' } } }), resolved);
    expect(unresolved.skipped).toEqual([{ name: 'later', reason: expect.stringContaining('a different server named "later"') }]);
  });

  it('renames past a numbered name the target already uses', () => {
    const into = write('mcp-config.json', { mcpServers: { remote: { url: 'https://a.example.com/mcp' }, 'remote-2': { command: 'y' } } });
    const result = importServers(write('from.json', { mcpServers: { remote: { url: 'https://b.example.com/mcp' } } }), into, {
      rename: true,
    });
    expect(result.renamed).toEqual([{ from: 'remote', to: 'remote-3' }]);
    expect(readJson(into).mcpServers).toEqual({
      remote: { url: 'https://a.example.com/mcp' },
      'remote-2': { command: 'y' },
      'remote-3': { url: 'https://b.example.com/mcp' },
    });
  });

  it('takes only name-N, N a number, for an earlier renamed copy', () => {
    const server = { url: 'https://b.example.com/mcp' };
    // The same definition under names that are not numbered copies of "remote".
    const into = write('mcp-config.json', {
      mcpServers: {
        remote: { url: 'https://a.example.com/mcp' },
        alias: server,
        'remote-beta': server,
        'remote-beta2': server,
        'remote-2beta': server,
        remote_3: server,
      },
    });
    const result = importServers(write('from.json', { mcpServers: { remote: server } }), into, { rename: true });
    expect(result.renamed).toEqual([{ from: 'remote', to: 'remote-2' }]);

    const numbered = write('mcp-config.json', { mcpServers: { remote: { url: 'https://a.example.com/mcp' }, 'remote-10': server } });
    expect(importServers(write('from.json', { mcpServers: { remote: server } }), numbered, { rename: true }).skipped).toEqual([
      { name: 'remote', reason: 'already present as "remote-10"' },
    ]);
  });

  it('keeps a renamed name of a 64-character server within the name limit', () => {
    const long = 'a'.repeat(64);
    const into = write('mcp-config.json', { mcpServers: { [long]: { command: 'x' } } });
    const from = write('from.json', { mcpServers: { [long]: { command: 'y' } } });
    const result = importServers(from, into, { rename: true });
    const to = `${'a'.repeat(62)}-2`;
    expect(result.renamed).toEqual([{ from: long, to }]);
    expect(loadConfig(into, {}).config.mcpServers[to]).toMatchObject({ command: 'y' });
    // A rerun finds that copy under its shortened name.
    expect(importServers(from, into, { rename: true }).skipped).toEqual([{ name: long, reason: `already present as "${to}"` }]);
  });

  it('writes atomically and keeps the file mode', () => {
    const into = target();
    fs.chmodSync(into, 0o600);
    importServers(write('from.json', { mcpServers: { extra: { command: 'z' } } }), into);
    expect(fs.statSync(into).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('importServers: YAML target', () => {
  it('merges into YAML, keeping comments and other keys', () => {
    const into = write('mcp-config.yaml', '# my servers\norch:\n  port: 9000 # custom port\nmcpServers:\n  a:\n    command: x\n');
    const result = importServers(write('from.json', { mcpServers: { b: { url: 'https://b.example.com/mcp', autoApprove: ['t'] } } }), into);
    expect(result.added).toEqual(['b']);
    const text = fs.readFileSync(into, 'utf8');
    expect(text).toContain('# my servers');
    expect(text).toContain('# custom port');
    expect(YAML.parse(text)).toEqual({
      orch: { port: 9000 },
      mcpServers: { a: { command: 'x' }, b: { url: 'https://b.example.com/mcp', autoApprove: ['t'] } },
    });
  });

  it('creates a new YAML target', () => {
    const into = path.join(dir, 'mcp-config.yml');
    importServers(write('from.json', { mcpServers: { a: { command: 'x' } } }), into);
    expect(YAML.parse(fs.readFileSync(into, 'utf8'))).toEqual({ mcpServers: { a: { command: 'x' } } });
  });
});
