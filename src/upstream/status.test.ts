import { describe, expect, it } from 'vitest';
import { configuredUpstream, fixtureUpstream } from '../../test/helpers/upstream.js';
import { parseConfigText } from '../config/load.js';
import { supervisionFor } from '../config/supervision.js';
import { createLogger } from '../log.js';
import { spawnChild } from '../supervisor/childProcess.js';
import { UpstreamPool } from './pool.js';
import { poolStatus, serverStatus, serverStatusSchema } from './status.js';
import { Upstream } from './upstream.js';

const logger = createLogger({ level: 'silent' });

describe('serverStatus', () => {
  it('describes a stopped stdio server from its config alone', () => {
    const upstream = configuredUpstream(
      'files',
      { command: 'node', args: ['server.js', '--root', '/srv'], group: ['a', 'b'], dependsOn: ['db'], isolation: 'session' },
      { logger },
    );
    const status = serverStatus(upstream);
    expect(status).toEqual({
      name: 'files',
      type: 'stdio',
      target: 'node server.js --root /srv',
      state: 'stopped',
      era: null,
      modernOnly: false,
      pid: null,
      isolation: 'session',
      instances: 0,
      tools: 0,
      prompts: 0,
      resources: 0,
      error: null,
      warning: null,
      groups: ['a', 'b'],
      dependsOn: ['db'],
      rules: null,
    });
    expect(serverStatusSchema.parse(status)).toEqual(status);
  });

  it('shows where a remote server points without its credentials or query, and its transport', () => {
    const status = (entry: object) => serverStatus(configuredUpstream('remote', entry, { logger }));
    expect(status({ url: 'https://user:secret@example.com:8443/mcp?token=abc#frag' })).toMatchObject({
      type: 'streamable-http',
      target: 'https://example.com:8443/mcp#frag',
      groups: [],
      dependsOn: [],
      isolation: 'shared',
    });
    expect(status({ type: 'sse', url: 'http://example.com/sse' })).toMatchObject({ type: 'sse', target: 'http://example.com/sse' });
    expect(status({ type: 'http', url: 'http://example.com/mcp' }).type).toBe('streamable-http');
  });

  it('shows the url of a server whose url secret is not at hand as written, the reference and no value', () => {
    // Such a server stays in the config, disabled and with its url unfilled (no URL at all), and
    // status lists it among the others.
    const text = JSON.stringify({ mcpServers: { vault: { url: '${secret:endpoint}/mcp' } } });
    const { config, unavailable } = parseConfigText(text, 'c.json', {});
    expect(Object.keys(unavailable)).toEqual(['vault']);
    const server = config.mcpServers.vault!;
    const upstream = new Upstream('vault', server, {
      logger,
      spawnChild,
      clientInfo: { name: 'mcp-orch', version: '0.0.0-test' },
      stopGraceMs: 2000,
      supervision: supervisionFor(server, config.orch),
      onServerRequest: () => Promise.reject(new Error('vault sends no requests in this test')),
    });
    expect(serverStatus(upstream)).toMatchObject({ name: 'vault', type: 'streamable-http', target: '${secret:endpoint}/mcp' });
  });

  it('gives the filters and overrides that shape what clients see, as configured', () => {
    const upstream = configuredUpstream(
      'shaped',
      { command: 'node', tools: ['read_*'], overrides: { read_file: { title: 'Read' } }, group: 'g' },
      { logger },
    );
    expect(serverStatus(upstream)).toMatchObject({
      rules: { tools: { allow: ['read_*'] }, overrides: { read_file: { title: 'Read' } } },
      groups: ['g'],
    });
  });

  it('counts a running server’s lists and warns of the lines it wrote to stdout that are not messages', async () => {
    const upstream = fixtureUpstream('noisy', 'noisy', { logger, entry: { restart: 'never' } });
    try {
      await upstream.start();
      const status = serverStatus(upstream);
      expect(status).toMatchObject({ state: 'running', era: '2025-11-25', tools: 3, prompts: 0, resources: 0, error: null });
      expect(status.pid).toBe(upstream.pid);
      const first = upstream.logs.firstStdout!;
      expect(status.warning).toBe(
        'wrote 2 lines to stdout that are not JSON-RPC, skipped and kept in its log (`mcp-orch logs noisy`); the first at ' +
          `${new Date(first.time).toISOString()}: "Starting noisy server...". Servers should log to stderr`,
      );
      expect(poolStatusOf(upstream)).toEqual([status]);

      // A message broken by a newline: the stream cannot be trusted, the request fails with why.
      await expect(upstream.request('tools/call', { name: 'break', arguments: {} })).rejects.toThrow(
        'server "noisy" went away during tools/call: wrote a line to stdout that breaks off inside a JSON-RPC message',
      );
      await upstream.lifecycle.waitFor((state) => state === 'crashed', 20_000);
      expect(serverStatus(upstream).error).toMatch(/^wrote a line to stdout that breaks off inside a JSON-RPC message/);
    } finally {
      await upstream.close();
    }
  });

  it('quotes one stray line in the singular, cut at 200 characters', () => {
    const upstream = configuredUpstream('chatty', { command: 'node' }, { logger });
    upstream.logs.pushStdout(`${'x'.repeat(200)}`);
    expect(serverStatus(upstream).warning).toMatch(new RegExp(`^wrote 1 line to stdout that is not JSON-RPC, .*: "x{200}"\\. Servers`));
    const long = configuredUpstream('chatty', { command: 'node' }, { logger });
    long.logs.pushStdout(`${'y'.repeat(201)}`);
    expect(serverStatus(long).warning).toMatch(new RegExp(`: "y{200}…"\\. Servers should log to stderr$`));
  });
});

function poolStatusOf(...upstreams: ReturnType<typeof configuredUpstream>[]) {
  const pool = new UpstreamPool();
  for (const upstream of upstreams) pool.add(upstream);
  return poolStatus(pool);
}
