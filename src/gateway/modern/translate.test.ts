import { describe, expect, it } from 'vitest';
import { discoverResult, legacyParams, modernCapabilities, modernResult } from './translate.js';

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

describe('legacyParams', () => {
  it('drops the per-request envelope and keeps the rest of _meta', () => {
    expect(legacyParams({ name: 'echo', _meta: { ...envelope, progressToken: 3, 'com.example/trace': 'x' } })).toEqual({
      name: 'echo',
      _meta: { progressToken: 3, 'com.example/trace': 'x' },
    });
  });

  it('leaves out a _meta that held only the envelope, and passes params without _meta as they are', () => {
    expect(legacyParams({ name: 'echo', _meta: envelope })).toEqual({ name: 'echo' });
    const plain = { name: 'echo', arguments: { a: 1 } };
    expect(legacyParams(plain)).toBe(plain);
  });
});

describe('modernCapabilities', () => {
  it('leaves out logging and resource subscriptions, which 2026 clients get another way', () => {
    expect(modernCapabilities({ tools: { listChanged: true }, logging: {} })).toEqual({ tools: { listChanged: true } });
    expect(modernCapabilities({ resources: { subscribe: true, listChanged: true }, prompts: {} })).toEqual({
      resources: { listChanged: true },
      prompts: {},
    });
  });
});

describe('modernResult and discoverResult', () => {
  it('marks results complete and lets only cacheable methods carry cache hints', () => {
    expect(modernResult('tools/call', { content: [] })).toEqual({ content: [], resultType: 'complete' });
    expect(modernResult('tools/list', { tools: [] })).toEqual({ tools: [], resultType: 'complete', ttlMs: 0, cacheScope: 'private' });
  });

  it('answers server/discover with the 2026 version, the capabilities a 2026 client may use, and cache hints', () => {
    const result = discoverResult({ tools: {}, logging: {} }, { name: 'mcp-orch', version: '1.0.0' }, 'Use the tools.');
    expect(result).toEqual({
      supportedVersions: ['2026-07-28'],
      capabilities: { tools: {} },
      instructions: 'Use the tools.',
      _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcp-orch', version: '1.0.0' } },
      resultType: 'complete',
      ttlMs: 0,
      cacheScope: 'private',
    });
    expect(discoverResult({}, { name: 'mcp-orch', version: '1.0.0' })).not.toHaveProperty('instructions');
  });
});
