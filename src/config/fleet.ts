import type { Config, ServerConfig } from './schema.js';

/**
 * The servers as a fleet: their groups, and the order `dependsOn` gives them. Pure: the daemon
 * starts and stops by these answers, config validation reports their problems.
 */

/** A server's groups: `group` as a list (none when unset). */
export function groupsOf(server: Pick<ServerConfig, 'group'> | undefined): string[] {
  const group = server?.group;
  if (group === undefined) return [];
  return typeof group === 'string' ? [group] : group;
}

/** Every group named in the config, sorted. */
export function allGroups(servers: Record<string, Pick<ServerConfig, 'group'>>): string[] {
  return [...new Set(Object.values(servers).flatMap(groupsOf))].sort();
}

type Servers = Record<string, Pick<ServerConfig, 'dependsOn' | 'disabled'>>;

/** A server's dependencies; none for a name the config does not have. */
function dependenciesOf(servers: Servers, name: string): readonly string[] {
  // Stryker disable next-line ArrayDeclaration: a made-up dependency names no server, and every caller skips those
  return servers[name]?.dependsOn ?? [];
}

/**
 * What is wrong with the config's `dependsOn` lists, one line each (without the file): a server
 * that does not exist, a server that depends on itself, and every cycle, spelled out.
 */
export function dependencyProblems(servers: Servers): string[] {
  const names = Object.keys(servers);
  const lines: string[] = [];
  for (const [name, server] of Object.entries(servers)) {
    for (const dependency of server.dependsOn ?? []) {
      if (dependency === name) lines.push(`mcpServers.${name}.dependsOn: a server cannot depend on itself`);
      else if (!servers[dependency]) {
        lines.push(`mcpServers.${name}.dependsOn: unknown server "${dependency}"; configured servers: ${names.join(', ')}`);
      }
    }
  }
  for (const cycle of findCycles(servers)) {
    lines.push(`mcpServers.${cycle[0]}.dependsOn: a cycle: ${[...cycle, cycle[0]].join(' -> ')}; remove one of these dependencies`);
  }
  return lines;
}

/** Each cycle once, starting at its smallest name (self-dependencies are reported on their own). */
function findCycles(servers: Servers): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  // Stryker disable next-line ArrayDeclaration: a leading entry that names no server is never looked up
  const path: string[] = [];
  const visit = (name: string): void => {
    // Each server is walked once, or a fleet of shared dependencies takes exponential time.
    if (state.has(name)) return;
    state.set(name, 'visiting');
    path.push(name);
    for (const next of dependenciesOf(servers, name)) {
      if (next === name || !servers[next]) continue;
      if (state.get(next) === 'visiting') {
        const cycle = path.slice(path.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join(' '), rotated);
      } else visit(next);
    }
    path.pop();
    // Stryker disable next-line StringLiteral: any state but 'visiting' means done
    state.set(name, 'done');
  };
  for (const name of Object.keys(servers).sort()) visit(name);
  return [...cycles.values()];
}

/** Warnings for dependencies that will not run: a server that depends on a disabled one starts without it. */
export function dependencyWarnings(config: Config): string[] {
  const { mcpServers } = config;
  // Stryker disable next-line OptionalChaining: load rejects an unknown dependency before it warns
  const isDisabled = (name: string): boolean => mcpServers[name]?.disabled === true;
  return Object.keys(mcpServers)
    .filter((name) => !isDisabled(name))
    .flatMap((name) =>
      dependenciesOf(mcpServers, name)
        .filter(isDisabled)
        .map((dependency) => `mcpServers.${name}.dependsOn: "${dependency}" is disabled; ${name} starts without waiting for it`),
    );
}

/**
 * `names` in layers for stopping: every server comes in a layer before the servers it depends on
 * (among `names`), so each layer may stop at once after the one before it. Start order needs no
 * layers: each server waits for its own dependencies as it starts. The config has no cycles.
 */
export function stopLayers(names: readonly string[], servers: Servers): string[][] {
  const left = new Set(names);
  const layers: string[][] = [];
  while (left.size > 0) {
    // Those no remaining server depends on.
    const needed = new Set([...left].flatMap((name) => dependenciesOf(servers, name)));
    let layer = [...left].filter((name) => !needed.has(name));
    if (layer.length === 0) layer = [...left]; // a cycle slipped through: stop the rest together
    layers.push(layer.sort());
    for (const name of layer) left.delete(name);
  }
  return layers;
}

/** `names` with each server after the ones it depends on (a start order for a list of servers). */
export function startOrder(names: readonly string[], servers: Servers): string[] {
  return stopLayers(names, servers).reverse().flat();
}
