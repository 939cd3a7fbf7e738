import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { unionCapabilities } from './capabilities.js';
import { UNIFIED_START_WAIT_MS } from './constants.js';
import { namespacedName, namespacedUri, namespacedUriTemplate, parseNamespacedUri } from './naming.js';
import { uriRefusal, type Shaped } from './shape.js';
import { unknownName, unknownServer, Withheld } from './unknown.js';
import type { Reach, ShapedOf, Target, View } from './view.js';
import { waitBounded } from './wait.js';

/**
 * The unified view: every available server's lists joined, names and URIs namespaced by server
 * (`<server><sep><name>`, `mcp-orch://<server>/<uri>`), each server shaped by its rules (and by the
 * caller's project's), and the way back from a namespaced name to the server's own.
 */

/** One server's part of the unified lists, namespaced, with the way back from its names. */
interface Segment {
  server: string;
  upstream: Upstream;
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  routes: Record<'tool' | 'prompt', Map<string, Target>>;
  /** Namespaced names of what it does not show (filtered, renamed, held), with why. */
  withheld: Record<'tool' | 'prompt', Map<string, string>>;
}

type ListKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

interface UnifiedTables {
  version: number;
  segments: Segment[];
  /** Every segment's lists joined: what a caller who sees every server gets. */
  all: Record<ListKind, unknown[]>;
  routes: Record<'tool' | 'prompt', Map<string, Target>>;
  /** Namespaced names withheld from everyone, with their server and why. */
  withheld: Record<'tool' | 'prompt', Map<string, Withheld>>;
}

const LIST_KINDS: readonly ListKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

function segmentOf(upstream: Upstream, shaped: Shaped, separator: string): Segment {
  const segment: Segment = {
    server: upstream.name,
    upstream,
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    routes: { tool: new Map(), prompt: new Map() },
    withheld: { tool: new Map(), prompt: new Map() },
  };
  const own = (names: Map<string, string>, shown: string): string => names.get(shown) ?? shown;
  for (const tool of shaped.tools) {
    const name = namespacedName(upstream.name, tool.name, separator);
    segment.routes.tool.set(name, { upstream, name: own(shaped.toolNames, tool.name) });
    segment.tools.push({ ...tool, name, title: tool.title ?? tool.annotations?.title ?? tool.name });
  }
  for (const prompt of shaped.prompts) {
    const name = namespacedName(upstream.name, prompt.name, separator);
    segment.routes.prompt.set(name, { upstream, name: own(shaped.promptNames, prompt.name) });
    segment.prompts.push({ ...prompt, name, title: prompt.title ?? prompt.name });
  }
  for (const [name, why] of shaped.withheldTools) segment.withheld.tool.set(namespacedName(upstream.name, name, separator), why);
  for (const [name, why] of shaped.withheldPrompts) segment.withheld.prompt.set(namespacedName(upstream.name, name, separator), why);
  for (const resource of shaped.resources) {
    segment.resources.push({ ...resource, uri: namespacedUri(upstream.name, resource.uri) });
  }
  for (const template of shaped.resourceTemplates) {
    segment.resourceTemplates.push({ ...template, uriTemplate: namespacedUriTemplate(upstream.name, template.uriTemplate) });
  }
  return segment;
}

