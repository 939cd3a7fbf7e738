import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configSchema, type ServerConfig } from '../config/schema.js';
import { clientCapabilitiesFor, configuredRoots } from './roots.js';

function server(entry: Record<string, unknown>): ServerConfig {
  return configSchema.parse({ mcpServers: { s: entry } }).mcpServers.s as ServerConfig;
}

describe('configuredRoots', () => {
  it('offers none when the config names none', () => {
    expect(configuredRoots(server({ command: 'node' }))).toBeUndefined();
  });

  it("takes relative paths from the server's cwd, keeps URIs as they are, and names each root as configured", () => {
    const cwd = path.resolve('/srv/work');
    const roots = configuredRoots(
      server({ command: 'node', cwd, roots: ['data', '/abs/dir', 'file:///already/uri', 'S3+x.y-z://bucket'] }),
    );
    expect(roots).toEqual([
      { uri: pathToFileURL(path.join(cwd, 'data')).href, name: 'data' },
      { uri: pathToFileURL(path.resolve('/abs/dir')).href, name: '/abs/dir' },
      { uri: 'file:///already/uri', name: 'file:///already/uri' },
      { uri: 'S3+x.y-z://bucket', name: 'S3+x.y-z://bucket' },
    ]);
  });

  it("takes relative paths from the daemon's directory for a server without cwd (a remote one too)", () => {
    const expected = [{ uri: pathToFileURL(path.resolve(process.cwd(), 'data')).href, name: 'data' }];
    expect(configuredRoots(server({ command: 'node', roots: ['data'] }))).toEqual(expected);
    expect(configuredRoots(server({ url: 'http://127.0.0.1:1/mcp', roots: ['data'] }))).toEqual(expected);
  });

  it('takes a path that only contains "://" later on, or starts with a digit, for a path', () => {
    const roots = configuredRoots(server({ command: 'node', cwd: '/w', roots: ['a/b://c', '1x://y'] }))!;
    expect(roots.map((root) => root.uri)).toEqual([
      pathToFileURL(path.resolve('/w', 'a/b://c')).href,
      pathToFileURL(path.resolve('/w', '1x://y')).href,
    ]);
  });
});

describe('clientCapabilitiesFor', () => {
  const always = { sampling: {}, elicitation: { form: {}, url: {} } };

  it("declares roots with list changes for one session's own instance", () => {
    expect(clientCapabilitiesFor(true, undefined)).toEqual({ ...always, roots: { listChanged: true } });
  });

  it('declares fixed roots for a shared server that has configured ones, and none otherwise', () => {
    expect(clientCapabilitiesFor(false, [{ uri: 'file:///x' }])).toEqual({ ...always, roots: {} });
    expect(clientCapabilitiesFor(false, undefined)).toEqual(always);
  });
});
