/**
 * A Gateway in the test's own process over a real store and a started echo fixture as its one
 * upstream (`echo`): what unit tests of the gateway send web-standard Requests to.
 */
import { createAccess } from '../../src/auth/access.js';
import { createRateLimiter } from '../../src/auth/rateLimit.js';
import { orchSchema } from '../../src/config/schema.js';
import { Gateway, type GatewayOptions } from '../../src/gateway/gateway.js';
import type { Limits } from '../../src/gateway/limits.js';
import { createLogger } from '../../src/log.js';
import { UpstreamPool } from '../../src/upstream/pool.js';
import { tempStore, type TempStore } from './store.js';
import { fixtureUpstream } from './upstream.js';

export interface TestGateway {
  gateway: Gateway;
  pool: UpstreamPool;
  temp: TempStore;
  close(): Promise<void>;
}

export async function startTestGateway(
  options: { limits?: Partial<Limits> } & Partial<Pick<GatewayOptions, 'observers' | 'sessionIdleMs'>> = {},
): Promise<TestGateway> {
  const logger = createLogger({ level: 'silent' });
  const defaults = orchSchema.parse({});
  const temp = tempStore();
  temp.store.projects.create({ slug: 'default' });
  const pool = new UpstreamPool();
  const gateway = new Gateway({
    pool,
    logger,
    separator: '__',
    version: '0.0.0-test',
    limits: { ...defaults.limits, ...options.limits },
    cacheMaxBytes: defaults.cache.maxMb * 1024 * 1024,
    access: createAccess({ store: temp.store, rateLimiter: createRateLimiter(), defaults: defaults.rateLimit }),
    ...(options.observers ? { observers: options.observers } : {}),
    ...(options.sessionIdleMs !== undefined ? { sessionIdleMs: options.sessionIdleMs } : {}),
  });
  const upstream = fixtureUpstream('echo', 'echo', { logger, onServerRequest: gateway.routeServerRequest });
  pool.add(upstream);
  await upstream.start();
  return {
    gateway,
    pool,
    temp,
    async close() {
      await gateway.close();
      await Promise.all(pool.all().map((each) => each.close()));
      temp.close();
    },
  };
}
