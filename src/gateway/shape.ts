import type { Prompt, Resource, ResourceTemplate, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { NameFilter, ShapingRules } from '../config/schema.js';
import type { CatalogLists } from '../upstream/catalog.js';

/**
 * What clients see of one server's catalog: its filters (allow/deny globs over tool and prompt
 * names and resource URIs) and overrides (another name, title, description or annotations), in
 * layers (the config's, then the caller's project's), and the tools definition pinning withholds.
 * Pure: views apply it and cache the result.
 */

/** One filter with its globs compiled. */
interface Filter {
  allow: RegExp[] | undefined;
  deny: RegExp[];
  /** Where it was set, for the audit: `the config` or `project "p"`. */
  source: string;
}

type Override = NonNullable<ShapingRules['overrides']>[string];
const NO_OVERRIDES: ReadonlyMap<string, Override> = new Map();

/** Every layer's rules together. */
export interface Rules {
  tools: Filter[];
  prompts: Filter[];
  resources: Filter[];
  overrides: Map<string, Override>;
  promptOverrides: Map<string, Override>;
}

/** A layer of rules and where it comes from (`the config`, `project "p"`). */
export interface RulesLayer {
  rules: ShapingRules | undefined;
  source: string;
}

/** `*` any run of characters, `?` one; everything else literally. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

function compile(filter: NameFilter | undefined, source: string): Filter[] {
  if (!filter || (filter.allow === undefined && !filter.deny?.length)) return [];
  // Stryker disable next-line ArrayDeclaration: a made-up glob in place of none denies only a name spelled as it is
  const deny = (filter.deny ?? []).map(globToRegExp);
  return [{ allow: filter.allow?.map(globToRegExp), deny, source }];
}

/** The layers as one set of rules, later layers' overrides over earlier ones'; undefined when no layer says anything. */
export function combineRules(layers: readonly RulesLayer[]): Rules | undefined {
  const rules: Rules = { tools: [], prompts: [], resources: [], overrides: new Map(), promptOverrides: new Map() };
  for (const { rules: layer, source } of layers) {
    if (!layer) continue;
    rules.tools.push(...compile(layer.tools, source));
    rules.prompts.push(...compile(layer.prompts, source));
    rules.resources.push(...compile(layer.resources, source));
    mergeOverrides(rules.overrides, layer.overrides);
    mergeOverrides(rules.promptOverrides, layer.promptOverrides);
  }
  const empty = !rules.tools.length && !rules.prompts.length && !rules.resources.length;
  return empty && rules.overrides.size === 0 && rules.promptOverrides.size === 0 ? undefined : rules;
}

function mergeOverrides(into: Map<string, Override>, layer: Record<string, Override> | undefined): void {
  for (const [name, override] of Object.entries(layer ?? {})) {
    const before = into.get(name);
    // Stryker disable next-line LogicalOperator: with annotations in one layer only, spreading both layers carries them as they are
    const annotations = before?.annotations || override.annotations ? { ...before?.annotations, ...override.annotations } : undefined;
    into.set(name, { ...before, ...override, ...(annotations ? { annotations } : {}) });
  }
}

/** Why the filters keep `names` (a server's own name and the one it is shown under) from clients, or undefined. */
function refusal(filters: readonly Filter[], names: readonly string[]): string | undefined {
  for (const filter of filters) {
    if (names.some((name) => filter.deny.some((glob) => glob.test(name)))) return `denied by ${filter.source}`;
    if (filter.allow && !names.some((name) => filter.allow!.some((glob) => glob.test(name)))) return `not allowed by ${filter.source}`;
  }
  return undefined;
}

/** One server's lists as clients see them, and the way back from a shown name to the server's own. */
export interface Shaped {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
  /** Shown name -> the server's own, for every tool listed. */
  toolNames: Map<string, string>;
  promptNames: Map<string, string>;
  /** Names a client might use for tools it is not shown (filtered, renamed, held), with the reason. */
  withheldTools: Map<string, string>;
  withheldPrompts: Map<string, string>;
  /** The rules in force: they also decide names and URIs that are not in the catalog. */
  rules: Rules | undefined;
  /** Whether anything differs from the server's own lists. */
  shaped: boolean;
}

/** Which tools definition pinning withholds, with the reason; undefined for none. */
export type Held = (tool: string) => string | undefined;

/** Applies `rules` and `held` to a catalog; without either, its lists as they are. */
export function shapeCatalog(catalog: Readonly<CatalogLists>, rules: Rules | undefined, held?: Held): Shaped {
  const shaped: Shaped = {
    tools: catalog.tools,
    prompts: catalog.prompts,
    resources: catalog.resources,
    resourceTemplates: catalog.resourceTemplates,
    toolNames: new Map(),
    promptNames: new Map(),
    withheldTools: new Map(),
    withheldPrompts: new Map(),
    rules,
    shaped: false,
  };
  const holds = held && catalog.tools.some((tool) => held(tool.name) !== undefined);
  if (!rules && !holds) return shaped;
  shaped.shaped = true;
  shaped.tools = shapeNamed(
    catalog.tools,
    rules?.tools ?? [],
    rules?.overrides ?? NO_OVERRIDES,
    held,
    shaped.toolNames,
    shaped.withheldTools,
  );
  shaped.prompts = shapeNamed(
    catalog.prompts,
    rules?.prompts ?? [],
    rules?.promptOverrides ?? NO_OVERRIDES,
    undefined,
    shaped.promptNames,
    shaped.withheldPrompts,
  );
  if (rules?.resources.length) {
    shaped.resources = catalog.resources.filter((resource) => refusal(rules.resources, [resource.uri]) === undefined);
    shaped.resourceTemplates = catalog.resourceTemplates.filter(
      (template) => refusal(rules.resources, [template.uriTemplate]) === undefined,
    );
  }
  return shaped;
}

function shapeNamed<T extends Tool | Prompt>(
  items: readonly T[],
  filters: readonly Filter[],
  overrides: ReadonlyMap<string, Override>,
  held: Held | undefined,
  names: Map<string, string>,
  withheld: Map<string, string>,
): T[] {
  // A renamed item takes its new name even from an item that had it as its own (an override
  // without a name adds undefined, which no name equals).
  const taken = new Set([...overrides].filter(([own, o]) => o.name !== own).map(([, o]) => o.name));
  const out: T[] = [];
  for (const item of items) {
    const override = overrides.get(item.name);
    const shown = override?.name ?? item.name;
    if (shown !== item.name) withheld.set(item.name, `renamed to "${shown}"`);
    const why =
      (shown === item.name && taken.has(shown) ? `shadowed by another renamed to "${shown}"` : undefined) ??
      refusal(filters, [item.name, shown]) ??
      held?.(item.name);
    if (why !== undefined) {
      if (!names.has(shown)) withheld.set(shown, why);
      continue;
    }
    withheld.delete(shown);
    names.set(shown, item.name);
    out.push(override ? applyOverride(item, override) : item);
  }
  return out;
}

function applyOverride<T extends Tool | Prompt>(item: T, override: Override): T {
  const { name, title, description, annotations } = override;
  const next: Record<string, unknown> = { ...item };
  if (name !== undefined) next.name = name;
  if (title !== undefined) next.title = title;
  if (description !== undefined) next.description = description;
  if (annotations !== undefined && 'inputSchema' in item) next.annotations = { ...(item as Tool).annotations, ...annotations };
  return next as T;
}

/**
 * A name a client sent to one server's endpoint: the server's own name, or why it is withheld.
 * Names the catalog does not list are passed on unless a filter keeps them back, as the server
 * itself decides about them.
 */
export function resolveShaped(shaped: Shaped, kind: 'tool' | 'prompt', name: string): { name: string } | { withheld: string } {
  const names = kind === 'tool' ? shaped.toolNames : shaped.promptNames;
  const own = names.get(name);
  if (own !== undefined) return { name: own };
  const withheld = (kind === 'tool' ? shaped.withheldTools : shaped.withheldPrompts).get(name);
  if (withheld !== undefined) return { withheld };
  const why = shaped.rules && refusal(kind === 'tool' ? shaped.rules.tools : shaped.rules.prompts, [name]);
  return why === undefined ? { name } : { withheld: why };
}

/** Why the resource filters keep a URI (or a template's) from clients, or undefined. */
export function uriRefusal(shaped: Shaped, uri: string): string | undefined {
  return shaped.rules && refusal(shaped.rules.resources, [uri]);
}

/** A project's rules by server, applied over the config's; its identity keys the cache. */
export interface ProjectRules {
  slug: string;
  rules: Readonly<Record<string, ShapingRules>>;
}

/** What the shaper needs of a server: its name, config (the config's rules) and catalog. */
interface ShapeSource {
  readonly name: string;
  readonly config: ShapingRules;
  readonly catalog: Readonly<CatalogLists>;
}

interface Cached {
  version: number;
  source: ShapeSource;
  shaped: Shaped;
}

/**
 * Each server's shaped lists, for everyone (the config's rules and pinning's holds) and for each
 * project with rules of its own, rebuilt only when `version` moves (the pool's: a catalog, a state,
 * a member, a config or a hold changed) or a project's rules are read anew from the store.
 */
export function createShaper(
  version: () => number,
  held: ((server: string, tool: string) => string | undefined) | undefined,
): (source: ShapeSource, project?: ProjectRules) => Shaped {
  const everyone = new Map<string, Cached>();
  const byProject = new WeakMap<object, Map<string, Cached>>();
  return (source, project) => {
    const own = project?.rules[source.name];
    let cache = everyone;
    if (own) {
      cache = byProject.get(project.rules) ?? new Map();
      byProject.set(project.rules, cache);
    }
    const hit = cache.get(source.name);
    if (hit && hit.version === version() && hit.source === source) return hit.shaped;
    const layers: RulesLayer[] = [{ rules: source.config, source: `mcpServers.${source.name} in the config` }];
    if (own) layers.push({ rules: own, source: `project "${project.slug}"` });
    const shaped = shapeCatalog(source.catalog, combineRules(layers), held && ((tool) => held(source.name, tool)));
    cache.set(source.name, { version: version(), source, shaped });
    return shaped;
  };
}
