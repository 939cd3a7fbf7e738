import type { Access } from '../auth/access.js';
import type { Principal } from '../auth/policy.js';
import { isOrchError } from '../errors.js';
import type { View } from '../gateway/view.js';
import type { PlannerTool } from './planner.js';
import type { ToolLookup } from './validate.js';

const LISTED_TOOLS = 20;

/**
 * The tools a principal may call, as plans name them (server and tool apart), read from the
 * unified view's servers: what the planner is shown and what validation checks steps against.
 */
export class BatchCatalog {
  constructor(
    private readonly view: () => View,
    private readonly access: Access,
  ) {}

  /** Waits (bounded) for servers that are starting, waking lazy ones, so that their tools are known. */
  async ready(): Promise<void> {
    const view = this.view();
    for (const upstream of view.upstreams()) upstream.wakeForCatalog();
    await view.settled();
  }

  /** Every tool the principal's key and role allow it to call. */
  tools(principal: Principal): PlannerTool[] {
    return this.view()
      .upstreams()
      .filter((upstream) => upstream.available && this.refusal(principal, upstream.name) === undefined)
      .flatMap((upstream) => upstream.catalog.tools.map((tool) => ({ server: upstream.name, tool })));
  }

  lookup(principal: Principal): ToolLookup {
    return (server, tool) => {
      const upstreams = this.view().upstreams();
      const upstream = upstreams.find((candidate) => candidate.name === server);
      if (!upstream) {
        const known = upstreams.filter((candidate) => this.access.reaches(principal, candidate.name)).map((candidate) => candidate.name);
        return { error: `unknown server "${server}"; servers: ${known.join(', ') || 'none'}` };
      }
      const refused = this.refusal(principal, server);
      if (refused) return { error: `server "${server}": ${refused}` };
      const found = upstream.catalog.tools.find((candidate) => candidate.name === tool);
      if (found) return { tool: found };
      const names = upstream.catalog.tools.map((candidate) => candidate.name);
      const listed = names.length > LISTED_TOOLS ? `${names.slice(0, LISTED_TOOLS).join(', ')}, …` : names.join(', ');
      const state = upstream.available ? '' : ` (it is ${upstream.state})`;
      return { error: `server "${server}" has no tool "${tool}"${state}; its tools: ${listed || 'none'}` };
    };
  }

  /** Why the principal may not call tools of `server` (outside its key, role, turned off), or undefined. */
  private refusal(principal: Principal, server: string): string | undefined {
    try {
      this.access.check(principal, server, 'tools/call');
      return undefined;
    } catch (error) {
      if (isOrchError(error)) return error.hint ? `${error.message} (${error.hint})` : error.message;
      throw error;
    }
  }
}
