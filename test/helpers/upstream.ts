/** A fixture server (or any server entry) as an Upstream in this process (not started), for unit tests of what sits on the pool. */
import { expect } from 'vitest';
import { configSchema, type ServerConfig } from '../../src/config/schema.js';
import { supervisionFor } from '../../src/config/supervision.js';
import { OrchError } from '../../src/errors.js';
import type { Logger } from '../../src/log.js';
import { spawnChild } from '../../src/supervisor/childProcess.js';
import type { UpstreamDeps } from '../../src/upstream/deps.js';
import { Upstream } from '../../src/upstream/upstream.js';
import { fixtureServer, type FixtureName } from './fixtures.js';

export interface UpstreamOptions extends Partial<Omit<UpstreamDeps, 'logger'>> {
  logger: Logger;
}

export function fixtureUpstream(
  name: string,
  fixture: FixtureName,
  options: UpstreamOptions & { /** Keys of the server's entry beside command and args (env, timeout, isolation, ...). */ entry?: object },
): Upstream {
  const { entry, ...rest } = options;
  return configuredUpstream(name, { ...fixtureServer(fixture), ...entry }, rest);
}

/** An Upstream for one `mcpServers` entry as the config file would give it (defaults applied). */
export function configuredUpstream(name: string, entry: object, options: UpstreamOptions): Upstream {
  const config = configSchema.parse({ mcpServers: { [name]: entry } });
  const server = config.mcpServers[name] as ServerConfig;
  return new Upstream(name, server, {
    spawnChild,
    clientInfo: { name: 'mcp-orch', version: '0.0.0-test' },
    stopGraceMs: 2000,
    supervision: supervisionFor(server, config.orch),
    onServerRequest: () => Promise.reject(new Error(`${name} sends no requests in this test`)),
    ...options,
  });
}

/** What `promise` rejected with, which must be an OrchError. */
export async function orchErrorOf(promise: Promise<unknown>): Promise<OrchError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(OrchError);
  return error as OrchError;
}

/** What `run` threw, which must be an OrchError. */
export function orchErrorFrom(run: () => unknown): OrchError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OrchError);
    return error as OrchError;
  }
  throw new Error('expected an OrchError to be thrown');
}
