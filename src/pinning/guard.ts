import type { AuditSink } from '../audit/writer.js';
import type { PinningMode } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { PinsRepo } from '../store/pins.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { definitionChanges, definitionHash, toolDefinition } from './definitions.js';

/**
 * The rug-pull guard: every tool a server lists is compared with its pinned definition whenever the
 * server's tool list is read (at connect, on list_changed). A tool seen for the first time is pinned
 * as it is; a tool whose definition differs is recorded as pending, logged and audited, and with
 * `enforce` withheld from every view until someone approves it (`mcp-orch tools approve`, the API).
 * An approval, or the server offering the approved definition again, brings it back, and clients
 * hear that the tool list changed.
 */

export interface PinStatus {
  /** Tools whose definition differs from the approved one. */
  changed: string[];
  /** Those of them withheld from clients (`enforce`). */
  held: string[];
}

export interface PinGuard {
  readonly mode: PinningMode;
  /** Why clients may not see a server's tool now, or undefined. */
  held(server: string, tool: string): string | undefined;
  status(server: string): PinStatus;
  /** `orch.pinning` changed (a reload): holds follow at once. */
  setMode(mode: PinningMode): void;
  /** The store changed (an approval, maybe by another process): every server is compared again. */
  refresh(): void;
  close(): void;
}

export interface PinGuardOptions {
  pool: UpstreamPool;
  pins: PinsRepo;
  audit: AuditSink;
  logger: Logger;
  mode: PinningMode;
}

export function createPinGuard(options: PinGuardOptions): PinGuard {
  const { pool, pins, audit } = options;
  const log = options.logger.child({ component: 'pinning' });
  let mode = options.mode;
  /** By server: the tools whose offered definition differs from the approved one, with the offered hash. */
  const changed = new Map<string, Map<string, string>>();

  const heldOf = (server: string): string[] => (mode === 'enforce' ? [...(changed.get(server)?.keys() ?? [])].sort() : []);

  /** Compares a server's tools with their pins; records first sightings and new changes. */
  const compare = (upstream: Upstream): void => {
    const server = upstream.name;
    if (mode === 'off') {
      changed.delete(server);
      return;
    }
    const known = new Map(pins.list(server).map((pin) => [pin.tool, pin]));
    const differing = new Map<string, string>();
    for (const tool of upstream.catalog.tools) {
      const definition = toolDefinition(tool);
      const hash = definitionHash(definition);
      const pin = known.get(tool.name);
      if (!pin) {
        pins.record(server, tool.name, hash, definition);
        continue;
      }
      if (pin.hash === hash) {
        if (pin.pending) {
          pins.setPending(server, tool.name, undefined);
          audit.record({ type: 'tool.reverted', server, tool: tool.name, hash });
          log.info({ server, tool: tool.name }, 'tool offered with its approved definition again');
        }
        continue;
      }
      differing.set(tool.name, hash);
      if (pin.pending?.hash === hash) continue; // known, recorded and reported before
      pins.setPending(server, tool.name, { hash, definition });
      const fields = definitionChanges(pin.definition, definition).map((change) => change.field);
      const event = { server, tool: tool.name, hash, previous: pin.hash, fields };
      audit.record({ type: mode === 'enforce' ? 'tool.held' : 'tool.changed', ...event });
      log.warn(
        { server, tool: tool.name, fields },
        `tool "${tool.name}" of server "${server}" changed its ${fields.join(', ')} since it was approved; ` +
          `${mode === 'enforce' ? 'withheld from clients until approved' : 'clients see the new definition'}: ` +
          `mcp-orch tools diff ${server}, then mcp-orch tools approve ${server} ${tool.name}`,
      );
    }
    changed.set(server, differing);
  };

  const safely = (upstream: Upstream, what: string): void => {
    try {
      compare(upstream);
    } catch (error) {
      log.error({ server: upstream.name, err: (error as Error).message }, `could not compare tool definitions (${what})`);
    }
  };

  const heldNow = (): Map<string, string[]> => new Map(pool.all().map((upstream) => [upstream.name, heldOf(upstream.name)]));

  /**
   * Compares every server again; clients of those whose held tools differ from `before` hear that
   * their tools changed.
   */
  const recompare = (what: string, before = heldNow()): void => {
    for (const upstream of pool.all()) {
      if (!upstream.available) continue;
      safely(upstream, what);
      if (heldOf(upstream.name).join('\n') !== (before.get(upstream.name) ?? []).join('\n')) pool.relist(upstream, 'tools');
    }
  };

  const onCatalog = (upstream: Upstream, kind: string): void => {
    // A session's own instance lists what the shared server lists: the server is compared once.
    if (kind === 'tools' && upstream.owner === undefined) safely(upstream, 'tool list read');
  };
  pool.on('catalog', onCatalog);

  return {
    get mode() {
      return mode;
    },
    held(server, tool) {
      if (mode !== 'enforce') return undefined;
      const hash = changed.get(server)?.get(tool);
      return hash === undefined ? undefined : `held by pinning: its definition changed (now ${hash.slice(0, 19)}) and awaits approval`;
    },
    status: (server) => ({ changed: [...(changed.get(server)?.keys() ?? [])].sort(), held: heldOf(server) }),
    setMode(next) {
      if (next === mode) return;
      const before = heldNow();
      mode = next;
      log.info({ mode }, 'pinning mode changed');
      recompare('pinning mode changed', before);
      for (const [server, was] of before) {
        for (const tool of heldOf(server).filter((name) => !was.includes(name))) {
          audit.record({ type: 'tool.held', server, tool, hash: changed.get(server)?.get(tool) });
        }
      }
    },
    refresh: () => recompare('store changed'),
    close: () => pool.off('catalog', onCatalog),
  };
}
