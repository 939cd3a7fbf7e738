import type { RepoContext } from './repo.js';

/**
 * Pinned tool definitions, by server and tool: the approved definition (as first seen, or as last
 * approved) and its hash, and a different one the server offers now, if any. Definitions are JSON
 * text to the store; what is in them is pinning/'s business.
 */
export interface ToolPin {
  server: string;
  tool: string;
  hash: string;
  definition: unknown;
  approvedAt: number;
  /** What the server offers now, when it is not the approved definition. */
  pending: { hash: string; definition: unknown; seenAt: number } | undefined;
}

export interface PinsRepo {
  /** Every pin, or a server's, by server and tool. */
  list(server?: string): ToolPin[];
  get(server: string, tool: string): ToolPin | undefined;
  /** A tool seen for the first time: its definition is the approved one. */
  record(server: string, tool: string, hash: string, definition: unknown): void;
  /** The server offers another definition than the approved one (`undefined`: the approved one again). */
  setPending(server: string, tool: string, pending: { hash: string; definition: unknown } | undefined): void;
  /** Makes what is pending the approved definition: of one tool, or of every tool of the server. Returns those approved. */
  approve(server: string, tool?: string): ToolPin[];
}

interface PinRow {
  server: string;
  tool: string;
  hash: string;
  definition: string;
  approved_at: number;
  seen_hash: string | null;
  seen_definition: string | null;
  seen_at: number | null;
}

const toPin = (row: PinRow): ToolPin => ({
  server: row.server,
  tool: row.tool,
  hash: row.hash,
  definition: JSON.parse(row.definition) as unknown,
  approvedAt: row.approved_at,
  pending:
    row.seen_hash === null
      ? undefined
      : { hash: row.seen_hash, definition: JSON.parse(row.seen_definition ?? 'null') as unknown, seenAt: row.seen_at ?? 0 },
});

export function createPinsRepo({ db, clock, changed }: RepoContext): PinsRepo {
  const all = db.prepare<[], PinRow>('SELECT * FROM tool_pins ORDER BY server, tool');
  const ofServer = db.prepare<[string], PinRow>('SELECT * FROM tool_pins WHERE server = ? ORDER BY tool');
  const one = db.prepare<[string, string], PinRow>('SELECT * FROM tool_pins WHERE server = ? AND tool = ?');
  const insert = db.prepare(
    'INSERT INTO tool_pins (server, tool, hash, definition, approved_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (server, tool) DO NOTHING',
  );
  const pending = db.prepare('UPDATE tool_pins SET seen_hash = ?, seen_definition = ?, seen_at = ? WHERE server = ? AND tool = ?');
  const approve = db.prepare(
    `UPDATE tool_pins SET hash = seen_hash, definition = seen_definition, approved_at = ?, seen_hash = NULL, seen_definition = NULL, seen_at = NULL
     WHERE server = ? AND tool = ? AND seen_hash IS NOT NULL`,
  );

  return {
    list: (server) => (server === undefined ? all.all() : ofServer.all(server)).map(toPin),
    get(server, tool) {
      const row = one.get(server, tool);
      return row && toPin(row);
    },
    // The daemon's own bookkeeping: no one else needs to hear of it.
    record(server, tool, hash, definition) {
      insert.run(server, tool, hash, JSON.stringify(definition), clock());
    },
    setPending(server, tool, next) {
      pending.run(next?.hash ?? null, next === undefined ? null : JSON.stringify(next.definition), next ? clock() : null, server, tool);
    },
    // An approval changes what clients may see: listeners (the daemon, from another process too) hear of it.
    approve(server, tool) {
      const approved = db
        .transaction(() => {
          const rows = tool === undefined ? ofServer.all(server) : [one.get(server, tool)].filter((row) => row !== undefined);
          const done = rows.filter((row) => row.seen_hash !== null);
          for (const row of done) approve.run(clock(), server, row.tool);
          return done.map((row) => toPin(one.get(server, row.tool)!));
        })
        .immediate();
      if (approved.length > 0) changed();
      return approved;
    },
  };
}
