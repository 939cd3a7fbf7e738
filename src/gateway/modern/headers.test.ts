import { describe, expect, it } from 'vitest';
import { httpStatusOf, jsonRpcErrorOf, OrchError } from '../../errors.js';
import { routedName, validateModernRequest } from './headers.js';

const envelope = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** A case-insensitive lookup that hands values over as sent (a `Headers` object would trim them). */
function headersOf(values: Record<string, string>): (name: string) => string | null {
  const lower = new Map(Object.entries(values).map(([name, value]) => [name.toLowerCase(), value]));
  return (name) => lower.get(name.toLowerCase()) ?? null;
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

  it('refuses what is not a JSON-RPC 2.0 request with a usable id, saying what it expects', () => {
    const expected = {
      status: 400,
      code: -32600,
      message: 'Invalid Request: expected a JSON-RPC 2.0 request with a string or number id',
      data: { orchCode: 'BAD_REQUEST' },
    };
    const headers = standard('tools/list');
    const params = { _meta: envelope };
    for (const body of [
      null,
      { jsonrpc: '1.0', id: 1, method: 'tools/list', params },
      { id: 1, method: 'tools/list', params },
      { jsonrpc: '2.0', id: 1, method: 7, params },
      { jsonrpc: '2.0', id: null, method: 'tools/list', params },
      { jsonrpc: '2.0', id: true, method: 'tools/list', params },
      { jsonrpc: '2.0', id: { n: 1 }, method: 'tools/list', params },
      // JSON has no Infinity, but a number too large for a double parses to it.
      JSON.parse('{"jsonrpc":"2.0","id":1e999,"method":"tools/list","params":{"_meta":{}}}') as unknown,
    ]) {
      expect(rejection(headers, body)).toEqual(expected);
    }
    for (const id of ['a-1', 0, -3.5]) {
      expect(validateModernRequest(headersOf(headers), { jsonrpc: '2.0', id, method: 'tools/list', params }).id).toBe(id);
    }
  });

  it('refuses params that are not an object with -32602 saying so', () => {
    for (const params of ['x', 5, null, [1], true]) {
      expect(rejection(standard('tools/list'), { jsonrpc: '2.0', id: 1, method: 'tools/list', params })).toEqual({
        status: 400,
        code: -32602,
        message: 'Invalid params: params must be an object',
        data: undefined,
      });
    }
  });

  it('names every missing envelope field in the message and in data.missing', () => {
    const version = 'io.modelcontextprotocol/protocolVersion';
    const capabilities = 'io.modelcontextprotocol/clientCapabilities';
    const cases: [unknown, string[]][] = [
      [{}, ['_meta']],
      [{ _meta: 'envelope' }, ['_meta']],
      [{ _meta: {} }, [version, capabilities]],
      [{ _meta: { [version]: 20260728, [capabilities]: {} } }, [version]],
      [{ _meta: { [version]: '2026-07-28', [capabilities]: 'all' } }, [capabilities]],
      [{ _meta: { [version]: '2026-07-28', [capabilities]: null } }, [capabilities]],
      [{ _meta: { [version]: '2026-07-28', [capabilities]: ['sampling'] } }, [capabilities]],
    ];
    for (const [params, missing] of cases) {
      expect(rejection(standard('tools/list'), { jsonrpc: '2.0', id: 1, method: 'tools/list', params })).toEqual({
        status: 400,
        code: -32602,
        message: `Invalid params: a 2026-07-28 request needs params._meta with ${missing.join(' and ')}`,
        data: { missing },
      });
    }
  });

  it('says what the MCP-Protocol-Version header must be when it is missing, blank or contradicts _meta', () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: envelope } };
    const required = {
      status: 400,
      code: -32020,
      message: 'Header mismatch: the MCP-Protocol-Version header is required and must be "2026-07-28" as in params._meta',
      data: { header: 'MCP-Protocol-Version' },
    };
    expect(rejection({ 'Mcp-Method': 'tools/list' }, body)).toEqual(required);
    expect(rejection({ ...standard('tools/list'), 'MCP-Protocol-Version': '  ' }, body)).toEqual(required);
    expect(rejection({ ...standard('tools/list'), 'MCP-Protocol-Version': '2025-11-25' }, body)).toEqual({
      ...required,
      message:
        'Header mismatch: the MCP-Protocol-Version header "2025-11-25" does not match ' +
        'params._meta["io.modelcontextprotocol/protocolVersion"] "2026-07-28"',
    });
    expect(validateModernRequest(headersOf({ ...standard('tools/list'), 'MCP-Protocol-Version': ' 2026-07-28\t' }), body).version).toBe(
      '2026-07-28',
    );
  });

  it('tells a client of an unsupported version which versions it can use, and how', () => {
    const body = {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/list',
      params: { _meta: { ...envelope, 'io.modelcontextprotocol/protocolVersion': 'v9' } },
    };
    expect(rejection({ ...standard('tools/list'), 'MCP-Protocol-Version': 'v9' }, body).message).toBe(
      'Unsupported protocol version "v9": this endpoint serves 2026-07-28 per request, and 2025-11-25 through initialize',
    );
  });

  it('says what Mcp-Method and Mcp-Name must be, naming the header', () => {
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', _meta: envelope } };
    const mismatch = (message: string, header: string) => ({
      status: 400,
      code: -32020,
      message: `Header mismatch: ${message}`,
      data: { header },
    });
    expect(rejection({ 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Name': 'echo' }, call)).toEqual(
      mismatch('the Mcp-Method header is required and must be "tools/call"', 'Mcp-Method'),
    );
    expect(rejection({ ...standard('tools/call', 'echo'), 'Mcp-Method': ' ' }, call)).toEqual(
      mismatch('the Mcp-Method header is required and must be "tools/call"', 'Mcp-Method'),
    );
    expect(rejection(standard('tools/list', 'echo'), call)).toEqual(
      mismatch('the Mcp-Method header "tools/list" does not match the method "tools/call"', 'Mcp-Method'),
    );
    expect(rejection(standard('tools/call'), call)).toEqual(
      mismatch('the Mcp-Name header is required for tools/call and must be "echo"', 'Mcp-Name'),
    );
    expect(rejection(standard('tools/call', '\t'), call)).toEqual(
      mismatch('the Mcp-Name header is required for tools/call and must be "echo"', 'Mcp-Name'),
    );
    expect(rejection(standard('tools/call', 'echo2'), call)).toEqual(
      mismatch('the Mcp-Name header "echo2" does not match "echo" in the body', 'Mcp-Name'),
    );
  });

  it('wants Mcp-Name only for methods that route on a name, URI or task id, and checks the task id', () => {
    const body = (method: string, params: Record<string, unknown>) => ({
      jsonrpc: '2.0',
      id: 1,
      method,
      params: { ...params, _meta: envelope },
    });
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      expect(rejection(standard(method, 'task-2'), body(method, { taskId: 'task-1' })).data).toEqual({ header: 'Mcp-Name' });
      expect(validateModernRequest(headersOf(standard(method, 'task-1')), body(method, { taskId: 'task-1' })).method).toBe(method);
    }
    expect(rejection(standard('prompts/get'), body('prompts/get', { name: 'greet' })).data).toEqual({ header: 'Mcp-Name' });
    // A method that routes on nothing ignores whatever Mcp-Name says.
    const stray = { name: 'a', uri: 'test://a', taskId: 't' };
    expect(validateModernRequest(headersOf(standard('tools/list', 'other')), body('tools/list', stray)).method).toBe('tools/list');
  });

  it('routedName picks the body field each method routes on, when it is a string', () => {
    const params = { name: 'n', uri: 'test://u', taskId: 't' };
    expect(routedName('tools/call', params)).toBe('n');
    expect(routedName('prompts/get', params)).toBe('n');
    expect(routedName('resources/read', params)).toBe('test://u');
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) expect(routedName(method, params)).toBe('t');
    for (const method of ['tools/list', 'resources/list', 'tasks/list', 'server/discover', 'completion/complete']) {
      expect(routedName(method, params)).toBeUndefined();
    }
    expect(routedName('tools/call', { name: 5, uri: 'test://u' })).toBeUndefined();
    expect(routedName('tasks/get', { taskId: { id: 't' } })).toBeUndefined();
  });

  it('decodes only a whole =?base64?...?= value, and refuses one that is not Base64', () => {
    const call = (name: string) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, _meta: envelope } });
    expect(validateModernRequest(headersOf(standard('tools/call', '=?BASE64?ZWNobw==?=')), call('echo')).method).toBe('tools/call');
    // Anything around the wrapper makes the value a plain name, compared as it is.
    for (const literal of ['x=?base64?ZWNobw==?=', '=?base64?ZWNobw==?=x']) {
      expect(validateModernRequest(headersOf(standard('tools/call', literal)), call(literal)).method).toBe('tools/call');
      expect(rejection(standard('tools/call', literal), call('echo')).data).toEqual({ header: 'Mcp-Name' });
    }
    expect(rejection({ ...standard('tools/call', 'echo'), 'Mcp-Method': '=?base64?dG9vbHMvY2FsbA=?=' }, call('echo')).message).toBe(
      'Header mismatch: the Mcp-Method header carries invalid Base64',
    );
    for (const payload of ['!!!!', 'ZWNob', 'ZW=v', 'ZWNobw==x!!']) {
      expect(rejection(standard('tools/call', `=?base64?${payload}?=`), call('echo'))).toEqual({
        status: 400,
        code: -32020,
        message: 'Header mismatch: the Mcp-Name header carries invalid Base64',
        data: { header: 'Mcp-Name' },
      });
    }
  });
});
