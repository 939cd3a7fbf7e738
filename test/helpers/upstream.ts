/** A fixture server as an Upstream in this process (not started), for unit tests of what sits on the pool. */
import { configSchema, type ServerConfig } from '../../src/config/schema.js';
import { supervisionFor } from '../../src/config/supervision.js';
import type { Logger } from '../../src/log.js';
import { spawnChild } from '../../src/supervisor/childProcess.js';
import type { UpstreamDeps } from '../../src/upstream/deps.js';
import { Upstream } from '../../src/upstream/upstream.js';
import { fixtureServer, type FixtureName } from './fixtures.js';

export function fixtureUpstream(
  name: string,
  fixture: FixtureName,
  options: { logger: Logger; onServerRequest?: UpstreamDeps['onServerRequest'] },
): Upstream {
  const config = configSchema.parse({ mcpServers: { [name]: fixtureServer(fixture) } });
  const server = config.mcpServers[name] as ServerConfig;
  return new Upstream(name, server, {
    logger: options.logger,
    spawnChild,
    clientInfo: { name: 'mcp-orch', version: '0.0.0-test' },
    stopGraceMs: 2000,
    supervision: supervisionFor(server, config.orch),
    onServerRequest: options.onServerRequest ?? (() => Promise.reject(new Error(`${fixture} sends no requests in this test`))),
  });
}
