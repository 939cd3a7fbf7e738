import type { Prompt, Resource, ResourceTemplate, Result, ServerCapabilities, Tool } from '@modelcontextprotocol/sdk/types.js';

/** What one server offers. Lists are read in full (every page) and replaced whole on refresh. */
export interface CatalogLists {
  tools: Tool[];
  prompts: Prompt[];
  resources: Resource[];
  resourceTemplates: ResourceTemplate[];
}

export type CatalogKind = keyof CatalogLists;
export const CATALOG_KINDS: readonly CatalogKind[] = ['tools', 'prompts', 'resources', 'resourceTemplates'];

export function emptyCatalog(): CatalogLists {
  return { tools: [], prompts: [], resources: [], resourceTemplates: [] };
}

/** Which capability a list needs before it may be asked for. */
function supported(kind: CatalogKind, capabilities: ServerCapabilities): boolean {
  if (kind === 'tools') return Boolean(capabilities.tools);
  if (kind === 'prompts') return Boolean(capabilities.prompts);
  return Boolean(capabilities.resources);
}

const MAX_PAGES = 1000;

const LIST_METHODS = {
  tools: 'tools/list',
  prompts: 'prompts/list',
  resources: 'resources/list',
  resourceTemplates: 'resources/templates/list',
} as const satisfies Record<CatalogKind, string>;

/** Sends one list request to the server in its era (the 2026 envelope added when it needs one). */
export type ListSender = (method: string, params: Record<string, unknown>) => Promise<Result>;

/**
 * Reads one list, following `nextCursor`, bounded so a server that loops its cursor cannot hang us.
 * Requests go through a pass-through schema, not the SDK's typed list helpers, whose schemas drop
 * fields they do not know: a gateway must pass on everything the server said.
 */
export async function fetchList<K extends CatalogKind>(
  send: ListSender,
  kind: K,
  capabilities: ServerCapabilities,
): Promise<CatalogLists[K]> {
  if (!supported(kind, capabilities)) return [];
  const items: unknown[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const params = cursor === undefined ? {} : { cursor };
    const result = await send(LIST_METHODS[kind], params);
    const list = result[kind];
    if (Array.isArray(list)) items.push(...list);
    cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
    if (cursor === undefined) break;
  }
  return items as CatalogLists[K];
}

/** The list change notifications, and which lists each one says changed. */
export const LIST_CHANGED_KINDS: Readonly<Record<string, readonly CatalogKind[]>> = {
  'notifications/tools/list_changed': ['tools'],
  'notifications/prompts/list_changed': ['prompts'],
  'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
};

/**
 * One server's catalog as the gateway last read it, kept across restarts: `load` reads every list
 * of a new connection and says which differ from the previous run's; `refresh` reads one list
 * again after the server said it changed.
 */
export class Catalog {
  private current: CatalogLists = emptyCatalog();
  private loaded = false;

  get lists(): Readonly<CatalogLists> {
    return this.current;
  }

  /** Whether the lists were read at least once (a server that never ran has none to show). */
  get known(): boolean {
    return this.loaded;
  }

  async load(send: ListSender, capabilities: ServerCapabilities): Promise<CatalogKind[]> {
    const lists = await Promise.all(CATALOG_KINDS.map((kind) => fetchList(send, kind, capabilities)));
    const changed = CATALOG_KINDS.filter((kind, i) => JSON.stringify(this.current[kind]) !== JSON.stringify(lists[i]));
    this.current = { tools: lists[0]!, prompts: lists[1]!, resources: lists[2]!, resourceTemplates: lists[3]! } as CatalogLists;
    this.loaded = true;
    return changed;
  }

  async refresh(kind: CatalogKind, send: ListSender, capabilities: ServerCapabilities): Promise<void> {
    const list = await fetchList(send, kind, capabilities);
    this.current = { ...this.current, [kind]: list };
  }
}
