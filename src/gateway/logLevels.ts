import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import type { Upstream } from '../upstream/upstream.js';

export const LEVELS: readonly LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

export interface LevelHolder {
  sees(upstream: Upstream): boolean;
}

/**
 * Log levels of sessions that share an upstream. The upstream connection is shared, so it is set
 * to the most verbose level any of its sessions asked for, and each session filters down to its
 * own; one client's `error` must not silence another client's `info`.
 */
export class LogLevelRegistry {
  private readonly levels = new Map<LevelHolder, LoggingLevel>();
  private readonly sent = new Map<Upstream, LoggingLevel>();

  async set(session: LevelHolder, level: LoggingLevel, upstreams: Upstream[]): Promise<void> {
    this.levels.set(session, level);
    await Promise.all(upstreams.map((upstream) => this.sync(upstream)));
  }

  async drop(session: LevelHolder, upstreams: Upstream[]): Promise<void> {
    if (!this.levels.delete(session)) return;
    await Promise.all(upstreams.map((upstream) => this.sync(upstream)));
  }

  /** A restarted server starts at its own default level: tell it again. */
  async restarted(upstream: Upstream): Promise<void> {
    this.sent.delete(upstream);
    await this.sync(upstream);
  }

  /** The level an upstream should run at: the most verbose among the sessions that see it. */
  levelFor(upstream: Upstream): LoggingLevel | undefined {
    let best: number | undefined;
    for (const [session, level] of this.levels) {
      if (!session.sees(upstream)) continue;
      const index = LEVELS.indexOf(level);
      // Stryker disable next-line EqualityOperator: an equal index is the same level
      if (best === undefined || index < best) best = index;
    }
    // Stryker disable next-line ConditionalExpression: LEVELS[undefined] is undefined too
    return best === undefined ? undefined : LEVELS[best];
  }

  private async sync(upstream: Upstream): Promise<void> {
    const level = this.levelFor(upstream);
    // A server with isolation: "session" answers no client itself; each instance gets its owner's level.
    if (upstream.isolated || level === undefined || this.sent.get(upstream) === level) return;
    if (upstream.state !== 'running' || !upstream.capabilities.logging) return;
    this.sent.set(upstream, level);
    await upstream.request('logging/setLevel', { level }).catch(() => this.sent.delete(upstream));
  }
}
