/** A scripted unit for the supervisor's Lifecycle, and the policy and log helpers its tests share. */
import { SUPERVISION_DEFAULTS, type Supervision } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { afterEach, beforeEach, vi } from 'vitest';
import { Lifecycle, type LifecycleDeps, type LifecycleUnit } from '../../src/supervisor/lifecycle.js';
import type { TreeSample } from '../../src/supervisor/stats.js';

export { captureLogger } from './logs.js';

export const MB = 1024 * 1024;

/** A unit whose start, stop and ping do what the test says, counting every call. */
export class FakeUnit implements LifecycleUnit {
  starts = 0;
  stops = 0;
  pings: number[] = [];
  /** What the next start does; the default comes up at once. */
  onStart: () => Promise<void> = () => Promise.resolve();
  onPing: () => Promise<void> = () => Promise.resolve();
  /** What stop waits for before it is done; the default is at once. */
  onStop: () => Promise<void> = () => Promise.resolve();
  private up = false;
  private nextPid = 1000;
  private currentPid: number | undefined;

  start(): Promise<void> {
    this.starts++;
    return this.onStart().then(() => {
      this.up = true;
      this.currentPid = this.nextPid++;
    });
  }
  stop(): Promise<void> {
    this.stops++;
    this.up = false;
    this.currentPid = undefined;
    return this.onStop();
  }
  ping(timeoutMs: number): Promise<void> {
    this.pings.push(timeoutMs);
    return this.onPing();
  }
  pid(): number | undefined {
    return this.up ? this.currentPid : undefined;
  }
}

export type PolicyOverrides = Partial<Omit<Supervision, 'backoff' | 'health'>> & {
  backoff?: Partial<Supervision['backoff']>;
  health?: Partial<Supervision['health']>;
};

/** The built-in defaults with health checks off, plus the test's changes. */
export function policy(overrides: PolicyOverrides = {}): Supervision {
  return {
    ...SUPERVISION_DEFAULTS,
    ...overrides,
    backoff: { ...SUPERVISION_DEFAULTS.backoff, ...overrides.backoff },
    health: { ...SUPERVISION_DEFAULTS.health, intervalSec: 0, ...overrides.health },
  } as Supervision;
}

export const quiet = createLogger({ level: 'silent' });
export const fail =
  (message = 'boom') =>
  () =>
    Promise.reject(new Error(message));
export const sampleOf =
  (cpuPercent: number, memoryMb: number) =>
  async (pid: number): Promise<TreeSample> => ({
    cpuPercent,
    memoryBytes: memoryMb * MB,
    pids: [pid],
  });

/** The "restarting in N ms" delays, in order, from the history. */
export function delays(lifecycle: Lifecycle): number[] {
  return lifecycle.history.flatMap((t) => {
    const match = t.to === 'restarting' ? /restarting in (\d+) ms/.exec(t.cause) : null;
    return match ? [Number(match[1])] : [];
  });
}

export const path = (lifecycle: Lifecycle): string[] => lifecycle.history.map((t) => t.to);

/**
 * For a test file: fake timers and a fresh unit for each test, and `create` for lifecycles that drive
 * it (jitter fixed at none), each stopped when its test is over.
 */
export function lifecycleFixture(): {
  readonly unit: FakeUnit;
  create(overrides?: PolicyOverrides, deps?: Partial<LifecycleDeps>): Lifecycle;
} {
  let unit = new FakeUnit();
  const lifecycles: Lifecycle[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    unit = new FakeUnit();
  });
  afterEach(async () => {
    await Promise.all(lifecycles.splice(0).map((l) => l.stop('test over')));
    vi.useRealTimers();
  });
  return {
    get unit() {
      return unit;
    },
    create(overrides = {}, deps = {}) {
      const lifecycle = new Lifecycle('fake', unit, policy(overrides), { logger: quiet, random: () => 0.5, ...deps });
      lifecycles.push(lifecycle);
      return lifecycle;
    },
  };
}
