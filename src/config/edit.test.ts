import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editConfigFile, openConfigEdit, writeAtomic } from './edit.js';

describe('editConfigFile', () => {
  const dirs: string[] = [];
  const file = (name: string, text: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-edit-'));
    dirs.push(dir);
    const at = path.join(dir, name);
    fs.writeFileSync(at, text, { mode: 0o600 });
    return at;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a YAML file’s comments, key order and other servers', () => {
    const at = file(
      'mcp-config.yaml',
      [
        '# my servers',
        'orch:',
        '  port: 9000 # fixed',
        'mcpServers:',
        '  # the first one',
        '  first:',
        '    command: a',
        '  second:',
        '    command: b',
        '',
      ].join('\n'),
    );
    editConfigFile(at, (edit) => {
      edit.set('first', { command: 'a2', args: ['x'] });
      edit.set('third', { command: 'c', source: { git: 'https://example.com/r.git', commit: 'f'.repeat(40) } });
      edit.delete('second');
    });
    const text = fs.readFileSync(at, 'utf8');
    expect(text).toContain('# my servers');
    expect(text).toContain('port: 9000 # fixed');
    expect(text).toContain('# the first one');
    expect(text.indexOf('orch:')).toBeLessThan(text.indexOf('mcpServers:'));
    expect(text.indexOf('first:')).toBeLessThan(text.indexOf('third:'));
    expect(text).not.toContain('second:');
    expect(text).toContain('command: a2');
    expect((fs.statSync(at).mode & 0o777).toString(8)).toBe('600');
  });

  it('keeps a JSON file’s other keys and the order of its servers', () => {
    const at = file(
      'mcp-config.json',
      JSON.stringify({ $schema: 'x', mcpServers: { b: { command: 'b' }, a: { command: 'a' } }, orch: { port: 1 } }),
    );
    editConfigFile(at, (edit) => {
      edit.set('b', { command: 'b2' });
      edit.set('c', { command: 'c' });
    });
    const data = JSON.parse(fs.readFileSync(at, 'utf8')) as { mcpServers: Record<string, { command: string }> };
    expect(Object.keys(data)).toEqual(['$schema', 'mcpServers', 'orch']);
    expect(Object.entries(data.mcpServers).map(([name, server]) => `${name}=${server.command}`)).toEqual(['b=b2', 'a=a', 'c=c']);
  });
});

describe('openConfigEdit', () => {
  it('edits JSON keeping its key order and indentation; a replaced server keeps its place', () => {
    const text =
      '{\n    "$schema": "x",\n    "mcpServers": {\n        "b": {"command": "b"},\n        "a": {"command": "a"}\n    },\n    "orch": {"port": 1}\n}\n';
    const doc = openConfigEdit('mcp-config.json', text);
    doc.set('b', { command: 'b2' });
    doc.set('c', { url: 'https://example.com/mcp' });
    const out = doc.text();
    expect(doc.data).toEqual(JSON.parse(out));
    expect(Object.keys(JSON.parse(out) as object)).toEqual(['$schema', 'mcpServers', 'orch']);
    expect(Object.keys((JSON.parse(out) as { mcpServers: object }).mcpServers)).toEqual(['b', 'a', 'c']);
    expect(out).toContain('\n    "mcpServers": {\n        "b": {\n            "command": "b2"');
  });

  it('refuses a file without an mcpServers object, saying what it expected', () => {
    for (const text of ['{"mcpServers": []}', '[]']) {
      expect(() => openConfigEdit('x.json', text)).toThrow(
        expect.objectContaining({
          code: 'CONFIG_INVALID',
          message: 'x.json: expected an object with "mcpServers": {...}',
          hint: 'fix the config file first, or use another one with --config',
        }),
      );
    }
  });

  it('deletes a JSON server, and takes the indentation from the start of a line', () => {
    const doc = openConfigEdit(
      'mcp-config.json',
      '{"orch": {"port": 1},\n   "mcpServers": {"a": {"command": "a"}, "b": {"command": "b"}}}',
    );
    doc.delete('a');
    expect(doc.servers).toEqual({ b: { command: 'b' } });
    expect(doc.text()).toBe(
      '{\n   "orch": {\n      "port": 1\n   },\n   "mcpServers": {\n      "b": {\n         "command": "b"\n      }\n   }\n}\n',
    );
  });

  it('starts a new file with an empty server map, in JSON and YAML', () => {
    expect(openConfigEdit('mcp-config.json', undefined).text()).toBe('{\n  "mcpServers": {}\n}\n');
    expect(openConfigEdit('mcp-config.yaml', undefined).text()).toBe('mcpServers: {}\n');
  });
});

describe('writeAtomic', () => {
  const dirs: string[] = [];
  const tmpDir = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-write-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a mode wider than the umask allows a new file', () => {
    const at = path.join(tmpDir(), 'c.json');
    fs.writeFileSync(at, '{}');
    fs.chmodSync(at, 0o666);
    writeAtomic(at, '{"a": 1}');
    expect(fs.statSync(at).mode & 0o777).toBe(0o666);
    expect(fs.readFileSync(at, 'utf8')).toBe('{"a": 1}');
  });

  it('gives a new file the mode asked for', () => {
    const at = path.join(tmpDir(), 'new', 'record.json');
    writeAtomic(at, 'x', 0o600);
    expect(fs.statSync(at).mode & 0o777).toBe(0o600);
  });

  it('leaves no temp file behind when the replace fails', () => {
    const dir = tmpDir();
    const at = path.join(dir, 'taken');
    fs.mkdirSync(at);
    fs.writeFileSync(path.join(at, 'inside'), '');
    expect(() => writeAtomic(at, 'x')).toThrow();
    expect(fs.readdirSync(dir)).toEqual(['taken']);
  });
});
