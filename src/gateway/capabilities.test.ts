import { describe, expect, it } from 'vitest';
import { unionCapabilities } from './capabilities.js';

describe('unionCapabilities', () => {
  it('advertises tools with list changes even with no servers', () => {
    expect(unionCapabilities([])).toEqual({ tools: { listChanged: true } });
  });

  it('advertises what any server supports, subscriptions only if one supports them', () => {
    const caps = unionCapabilities([
      { tools: {}, logging: {} },
      { resources: {}, prompts: {}, completions: {} },
    ]);
    expect(caps).toEqual({
      tools: { listChanged: true },
      prompts: { listChanged: true },
      resources: { listChanged: true, subscribe: false },
      completions: {},
      logging: {},
    });
    expect(unionCapabilities([{ resources: { subscribe: true } }]).resources?.subscribe).toBe(true);
    expect(unionCapabilities([{ resources: {} }, { resources: { subscribe: true } }]).resources?.subscribe).toBe(true);
  });
});
