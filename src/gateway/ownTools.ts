import type { CallToolResult, Progress, Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import { OWN_SERVER } from '../config/schema.js';
import type { Caller } from './caller.js';
import { namespacedName } from './naming.js';
import type { Peer } from './serverRequests.js';
import type { View } from './view.js';

/** What a tool the gateway answers itself is given besides its arguments. */
export interface OwnToolContext {
  caller: Caller;
  /** Cancelled when the client cancels the call or goes away. */
  signal: AbortSignal;
  /** The client, for requests tied to this call (sampling). */
  peer: Peer;
  /** Sends `notifications/progress` when the client asked for progress; otherwise does nothing. */
  progress(update: Omit<Progress, 'progressToken'>): void;
}

/** A tool of the gateway itself: listed on the unified endpoint beside the servers' tools, answered by `call`. */
export interface OwnTool {
  /** The name under OWN_SERVER, such as `plan`. */
  name: string;
  definition: Omit<Tool, 'name'>;
  call(args: Record<string, unknown>, context: OwnToolContext): Promise<CallToolResult>;
}

/**
 * The extension point for tools the gateway answers itself (batch plans, for one): they are listed
 * on the unified view and routed to their handler instead of an upstream, on the one forwarding
 * path, so that they are authorised, rate-limited, audited and counted like any call.
 */
export class OwnTools {
  private readonly tools = new Map<string, OwnTool>();
  private listed: Tool[] = [];

  constructor(private readonly separator: string) {}

  add(tool: OwnTool): void {
    const name = namespacedName(OWN_SERVER, tool.name, this.separator);
    this.tools.set(name, tool);
    this.listed = [...this.tools.entries()].map(([exposed, own]) => ({ ...own.definition, name: exposed }));
  }

  /** The own tool a tools/call on `view` names, if any: only the unified view has them. */
  find(view: View, method: string, params: Record<string, unknown>): OwnTool | undefined {
    if (method !== 'tools/call' || view.spec.kind !== 'unified') return undefined;
    return this.tools.get(String(params.name));
  }

  /** A tools/list answer of `view` with the own tools after the servers'. */
  extendList(view: View, method: string, answer: Result): Result {
    if (method !== 'tools/list' || view.spec.kind !== 'unified') return answer;
    // Stryker disable next-line ConditionalExpression: with no own tools the answer would only be copied, with the same tools
    if (this.listed.length === 0) return answer;
    return { ...answer, tools: [...(answer.tools as Tool[]), ...this.listed] };
  }
}
