import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editConfigFile } from './edit.js';

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
