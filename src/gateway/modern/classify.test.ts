import { describe, expect, it } from 'vitest';
import { classifyEra, metaOf, type EraInput } from './classify.js';

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** Headers looked up case-insensitively and handed over as sent (a `Headers` object would trim them). */
function input(body: unknown, headers: Record<string, string> = {}, method = 'POST'): EraInput {
  const lower = new Map(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
  return { method, body, header: (name) => lower.get(name.toLowerCase()) ?? null };
}

describe('classifyEra', () => {
  it('takes a request whose _meta carries the envelope as 2026', () => {
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }))).toBe('modern');
  });

  it('takes a partial envelope as 2026, so it gets the 2026 error for the missing field', () => {
    const capsOnly = { 'io.modelcontextprotocol/clientCapabilities': {} };
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: capsOnly } }))).toBe('modern');
    const versionOnly = { 'io.modelcontextprotocol/protocolVersion': 'v999' };
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: versionOnly } }))).toBe('modern');
  });

  it('takes a sessionless POST naming a non-2025 version in MCP-Protocol-Version as 2026', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'server/discover', params: {} };
    expect(classifyEra(input(body, { 'MCP-Protocol-Version': '2026-07-28' }))).toBe('modern');
    expect(classifyEra(input(body, { 'mcp-protocol-version': ' 2027-01-01 ' }))).toBe('modern');
  });

  it('keeps 2025 traffic on the session path', () => {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {} } };
    expect(classifyEra(input(init))).toBe('legacy');
    expect(classifyEra(input(init, { 'MCP-Protocol-Version': '2026-07-28' }))).toBe('legacy');
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    expect(classifyEra(input(list, { 'Mcp-Session-Id': 'abc', 'MCP-Protocol-Version': '2025-11-25' }))).toBe('legacy');
    expect(classifyEra(input(list, { 'MCP-Protocol-Version': '2025-06-18' }))).toBe('legacy');
    expect(classifyEra(input(list))).toBe('legacy');
    expect(classifyEra(input(list, { 'Mcp-Session-Id': 'abc', 'MCP-Protocol-Version': '2026-07-28' }))).toBe('legacy');
  });

  it('keeps GET, DELETE, batches, responses and non-objects on the session path', () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } };
    expect(classifyEra(input(undefined, {}, 'GET'))).toBe('legacy');
    expect(classifyEra(input(undefined, {}, 'DELETE'))).toBe('legacy');
    expect(classifyEra(input([list]))).toBe('legacy');
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, result: {} }))).toBe('legacy');
    expect(classifyEra(input('tools/list'))).toBe('legacy');
    expect(classifyEra(input(null))).toBe('legacy');
  });

  it('reads a 2025 version in MCP-Protocol-Version through surrounding whitespace', () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    expect(classifyEra(input(list, { 'MCP-Protocol-Version': ' 2025-06-18\t' }))).toBe('legacy');
  });

  it('keeps a GET or a message without a method on the session path whatever its body claims', () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } };
    expect(classifyEra(input(list, { 'MCP-Protocol-Version': '2026-07-28' }, 'GET'))).toBe('legacy');
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, params: { _meta: envelope } }))).toBe('legacy');
    expect(
      classifyEra(input({ jsonrpc: '2.0', id: 1, method: 7, params: { _meta: envelope } }, { 'MCP-Protocol-Version': '2026-07-28' })),
    ).toBe('legacy');
    expect(classifyEra(input({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: null }))).toBe('legacy');
  });
});

describe('metaOf', () => {
  it('gives params._meta when it is an object, and undefined for anything else', () => {
    expect(metaOf({ _meta: envelope })).toBe(envelope);
    for (const params of [undefined, null, 'x', 5, {}, { _meta: null }, { _meta: 'x' }, { _meta: ['a'] }, { _meta: 0 }]) {
      expect(metaOf(params)).toBeUndefined();
    }
  });
});