export function unifiedView(pool: UpstreamPool, separator: string, shapedOf: ShapedOf): View {
  let tables: UnifiedTables | undefined;

  // Rebuilt only when the pool's version moves (a catalog, a state, the membership, a server's
  // rules or a hold changed), so tools/list on a busy unified endpoint costs a cached array.
  const current = (): UnifiedTables => {
    if (tables?.version === pool.version) return tables;
    const next: UnifiedTables = {
      version: pool.version,
      segments: [],
      all: { tools: [], prompts: [], resources: [], resourceTemplates: [] },
      routes: { tool: new Map(), prompt: new Map() },
      withheld: { tool: new Map(), prompt: new Map() },
    };
    for (const upstream of pool.all()) {
      if (!upstream.available) continue;
      const segment = segmentOf(upstream, shapedOf(upstream, undefined), separator);
      next.segments.push(segment);
      for (const kind of LIST_KINDS) next.all[kind].push(...segment[kind]);
      for (const kind of ['tool', 'prompt'] as const) {
        for (const [name, target] of segment.routes[kind]) next.routes[kind].set(name, target);
        for (const [name, why] of segment.withheld[kind]) next.withheld[kind].set(name, new Withheld(upstream.name, why));
      }
    }
    tables = next;
    return next;
  };

  // A project with rules of its own for a server sees that server's segment shaped by them too,
  // built once per shaped lists (the shaper keeps those until the pool's version moves).
  const projectSegments = new WeakMap<Shaped, Segment>();
  const segmentFor = (segment: Segment, reach: Reach): Segment => {
    if (!reach.project?.rules[segment.server]) return segment;
    const shaped = shapedOf(segment.upstream, reach);
    const own = projectSegments.get(shaped) ?? segmentOf(segment.upstream, shaped, separator);
    projectSegments.set(shaped, own);
    return own;
  };

  /** The segments a caller sees, shaped for its project. */
  const visible = (reach: Reach | undefined): Segment[] => {
    const { segments } = current();
    if (!reach) return segments;
    return segments.filter((segment) => reach.sees(segment.server)).map((segment) => segmentFor(segment, reach));
  };

  /** One list as a caller gets it; the joined list when it sees every server as everyone does. */
  const list = <K extends ListKind>(kind: K, reach: Reach | undefined): Segment[K] => {
    const { segments, all } = current();
    const mine = visible(reach);
    if (mine.length === segments.length && mine.every((segment, i) => segment === segments[i])) return all[kind] as Segment[K];
    return mine.flatMap((segment): unknown[] => segment[kind]) as Segment[K];
  };

  const resolveName = (kind: 'tool' | 'prompt', name: string, reach: Reach | undefined): Target => {
    const hint = `${kind} names on the unified endpoint are "<server>${separator}<name>"; list them with ${kind}s/list`;
    const tables = current();
    // Servers the caller's project reshapes answer from their own segment.
    for (const segment of tables.segments) {
      if (!reach?.project?.rules[segment.server] || !reach.sees(segment.server)) continue;
      const own = segmentFor(segment, reach);
      const target = own.routes[kind].get(name);
      if (target) return target;
      const why = own.withheld[kind].get(name);
      if (why !== undefined || segment.routes[kind].has(name)) {
        throw unknownName(kind, name, hint, new Withheld(segment.server, why ?? `withheld by project "${reach.project.slug}"`));
      }
    }
    const target = tables.routes[kind].get(name);
    if (target && (!reach || reach.sees(target.upstream.name))) return target;
    const withheld = tables.withheld[kind].get(name);
    throw unknownName(kind, name, hint, withheld && (!reach || reach.sees(withheld.server)) ? withheld : undefined);
  };

  return {
    spec: { kind: 'unified' },
    label: 'unified',
    server: undefined,
    upstreams: () => pool.all(),
    sees: () => true,
    shaped: () => true,
    tools: (reach) => list('tools', reach),
    prompts: (reach) => list('prompts', reach),
    resources: (reach) => list('resources', reach),
    resourceTemplates: (reach) => list('resourceTemplates', reach),
    resolveTool: (name, reach) => resolveName('tool', name, reach),
    resolvePrompt: (name, reach) => resolveName('prompt', name, reach),
    resolveUri: (uri, reach) => {
      const parsed = parseNamespacedUri(uri);
      const hint = 'resource URIs on the unified endpoint start with mcp-orch://<server>/; list them with resources/list';
      if (!parsed || (reach && !reach.sees(parsed.server))) throw unknownName('resource', uri, hint);
      const upstream = pool.get(parsed.server);
      if (!upstream) throw unknownServer(parsed.server, pool.names());
      const refused = uriRefusal(shapedOf(upstream, reach), parsed.uri);
      if (refused) throw unknownName('resource', uri, hint, new Withheld(upstream.name, refused));
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
      // Stryker disable next-line MethodExpression: a server not available has no connection (but for the instant between connecting and listing its catalog), so it adds no capabilities and no instructions
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
