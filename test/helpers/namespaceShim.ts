/**
 * The client side of a unified endpoint for one server, for suites that use a server's own names
 * (the conformance suite): requests get the namespace added (`<server>__<name>`,
 * `mcp-orch://<server>/<uri>`) and every message back has it taken off again. With one server
 * behind /mcp the mapping is one to one, so whatever the suite checks is what the gateway did.
 */
export interface Rewrite {
  /** A JSON-RPC message (or batch) on its way to the gateway. */
  request(message: unknown): unknown;
  /** A JSON-RPC message (or batch) on its way back to the client. */
  response(message: unknown): unknown;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

export function namespaceShim(server: string, separator = '__'): Rewrite {
  const namePrefix = `${server}${separator}`;
  const uriPrefix = `mcp-orch://${encodeURIComponent(server)}/`;
  const name = (value: unknown) => (typeof value === 'string' ? `${namePrefix}${value}` : value);
  const uri = (value: unknown) => (typeof value === 'string' ? `${uriPrefix}${value}` : value);

  const outbound = (message: unknown): unknown => {
    if (Array.isArray(message)) return message.map(outbound);
    if (!isObject(message) || typeof message.method !== 'string' || !isObject(message.params)) return message;
    const params = { ...message.params };
    switch (message.method) {
      case 'tools/call':
      case 'prompts/get':
        params.name = name(params.name);
        break;
      case 'resources/read':
      case 'resources/subscribe':
      case 'resources/unsubscribe':
        params.uri = uri(params.uri);
        break;
      case 'completion/complete':
        if (isObject(params.ref)) {
          const ref = { ...params.ref };
          if (ref.type === 'ref/prompt') ref.name = name(ref.name);
          if (ref.type === 'ref/resource') ref.uri = uri(ref.uri);
          params.ref = ref;
        }
        break;
    }
    return { ...message, params };
  };

  /** Every `name` and URI anywhere in an answer or notification, back to the server's own. */
  const inbound = (value: unknown, key?: string): unknown => {
    if (typeof value === 'string') {
      if (value.startsWith(uriPrefix)) return value.slice(uriPrefix.length);
      if (key === 'name' && value.startsWith(namePrefix)) return value.slice(namePrefix.length);
      return value;
    }
    if (Array.isArray(value)) return value.map((item) => inbound(item));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inbound(v, k)]));
    return value;
  };

  return { request: outbound, response: (message) => inbound(message) };
}
