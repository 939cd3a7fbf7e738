import { describe, expect, it } from 'vitest';
import { configSchema } from './schema.js';
import { supervisionFor } from './supervision.js';

describe('supervisionFor', () => {
  it('layers the server over orch.defaults over the built-in defaults, nested objects key by key', () => {
    const config = configSchema.parse({
      orch: { defaults: { restart: 'always', health: { intervalSec: 5 }, maxRestarts: 2 } },
      mcpServers: { a: { command: 'x', health: { failureThreshold: 1 }, maxRestarts: 9 }, b: { command: 'y' } },
    });
    const a = supervisionFor(config.mcpServers.a!, config.orch);
    expect(a.restart).toBe('always');
    expect(a.maxRestarts).toBe(9);
    expect(a.health).toEqual({ intervalSec: 5, timeoutSec: 5, failureThreshold: 1 });
    const b = supervisionFor(config.mcpServers.b!, config.orch);
    expect(b.maxRestarts).toBe(2);
    expect(b.health.failureThreshold).toBe(3);
    expect(b.backoff).toEqual({ initialMs: 1000, maxMs: 30_000 });
  });

  it('layers backoff key by key too', () => {
    const config = configSchema.parse({
      orch: { defaults: { backoff: { initialMs: 10 } } },
      mcpServers: { a: { command: 'x', backoff: { maxMs: 5000 } } },
    });
    expect(supervisionFor(config.mcpServers.a!, config.orch).backoff).toEqual({ initialMs: 10, maxMs: 5000 });
  });

  it('rejects unknown nested keys and bad values', () => {
    expect(configSchema.safeParse({ mcpServers: { a: { command: 'x', restart: 'sometimes' } } }).success).toBe(false);
    expect(configSchema.safeParse({ mcpServers: { a: { command: 'x', health: { every: 3 } } } }).success).toBe(false);
  });
});
