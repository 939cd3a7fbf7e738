import type {
  Implementation,
  Prompt,
  Resource,
  ResourceTemplate,
  Result,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Params } from './forward.js';
import { createShaper, resolveShaped, uriRefusal, type ProjectRules, type Shaped } from './shape.js';
import { unifiedView } from './unifiedView.js';
import { unknownName, unknownServer, Withheld } from './unknown.js';

export { unknownServer, Withheld };

/** What an endpoint shows: one server with its names untouched, or every server namespaced. */
export type ViewSpec = { kind: 'server'; server: string } | { kind: 'unified' };

/**
 * What one caller may see: which servers (its project exposes them and its key reaches them; the
 * rest do not exist for it), and its project's filters and overrides over the config's.
 */
export interface Reach {
  sees(server: string): boolean;
  readonly project?: ProjectRules | undefined;
}

/** What a view needs besides the pool: the unified namespace separator, and the tools pinning withholds. */
export interface ViewOptions {
  separator: string;
  /** Why a server's tool is withheld (its definition changed and awaits approval), or undefined. */
  held?: ((server: string, tool: string) => string | undefined) | undefined;
}

/** What a client is told at initialize (2025) or server/discover (2026) about an endpoint. */
export interface Description {
  capabilities: ServerCapabilities;
  serverInfo: Implementation;
  instructions: string | undefined;
}

export interface Target {
  upstream: Upstream;
  /** The name or URI as the upstream knows it. */
  name: string;
}

/**
 * Routing for one endpoint: the lists a client sees and the way back from an exposed name or URI to
 * the server that owns it. The per-server view is the identity; the unified view namespaces.
 */
export interface View {
  readonly spec: ViewSpec;
  /** A label for logs and errors: the server's name, or "unified". */
  readonly label: string;
  /** The one server the view shows, or undefined for the unified view. */
  readonly server: string | undefined;
  upstreams(): Upstream[];
  sees(upstream: Upstream): boolean;
  /** Whether filters, overrides or holds change what the caller sees, so requests cannot pass through untouched. */
  shaped(reach?: Reach): boolean;
  /** Lists and names as `reach` lets a caller see them (all, with the config's rules, when it is absent). */
  tools(reach?: Reach): Tool[];
  prompts(reach?: Reach): Prompt[];
  resources(reach?: Reach): Resource[];
  resourceTemplates(reach?: Reach): ResourceTemplate[];
  resolveTool(name: string, reach?: Reach): Target;
  resolvePrompt(name: string, reach?: Reach): Target;
  resolveUri(uri: string, reach?: Reach): Target;
  /** The URI a client of this view uses for `uri` of `upstream`. */
  exposeUri(upstream: Upstream, uri: string): string;
  /** Whether exposeUri changes anything, so results need rewriting. */
  readonly rewritesUris: boolean;
  /** Whether servers coming and going change its lists (the unified view), so clients must hear of it. */
  readonly followsMembership: boolean;
  /** The one server whose requests a 2026 client may send through unchanged, if the view has one. */
  passThrough(): Upstream | undefined;
  /** Whether a session opened on this view may be used from an endpoint of `spec`. */
  matches(spec: ViewSpec): boolean;
  /** Resolves once servers that are starting have settled (bounded); what a list answer should wait for. */
  settled(): Promise<void>;
  /** Waits for its servers (bounded by their timeouts) and says what the endpoint offers. */
  describe(version: string): Promise<Description>;
  /** The `logger` of a server's log message as this view's clients see it. */
  loggerName(upstream: Upstream, logger: unknown): string | undefined;
}

/**
 * Where a request goes in a view: answered from the catalog, or forwarded to the server that owns
 * the name, with names and URIs in its params rewritten to that server's own. Per-server views pass
 * other methods on unchanged (tasks, extensions); undefined means the view cannot route the method.
 * Methods with session state of their own (subscriptions, log levels) are the caller's.
 */
export type Route = { answer: Result } | { upstream: Upstream; params: Params | undefined };

