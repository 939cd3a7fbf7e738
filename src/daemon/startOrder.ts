import { stopLayers } from '../config/fleet.js';
import type { ServerConfig } from '../config/schema.js';
import type { ControlAction } from '../http/api/deps.js';
import type { Logger } from '../log.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { describeError } from '../upstream/connection.js';

/**
 * `dependsOn` carried out: a server starts once the servers it depends on are running (each start,
 * restarts included, waits for them), a person's start brings up its stopped dependencies first, and
 * several servers stop dependents first. A dependency that will not run (disabled, stopped by a
 * person, crashed, or not running within its timeout) is logged and the server starts without it.
 */

export interface StartOrder {
  /** For a server's upstream: resolves when its dependencies are running or will not be. */
  waitForDependencies(name: string, signal: AbortSignal): Promise<void>;
  /** Starts a server's stopped or crashed dependencies, theirs first (a person asked to start it). */
  startDependencies(name: string): Promise<void>;
  /** Starts, stops or restarts several servers: stops and restarts take dependents down first. */
  controlMany(
    names: readonly string[],
    action: ControlAction,
    control: (name: string, action: ControlAction) => Promise<void>,
  ): Promise<void>;
  /** Runs `stop` over `names` layer by layer, dependents first (by `servers`' dependsOn, the config's by default). */
  stopInOrder(names: readonly string[], stop: (name: string) => Promise<void>, servers?: Record<string, ServerConfig>): Promise<void>;
}

export function createStartOrder(pool: UpstreamPool, servers: () => Record<string, ServerConfig>, logger: Logger): StartOrder {
  const log = logger.child({ component: 'start-order' });
  const dependsOn = (name: string): string[] => servers()[name]?.dependsOn ?? [];

  const stopInOrder: StartOrder['stopInOrder'] = async (names, stop, given = servers()) => {
    for (const layer of stopLayers(names, given)) await Promise.all(layer.map(stop));
  };

  const startDependencies = async (name: string, seen = new Set<string>([name])): Promise<void> => {
    await Promise.all(
      dependsOn(name).map(async (dependency) => {
        const upstream = pool.get(dependency);
        if (!upstream || seen.has(dependency)) return;
        seen.add(dependency);
        await startDependencies(dependency, seen);
        if (upstream.state === 'stopped' || upstream.state === 'crashed') {
          await upstream.lifecycle.start(`start requested for ${name}, which depends on it`);
        }
      }),
    );
  };

  return {
    async waitForDependencies(name, signal) {
      await Promise.all(
        dependsOn(name).map(async (dependency) => {
          const upstream = pool.get(dependency);
          if (!upstream || upstream.state === 'running') return;
          log.info({ server: name, dependency }, `${name} waits for ${dependency} to be running`);
          try {
            await untilAborted(upstream.ready(), signal);
          } catch (error) {
            if (signal.aborted) return;
            log.warn({ server: name, dependency, err: describeError(error) }, `${name} starts without ${dependency}, which is not running`);
          }
        }),
      );
    },
    startDependencies: (name) => startDependencies(name),
    async controlMany(names, action, control) {
      if (action === 'start') {
        await Promise.all(names.map((name) => control(name, 'start')));
        return;
      }
      if (action === 'stop') {
        await stopInOrder(names, (name) => control(name, 'stop'));
        return;
      }
      // A restart of several: all down, dependents first, then all up (each waits for what it needs).
      log.info({ servers: names }, 'restart requested');
      await stopInOrder(names, async (name) => pool.get(name)?.lifecycle.stop('restart requested', 'restarting'));
      await Promise.all(names.map(async (name) => pool.get(name)?.lifecycle.restart('restart requested')));
    },
    stopInOrder,
  };
}

/** `promise`, or a rejection as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
