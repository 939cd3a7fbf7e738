/**
 * The gateway's own tools: listed after the servers' tools on the unified view only, under the
 * gateway's own namespace, and found by that name for a tools/call there.
 */
import { describe, expect, it } from 'vitest';
import { OwnTools, type OwnTool } from './ownTools.js';
import type { View } from './view.js';

const unified = { spec: { kind: 'unified' } } as View;
const perServer = { spec: { kind: 'server', server: 'echo' } } as View;

function tool(name: string): OwnTool {
  return {
    name,
    definition: { description: `does ${name}`, inputSchema: { type: 'object' } },
    call: async () => ({ content: [{ type: 'text', text: name }] }),
  };
}

describe('OwnTools', () => {
  it('lists every own tool after the servers’ tools, namespaced, on the unified view only', () => {
    const own = new OwnTools('__');
    const answer = { tools: [{ name: 'echo__echo', inputSchema: { type: 'object' } }] };
    expect(own.extendList(unified, 'tools/list', answer)).toEqual(answer);
    own.add(tool('plan'));
    own.add(tool('run'));
    expect(own.extendList(unified, 'tools/list', answer)).toEqual({
      tools: [
        { name: 'echo__echo', inputSchema: { type: 'object' } },
        { name: 'mcp-orch__plan', description: 'does plan', inputSchema: { type: 'object' } },
        { name: 'mcp-orch__run', description: 'does run', inputSchema: { type: 'object' } },
      ],
    });
    expect(own.extendList(perServer, 'tools/list', answer)).toEqual(answer);
    expect(own.extendList(unified, 'prompts/list', answer)).toEqual(answer);
  });

  it('finds an own tool by its namespaced name, for a tools/call on the unified view', () => {
    const own = new OwnTools('.');
    const plan = tool('plan');
    own.add(plan);
    expect(own.find(unified, 'tools/call', { name: 'mcp-orch.plan' })).toBe(plan);
    expect(own.find(unified, 'tools/call', { name: 'plan' })).toBeUndefined();
    expect(own.find(perServer, 'tools/call', { name: 'mcp-orch.plan' })).toBeUndefined();
    expect(own.find(unified, 'prompts/get', { name: 'mcp-orch.plan' })).toBeUndefined();
  });
});
