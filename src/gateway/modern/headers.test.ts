import { describe, expect, it } from 'vitest';
import { httpStatusOf, jsonRpcErrorOf, OrchError } from '../../errors.js';
import { validateModernRequest } from './headers.js';

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

function headersOf(values: Record<string, string>): (name: string) => string | null {
  const headers = new Headers(values);
  return (name) => headers.get(name);
}

const standard = (method: string, name?: string): Record<string, string> => ({
  'MCP-Protocol-Version': '2026-07-28',
  'Mcp-Method': method,
  ...(name === undefined ? {} : { 'Mcp-Name': name }),
});

/** A rejection as the client sees it: the HTTP status, the 2026 JSON-RPC code and the error's data. */
function rejection(headers: Record<string, string>, body: unknown): { status: number; code: number; message: string; data: unknown } {
  try {
    validateModernRequest(headersOf(headers), body);
  } catch (error) {
    if (!(error instanceof OrchError)) throw error;
    const wire = jsonRpcErrorOf(error, 'modern');
    return { status: httpStatusOf(error), code: wire.code, message: wire.message, data: wire.data };
  }
  throw new Error('expected a rejection');
}

describe('validateModernRequest', () => {
  it('accepts a request whose headers mirror the body, with whitespace and lowercase names', () => {
    const body = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: {}, _meta: envelope } };
    const request = validateModernRequest(
      headersOf({ 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': '  echo ' }),
      body,
    );
    expect(request).toMatchObject({ id: 7, method: 'tools/call', version: '2026-07-28' });
  });

  it('decodes a Base64-wrapped Mcp-Name', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'grüß', _meta: envelope } };
    const wrapped = `=?base64?${Buffer.from('grüß').toString('base64')}?=`;
    expect(validateModernRequest(headersOf(standard('tools/call', wrapped)), body).method).toBe('tools/call');
    expect(rejection(standard('tools/call', '=?base64?!!!?='), body).code).toBe(-32020);
  });

  it('rejects a missing envelope or envelope field with -32602 and HTTP 400, naming the field', () => {
    for (const meta of [
      undefined,
      { 'io.modelcontextprotocol/clientCapabilities': {} },
      { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' },
    ]) {
      const error = rejection(standard('server/discover'), {
        jsonrpc: '2.0',
        id: 1,
        method: 'server/discover',
        params: meta ? { _meta: meta } : {},
      });
      expect(error.status).toBe(400);
      expect(error.code).toBe(-32602);
    }
    expect(rejection(standard('server/discover'), { jsonrpc: '2.0', id: 1, method: 'server/discover' }).message).toContain('_meta');
  });

  it('rejects an MCP-Protocol-Version header that is missing or contradicts _meta with -32020', () => {
    const body = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': 'v999' } },
    };
    const contradicting = rejection(standard('server/discover'), body);
    expect([contradicting.status, contradicting.code]).toEqual([400, -32020]);
    const { 'MCP-Protocol-Version': _dropped, ...noVersion } = standard('tools/list');
    expect(rejection(noVersion, { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } }).code).toBe(-32020);
  });

  it('rejects an unsupported version with -32022 naming the supported ones and echoing the requested one', () => {
    const body = {
      jsonrpc: '2.0',
      id: 1,
      method: 'server/discover',
      params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': 'v999' } },
    };
    const error = rejection({ ...standard('server/discover'), 'MCP-Protocol-Version': 'v999' }, body);
    expect([error.status, error.code]).toEqual([400, -32022]);
    expect(error.data).toEqual({ supported: ['2026-07-28'], requested: 'v999' });
    expect(error.message).toContain('2026-07-28');
  });

  it('rejects a missing or different Mcp-Method, compared case-sensitively', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } };
    expect(rejection({ 'MCP-Protocol-Version': '2026-07-28' }, body).code).toBe(-32020);
    expect(rejection(standard('prompts/list'), body).code).toBe(-32020);
    expect(rejection(standard('TOOLS/LIST'), body).code).toBe(-32020);
  });

  it('rejects a missing or different Mcp-Name where the method routes on a name or URI', () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', _meta: envelope } };
    expect(rejection(standard('tools/call'), call).code).toBe(-32020);
    expect(rejection(standard('tools/call', 'other'), call).code).toBe(-32020);
    const read = { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: 'test://a', _meta: envelope } };
    expect(rejection(standard('resources/read', 'test://b'), read).code).toBe(-32020);
    expect(validateModernRequest(headersOf(standard('resources/read', 'test://a')), read).method).toBe('resources/read');
  });

  it('rejects what is not a JSON-RPC request with -32600', () => {
    expect(rejection(standard('tools/list'), { jsonrpc: '2.0', method: 'tools/list', params: { _meta: envelope } }).code).toBe(-32600);
    expect(rejection(standard('tools/list'), { jsonrpc: '2.0', id: 1, method: 'tools/list', params: [1] }).code).toBe(-32602);
  });
});
