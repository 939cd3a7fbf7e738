import { randomUUID } from 'node:crypto';
import type { Result, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { OrchError } from '../errors.js';
import type { Caller, Connection } from './caller.js';
import type { Forwarder, Params } from './forward.js';
import { settleInputRequired } from './inputRounds.js';
import type { Peer } from './serverRequests.js';
import type { View, ViewSpec } from './view.js';

export interface RestCallsDeps {
  forwarder: Forwarder;
  validator: jsonSchemaValidator;
  viewFor(spec: ViewSpec): View;
}

/**
 * Tools called as plain REST requests (`POST /api/tools/{server}/{tool}` with the arguments as the
 * body). Each call is a caller of its own with transport `rest`, sent down the one forwarding path,
 * so it is rate-limited, checked, audited and counted like an MCP call. Inside that path, once the
 * server is running, the tool must be in its catalog (404) and the arguments must satisfy its input
 * schema (400 naming the field) before anything reaches the server.
 */
export class RestCalls {
  /** Compiled input schemas, by the schema object of the catalog (a catalog refresh brings new objects). */
  private readonly compiled = new WeakMap<object, JsonSchemaValidator<unknown>>();

  constructor(private readonly deps: RestCallsDeps) {}

  async callTool(connection: Connection, server: string, tool: string, args: unknown, signal: AbortSignal): Promise<Result> {
    const view = this.deps.viewFor({ kind: 'server', server });
    if (args === null || typeof args !== 'object' || Array.isArray(args)) {
      throw new OrchError('INVALID_PARAMS', "the body must be a JSON object: the tool's arguments by name", {
        hint: 'send {} for a tool without arguments',
      });
    }
    const caller: Caller = {
      id: randomUUID(),
      era: null,
      transport: 'rest',
      endpoint: server,
      address: connection.address,
      principal: connection.principal,
    };
    return this.deps.forwarder.forward(
      caller,
      view,
      'tools/call',
      { name: tool, arguments: args },
      {
        signal,
        peer: NO_PEER,
        via: async (upstream, _method, params, send) => {
          const instance = await upstream.instanceFor(caller.id);
          await instance.ready();
          const found = instance.catalog.tools.find((candidate) => candidate.name === tool);
          if (!found) {
            throw new OrchError('UNKNOWN_TOOL', `server "${server}" has no tool "${tool}"`, {
              hint: `list its tools with GET /api/tools/${server}`,
            });
          }
          this.check(server, found, args as Params);
          // A REST answer has one shape whatever the server's era: a 2026 result comes without its
          // resultType, and a request for input is refused (a REST client declares no capability).
          return settleInputRequired(await send(params), {
            server,
            capabilities: undefined,
            // Stryker disable next-line ArrowFunction,StringLiteral: never called: with no capabilities declared, every input request is refused before it is asked
            ask: () => Promise.reject(new Error('unreachable: no capability declared')),
            // Stryker disable next-line ArrowFunction,StringLiteral: called only for input_required that asks for nothing (a broken server); the call fails as INTERNAL either way
            retry: () => Promise.reject(new Error('unreachable: no capability declared')),
          });
        },
      },
    );
  }

  /** Throws INVALID_PARAMS naming each field the arguments get wrong. */
  private check(server: string, tool: Tool, args: Params): void {
    const validate = this.compiled.get(tool.inputSchema) ?? this.compile(tool.inputSchema);
    const outcome = validate(args);
    if (outcome.valid) return;
    const problems = argumentProblems(outcome.errorMessage, args, tool.inputSchema);
    throw new OrchError('INVALID_PARAMS', `arguments of "${tool.name}" do not match its input schema: ${problems.join('; ')}`, {
      hint: `the tool's inputSchema is in GET /api/tools/${server}`,
      data: { fields: problems },
    });
  }

  private compile(schema: Tool['inputSchema']): JsonSchemaValidator<unknown> {
    const validate = this.deps.validator.getValidator<unknown>(schema as JsonSchemaType);
    this.compiled.set(schema, validate);
    return validate;
  }
}

/** A REST client answers no server->client request (sampling, elicitation, roots). */
const NO_PEER: Peer = {
  capabilities: () => undefined,
  request: (request) =>
    Promise.reject(
      new OrchError('CLIENT_REQUEST_REFUSED', `the server sent ${request.method}, which a REST call cannot answer`, {
        hint: 'call the tool from an MCP client that supports it',
      }),
    ),
};

/**
 * The validator's message (Ajv's `errorsText`: "data/a/0 must be string, data must have required
 * property 'b'") as one problem per field, each starting with the field's path in the arguments:
 * `a[0]: must be string`, `b: is required`, `c: is not a property of the schema`.
 */
export function argumentProblems(message: string, args: unknown, schema: unknown): string[] {
  return message.split(/, (?=data[/ ])/).flatMap((part) => {
    const match = /^data(\S*) (.*)/s.exec(part);
    if (!match) return [part];
    // Stryker disable next-line StringLiteral: both groups take part in every match (each can match nothing): the defaults only satisfy the type
    const [, pointer = '', text = ''] = match;
    const path = pointer
      .split('/')
      .filter(Boolean)
      .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
    const required = /^must have required property '(.*)'$/.exec(text);
    if (required) return [`${fieldPath([...path, required[1]!])}: is required`];
    if (text === 'must NOT have additional properties') {
      const extra = extraProperties(at(args, path), schemaAt(schema, path));
      if (extra.length > 0) return extra.map((name) => `${fieldPath([...path, name])}: is not a property the schema allows`);
    }
    return [`${fieldPath(path) || '(arguments)'}: ${text}`];
  });
}

function fieldPath(segments: string[]): string {
  return segments.map((segment, i) => (/^\d+$/.test(segment) ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join('');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function at(value: unknown, path: string[]): unknown {
  return path.reduce<unknown>(
    (node, key) => (isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[key] : undefined),
    value,
  );
}

/** The schema of the value at `path`, following `properties` and `items` only (enough to name a stray key). */
function schemaAt(schema: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => {
    if (!isObject(node)) return undefined;
    if (/^\d+$/.test(key) && isObject(node.items)) return node.items;
    return isObject(node.properties) ? node.properties[key] : undefined;
  }, schema);
}

function extraProperties(value: unknown, schema: unknown): string[] {
  if (!isObject(value) || !isObject(schema) || !isObject(schema.properties)) return [];
  const known = schema.properties;
  return Object.keys(value).filter((key) => !(key in known));
}
