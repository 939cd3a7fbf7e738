import { isDeepStrictEqual } from 'node:util';
import { LIVE_SERVER_KEYS, type Config, type OrchSettings } from './schema.js';
import { supervisionFor } from './supervision.js';

/**
 * What a config change means for the running set of servers, as plain data: the daemon carries it
 * out, and tests check it without processes. Disabled servers are not part of the running set, so enabling one is an
 * addition and disabling one a removal; servers disabled on both sides appear in no list.
 */
export interface ConfigDiff {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
  /** Running servers of `unchanged` whose filters, overrides, group or dependsOn changed: applied without a restart. */
  updated: string[];
  /**
   * orch settings that take effect when the daemon restarts: all but `defaults`, which reaches the
   * servers that inherit it as a change of each (in `changed`). The daemon reads the others once, at
   * start (the listener, the gateway, the logger).
   */
  restartRequired: string[];
  /** Every orch setting that differs. */
  settingsChanged: string[];
}

/** orch settings applied on reload: through the servers they change, or read by batch tasks as they start. */
export const LIVE_SETTINGS = ['defaults', 'pinning', 'alerts', 'batch', 'llm'] as const satisfies readonly (keyof OrchSettings)[];

/**
 * Each running server as it will actually run: its own keys plus the supervision settings in force
 * (so a change to `orch.defaults` counts as a change to every server that inherits it).
 */
function running(config: Config): Map<string, { run: unknown; live: unknown }> {
  const out = new Map<string, { run: unknown; live: unknown }>();
  for (const [name, server] of Object.entries(config.mcpServers)) {
    if (server.disabled === true) continue;
    // `disabled: false` and no `disabled` mean the same; neither should restart a child.
    const { disabled: _disabled, ...rest } = server;
    const run: Record<string, unknown> = { ...rest, ...supervisionFor(server, config.orch) };
    const live: Record<string, unknown> = {};
    for (const key of LIVE_SERVER_KEYS) {
      live[key] = run[key];
      delete run[key];
    }
    out.set(name, { run, live });
  }
  return out;
}

export function diffConfigs(old: Config, next: Config): ConfigDiff {
  const before = running(old);
  const after = running(next);
  const diff: Omit<ConfigDiff, 'restartRequired'> = {
    added: [],
    removed: [],
    changed: [],
    unchanged: [],
    updated: [],
    settingsChanged: [],
  };

  for (const [name, server] of after) {
    const previous = before.get(name);
    if (previous === undefined) diff.added.push(name);
    else if (!isDeepStrictEqual(previous.run, server.run)) diff.changed.push(name);
    else {
      diff.unchanged.push(name);
      if (!isDeepStrictEqual(previous.live, server.live)) diff.updated.push(name);
    }
  }
  for (const name of before.keys()) if (!after.has(name)) diff.removed.push(name);

  const keys = new Set([...Object.keys(old.orch), ...Object.keys(next.orch)]);
  for (const key of keys) {
    const a = (old.orch as Record<string, unknown>)[key];
    const b = (next.orch as Record<string, unknown>)[key];
    if (!isDeepStrictEqual(a, b)) diff.settingsChanged.push(key);
  }
  for (const list of Object.values(diff)) list.sort();
  return { ...diff, restartRequired: diff.settingsChanged.filter((key) => !(LIVE_SETTINGS as readonly string[]).includes(key)) };
}