export function routeRequest(view: View, method: string, params: Params | undefined, reach?: Reach): Route | undefined {
  const p = params ?? {};
  const to = (target: Target, rewritten: Params): Route => ({ upstream: target.upstream, params: rewritten });
  switch (method) {
    case 'tools/list':
      return { answer: { tools: view.tools(reach) } };
    case 'prompts/list':
      return { answer: { prompts: view.prompts(reach) } };
    case 'resources/list':
      return { answer: { resources: view.resources(reach) } };
    case 'resources/templates/list':
      return { answer: { resourceTemplates: view.resourceTemplates(reach) } };
    case 'tools/call': {
      const target = view.resolveTool(String(p.name), reach);
      return to(target, { ...p, name: target.name });
    }
    case 'prompts/get': {
      const target = view.resolvePrompt(String(p.name), reach);
      return to(target, { ...p, name: target.name });
    }
    case 'resources/read': {
      const target = view.resolveUri(String(p.uri), reach);
      return to(target, { ...p, uri: target.name });
    }
    case 'completion/complete': {
      const ref = (p.ref ?? {}) as Params;
      const prompt = ref.type === 'ref/prompt';
      const target = prompt ? view.resolvePrompt(String(ref.name), reach) : view.resolveUri(String(ref.uri), reach);
      return to(target, { ...p, ref: prompt ? { ...ref, name: target.name } : { ...ref, uri: target.name } });
    }
    default: {
      const upstream = view.passThrough();
      return upstream ? { upstream, params } : undefined;
    }
  }
}

/** A view of `spec`; an unknown server is refused here, from the path, before anything else. */
export function createView(spec: ViewSpec, pool: UpstreamPool, options: ViewOptions): View {
  const shaper = createShaper(() => pool.version, options.held);
  const shapedOf = (upstream: Upstream, reach: Reach | undefined): Shaped => shaper(upstream, reach?.project);
  if (spec.kind === 'unified') return unifiedView(pool, options.separator, shapedOf);
  if (!pool.get(spec.server)) throw unknownServer(spec.server, pool.names());
  return serverView(spec, pool, shapedOf);
}

export type ShapedOf = (upstream: Upstream, reach: Reach | undefined) => Shaped;

function serverView(spec: { kind: 'server'; server: string }, pool: UpstreamPool, shapedOf: ShapedOf): View {
  // Looked up on every call so a server replaced by a reload is picked up by sessions that outlive it.
  const upstream = (): Upstream => {
    const current = pool.get(spec.server);
    if (!current) throw unknownServer(spec.server, pool.names());
    return current;
  };
  const resolveNamed = (kind: 'tool' | 'prompt', name: string, reach: Reach | undefined): Target => {
    const server = upstream();
    const resolved = resolveShaped(shapedOf(server, reach), kind, name);
    if ('name' in resolved) return { upstream: server, name: resolved.name };
    throw unknownName(kind, name, `list them with ${kind}s/list`, new Withheld(server.name, resolved.withheld));
  };
  return {
    spec,
    label: spec.server,
    server: spec.server,
    upstreams: () => {
      const current = pool.get(spec.server);
      return current ? [current] : [];
    },
    sees: (candidate) => candidate.name === spec.server,
    shaped: (reach) => shapedOf(upstream(), reach).shaped,
    tools: (reach) => shapedOf(upstream(), reach).tools,
    prompts: (reach) => shapedOf(upstream(), reach).prompts,
    resources: (reach) => shapedOf(upstream(), reach).resources,
    resourceTemplates: (reach) => shapedOf(upstream(), reach).resourceTemplates,
    resolveTool: (name, reach) => resolveNamed('tool', name, reach),
    resolvePrompt: (name, reach) => resolveNamed('prompt', name, reach),
    resolveUri: (uri, reach) => {
      const server = upstream();
      const refused = uriRefusal(shapedOf(server, reach), uri);
      if (refused) throw unknownName('resource', uri, 'list them with resources/list', new Withheld(server.name, refused));
      return { upstream: server, name: uri };
    },
    exposeUri: (_upstream, uri) => uri,
    rewritesUris: false,
    followsMembership: false,
    passThrough: () => pool.get(spec.server),
    settled: async () => undefined,
    // Stryker disable next-line ConditionalExpression: a unified spec has no server to equal this one's, so the kind check is only for the type
    matches: (other) => other.kind === 'server' && other.server === spec.server,
    describe: async (version) => {
      const server = upstream();
      await server.ready();
      return {
        capabilities: { ...server.capabilities },
        serverInfo: server.serverInfo ?? { name: server.name, version },
        instructions: server.instructions,
      };
    },
    loggerName: (_upstream, logger) => (typeof logger === 'string' ? logger : undefined),
  };
}
