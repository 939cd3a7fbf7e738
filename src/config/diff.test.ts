import { describe, expect, it } from 'vitest';
import { diffConfigs } from './diff.js';
import { configSchema, type Config } from './schema.js';

const config = (value: unknown): Config => configSchema.parse(value);

const base = {
  mcpServers: {
    fs: { command: 'npx', args: ['-y', 'fs'] },
    web: { url: 'https://example.com/mcp' },
    off: { command: 'x', disabled: true },
  },
};

describe('diffConfigs', () => {
  it('finds nothing to do between equal configs', () => {
    const diff = diffConfigs(config(base), config(structuredClone(base)));
    expect(diff).toEqual({
      added: [],
      removed: [],
      changed: [],
      unchanged: ['fs', 'web'],
      updated: [],
      restartRequired: [],
      settingsChanged: [],
    });
  });

  it('sorts servers into added, removed, changed and unchanged', () => {
    const next = {
      mcpServers: {
        fs: { command: 'npx', args: ['-y', 'fs', '/tmp'] },
        mem: { command: 'mem' },
        off: { command: 'x', disabled: true },
      },
    };
    const diff = diffConfigs(config(base), config(next));
    expect(diff).toMatchObject({ added: ['mem'], removed: ['web'], changed: ['fs'], unchanged: [] });
  });

  it('compares parsed servers, so spelled-out defaults are no change', () => {
    const next = { mcpServers: { ...base.mcpServers, fs: { command: 'npx', args: ['-y', 'fs'], env: {}, timeout: 30, disabled: false } } };
    expect(diffConfigs(config(base), config(next)).unchanged).toEqual(['fs', 'web']);
  });

  it('treats disabling as removal and enabling as addition', () => {
    const next = { mcpServers: { fs: { ...base.mcpServers.fs, disabled: true }, web: base.mcpServers.web, off: { command: 'x' } } };
    expect(diffConfigs(config(base), config(next))).toMatchObject({ added: ['off'], removed: ['fs'], changed: [], unchanged: ['web'] });
  });

  it('sees a change in any nested field', () => {
    const next = { mcpServers: { ...base.mcpServers, web: { url: 'https://example.com/mcp', headers: { Authorization: 'Bearer x' } } } };
    expect(diffConfigs(config(base), config(next)).changed).toEqual(['web']);
  });

  it('applies filters, overrides, groups and dependencies without a restart', () => {
    const next = {
      mcpServers: {
        ...base.mcpServers,
        fs: { ...base.mcpServers.fs, tools: { deny: ['write_*'] }, overrides: { read: { description: 'Reads' } }, group: 'files' },
        web: { ...base.mcpServers.web, dependsOn: ['fs'], prompts: ['a*'] },
      },
    };
    expect(diffConfigs(config(base), config(next))).toMatchObject({ changed: [], unchanged: ['fs', 'web'], updated: ['fs', 'web'] });
    const restarted = { mcpServers: { ...next.mcpServers, fs: { ...next.mcpServers.fs, args: ['-y', 'fs', '/tmp'] } } };
    expect(diffConfigs(config(next), config(restarted))).toMatchObject({ changed: ['fs'], updated: [] });
  });

  it('applies pinning and alerts without a daemon restart', () => {
    const next = config({ ...base, orch: { pinning: 'enforce', alerts: [{ url: 'https://hooks.example.com/x' }] } });
    expect(diffConfigs(config(base), next)).toMatchObject({ settingsChanged: ['alerts', 'pinning'], restartRequired: [] });
  });

  it('lists every changed orch setting but defaults as needing a restart', () => {
    const old = config({ ...base, orch: { port: 8000, logLevel: 'info' } });
    const next = config({
      ...base,
      orch: { port: 9000, host: '0.0.0.0', dataDir: '/data', logLevel: 'debug', defaults: { maxRestarts: 2 } },
    });
    const diff = diffConfigs(old, next);
    expect(diff.restartRequired).toEqual(['dataDir', 'host', 'logLevel', 'port']);
    expect(diff.settingsChanged).toEqual(['dataDir', 'defaults', 'host', 'logLevel', 'port']);
    expect(diff.changed).toEqual(['fs', 'web']);
  });
});

describe('supervision defaults', () => {
  it('a changed orch.defaults changes the servers that inherit it, not those that override it', () => {
    const before = configSchema.parse({ mcpServers: { a: { command: 'x' }, b: { command: 'y', restart: 'never' } } });
    const after = configSchema.parse({
      orch: { defaults: { restart: 'always' } },
      mcpServers: { a: { command: 'x' }, b: { command: 'y', restart: 'never' } },
    });
    const diff = diffConfigs(before, after);
    expect(diff.changed).toEqual(['a']);
    expect(diff.unchanged).toEqual(['b']);
  });

  it('writing a default out explicitly is no change', () => {
    const before = configSchema.parse({ mcpServers: { a: { command: 'x' } } });
    const after = configSchema.parse({ mcpServers: { a: { command: 'x', restart: 'on-failure', health: { intervalSec: 10 } } } });
    expect(diffConfigs(before, after).unchanged).toEqual(['a']);
  });
});
