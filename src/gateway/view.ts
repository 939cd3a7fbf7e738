import type {
  Implementation,
  Prompt,
  Resource,
  ResourceTemplate,
  Result,
  ServerCapabilities,
  Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { OrchError } from '../errors.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { unionCapabilities } from './capabilities.js';
import { UNIFIED_START_WAIT_MS } from './constants.js';
import type { Params } from './forward.js';
import { namespacedName, namespacedUri, namespacedUriTemplate, parseNamespacedUri } from './naming.js';
import { waitBounded } from './wait.js';

/** What an endpoint shows: one server with its names untouched, or every server namespaced. */
export type ViewSpec = { kind: 'server'; server: string } | { kind: 'unified' };

/** Which servers a caller may see, by name: its project exposes them and its key reaches them. */
export type Reach = (server: string) => boolean;

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
  /** Lists and names of the servers `reach` lets a caller see (all when it is absent); the rest do not exist for it. */
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
export function createView(spec: ViewSpec, pool: UpstreamPool, separator: string): View {
  if (spec.kind === 'unified') return unifiedView(pool, separator);
  if (!pool.get(spec.server)) throw unknownServer(spec.server, pool.names());
  return serverView(spec, pool);
}

function serverView(spec: { kind: 'server'; server: string }, pool: UpstreamPool): View {
  // Looked up on every call so a server replaced by a reload is picked up by sessions that outlive it.
  const upstream = (): Upstream => {
    const current = pool.get(spec.server);
    if (!current) throw unknownServer(spec.server, pool.names());
    return current;
  };
  const target = (name: string): Target => ({ upstream: upstream(), name });
  return {
    spec,
    label: spec.server,
    server: spec.server,
    upstreams: () => {
      const current = pool.get(spec.server);
      return current ? [current] : [];
    },
    sees: (candidate) => candidate.name === spec.server,
    tools: () => upstream().catalog.tools,
    prompts: () => upstream().catalog.prompts,
    resources: () => upstream().catalog.resources,
    resourceTemplates: () => upstream().catalog.resourceTemplates,
    resolveTool: target,
    resolvePrompt: target,
    resolveUri: target,
    exposeUri: (_upstream, uri) => uri,
    rewritesUris: false,
    followsMembership: false,
    passThrough: () => pool.get(spec.server),
    settled: async () => undefined,
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

/** One server's part of the unified lists, namespaced. */
interface Segment {
  server: string;
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
}

type ListKind = Exclude<keyof Segment, 'server'>;

interface UnifiedTables {
  version: number;
  segments: Segment[];
  /** Every segment's lists joined: what a caller who sees every server gets. */
  all: Record<ListKind, unknown[]>;
  toolRoutes: Map<string, Target>;
  promptRoutes: Map<string, Target>;
}

const LIST_KINDS: readonly ListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

function unifiedView(pool: UpstreamPool, separator: string): View {
  let tables: UnifiedTables | undefined;

  // Rebuilt only when the pool's version moves (a catalog, a state or the membership changed),
  // so tools/list on a busy unified endpoint costs a cached array.
  const current = (): UnifiedTables => {
    if (tables?.version === pool.version) return tables;
    const next: UnifiedTables = {
      version: pool.version,
      segments: [],
      all: { tools: [], prompts: [], resources: [], resourceTemplates: [] },
      toolRoutes: new Map(),
      promptRoutes: new Map(),
    };
    for (const upstream of pool.all()) {
      if (!upstream.available) continue;
      const { catalog } = upstream;
      const segment: Segment = { server: upstream.name, tools: [], prompts: [], resources: [], resourceTemplates: [] };
      for (const tool of catalog.tools) {
        const name = namespacedName(upstream.name, tool.name, separator);
        next.toolRoutes.set(name, { upstream, name: tool.name });
        segment.tools.push({ ...tool, name, title: tool.title ?? tool.annotations?.title ?? tool.name });
      }
      for (const prompt of catalog.prompts) {
        const name = namespacedName(upstream.name, prompt.name, separator);
        next.promptRoutes.set(name, { upstream, name: prompt.name });
        segment.prompts.push({ ...prompt, name, title: prompt.title ?? prompt.name });
      }
      for (const resource of catalog.resources) {
        segment.resources.push({ ...resource, uri: namespacedUri(upstream.name, resource.uri) });
      }
      for (const template of catalog.resourceTemplates) {
        segment.resourceTemplates.push({ ...template, uriTemplate: namespacedUriTemplate(upstream.name, template.uriTemplate) });
      }
      next.segments.push(segment);
      for (const kind of LIST_KINDS) next.all[kind].push(...segment[kind]);
    }
    tables = next;
    return next;
  };

  /** One list as a caller who sees only what `reach` allows gets it; the joined list when that is every server. */
  const list = <K extends ListKind>(kind: K, reach: Reach | undefined): Segment[K] => {
    const { segments, all } = current();
    if (!reach || segments.every((segment) => reach(segment.server))) return all[kind] as Segment[K];
    return segments.filter((segment) => reach(segment.server)).flatMap((segment): unknown[] => segment[kind]) as Segment[K];
  };

  const resolveName = (routes: Map<string, Target>, kind: 'tool' | 'prompt', name: string, reach: Reach | undefined): Target => {
    const target = routes.get(name);
    if (target && (!reach || reach(target.upstream.name))) return target;
    throw new OrchError(kind === 'tool' ? 'UNKNOWN_TOOL' : 'UNKNOWN_PROMPT', `unknown ${kind} "${name}"`, {
      hint: `${kind} names on the unified endpoint are "<server>${separator}<name>"; list them with ${kind}s/list`,
      data: { [kind]: name },
    });
  };

  return {
    spec: { kind: 'unified' },
    label: 'unified',
    server: undefined,
    upstreams: () => pool.all(),
    sees: () => true,
    tools: (reach) => list('tools', reach),
    prompts: (reach) => list('prompts', reach),
    resources: (reach) => list('resources', reach),
    resourceTemplates: (reach) => list('resourceTemplates', reach),
    resolveTool: (name, reach) => resolveName(current().toolRoutes, 'tool', name, reach),
    resolvePrompt: (name, reach) => resolveName(current().promptRoutes, 'prompt', name, reach),
    resolveUri: (uri, reach) => {
      const parsed = parseNamespacedUri(uri);
      if (!parsed || (reach && !reach(parsed.server))) {
        throw new OrchError('UNKNOWN_RESOURCE', `unknown resource "${uri}"`, {
          hint: 'resource URIs on the unified endpoint start with mcp-orch://<server>/; list them with resources/list',
          data: { uri },
        });
      }
      const upstream = pool.get(parsed.server);
      if (!upstream) throw unknownServer(parsed.server, pool.names());
      return { upstream, name: parsed.uri };
    },
    exposeUri: (upstream, uri) => namespacedUri(upstream.name, uri),
    rewritesUris: true,
    followsMembership: true,
    passThrough: () => undefined,
    settled: () =>
      waitBounded(
        pool.all().map((u) => u.settled()),
        UNIFIED_START_WAIT_MS,
      ),
    matches: (other) => other.kind === 'unified',
    describe: async (version) => {
      const upstreams = pool.all();
      for (const upstream of upstreams) upstream.wakeForCatalog();
      await waitBounded(
        upstreams.map((u) => u.settled()),
        UNIFIED_START_WAIT_MS,
      );
      const running = upstreams.filter((u) => u.available);
      const instructions = running
        .filter((u) => u.instructions)
        .map((u) => `## ${u.name}\n${u.instructions}`)
        .join('\n\n');
      return {
        capabilities: unionCapabilities(running.map((u) => u.capabilities)),
        serverInfo: { name: 'mcp-orch', title: 'mcp-orch unified endpoint', version },
        instructions: instructions || undefined,
      };
    },
    loggerName: (upstream, logger) => [upstream.name, logger].filter((part) => typeof part === 'string' && part !== '').join('/'),
  };
}

export function unknownServer(name: string, known: string[]): OrchError {
  return new OrchError('UNKNOWN_SERVER', `unknown server "${name}"`, {
    hint: known.length ? `configured servers: ${known.join(', ')}` : 'no servers are configured',
    data: { server: name, known },
  });
}
