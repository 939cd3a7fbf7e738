import type { AuditSink } from '../audit/writer.js';
import { OrchError } from '../errors.js';
import type { PinsRepo } from '../store/pins.js';
import { definitionChanges, diffLines } from './definitions.js';

/**
 * What a person reviews and approves: pinned tools whose server now offers another definition, with
 * the difference field by field. The CLI (`mcp-orch tools diff|approve`) and the admin API share it;
 * both work on the store, and a running daemon sees an approval within a moment.
 */

export interface PinReview {
  server: string;
  tool: string;
  hash: string;
  approvedAt: string;
  /** What the server offers now instead, and how it differs; absent while it offers the approved definition. */
  pending?: { hash: string; seenAt: string; changes: { field: string; diff: string[] }[] } | undefined;
}

export function reviewPins(pins: Pick<PinsRepo, 'list'>, server?: string, options: { changedOnly?: boolean } = {}): PinReview[] {
  return pins
    .list(server)
    .filter((pin) => !options.changedOnly || pin.pending)
    .map((pin) => ({
      server: pin.server,
      tool: pin.tool,
      hash: pin.hash,
      approvedAt: new Date(pin.approvedAt).toISOString(),
      ...(pin.pending
        ? {
            pending: {
              hash: pin.pending.hash,
              seenAt: new Date(pin.pending.seenAt).toISOString(),
              changes: definitionChanges(pin.definition, pin.pending.definition).map((change) => ({
                field: change.field,
                diff: diffLines(change),
              })),
            },
          }
        : {}),
    }));
}

/**
 * Accepts what a server offers now: for one tool, or every changed tool of the server. Each approval
 * is audited; NOT_FOUND when there is nothing to approve.
 */
export function approvePins(
  pins: Pick<PinsRepo, 'approve' | 'list'>,
  audit: AuditSink,
  server: string,
  tool: string | undefined,
  who: { via: 'cli' | 'api'; user?: string | undefined },
): string[] {
  const before = new Map(pins.list(server).map((pin) => [pin.tool, pin.hash]));
  const approved = pins.approve(server, tool);
  if (approved.length === 0) {
    const what = tool === undefined ? `server "${server}" has no tool` : `tool "${tool}" of server "${server}" has no`;
    throw new OrchError('NOT_FOUND', `${what} definition change waiting for approval`, {
      hint: before.size ? `see \`mcp-orch tools diff ${server}\`` : `no tool of "${server}" has been seen yet; is the server named right?`,
    });
  }
  for (const pin of approved) {
    audit.record({ type: 'tool.approved', server, tool: pin.tool, hash: pin.hash, previous: before.get(pin.tool), ...who });
  }
  return approved.map((pin) => pin.tool);
}
