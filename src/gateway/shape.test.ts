import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { shapingSchema } from '../config/schema.js';
import type { CatalogLists } from '../upstream/catalog.js';
import { combineRules, createShaper, globToRegExp, resolveShaped, shapeCatalog, uriRefusal } from './shape.js';

const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({ name, inputSchema: { type: 'object' }, ...extra });

const catalog: CatalogLists = {
  tools: [tool('search_issues', { description: 'Searches', annotations: { readOnlyHint: true } }), tool('delete_repo'), tool('get_me')],
  prompts: [{ name: 'review' }, { name: 'debug_dump' }],
  resources: [
    { uri: 'file:///docs/a.md', name: 'a' },
    { uri: 'file:///secrets/key', name: 'key' },
  ],
  resourceTemplates: [
    { uriTemplate: 'file:///docs/{name}', name: 'doc' },
    { uriTemplate: 'db://rows/{id}', name: 'row' },
  ],
};

const rules = (value: unknown, source = 'the config') => combineRules([{ rules: shapingSchema.parse(value), source }]);
const names = (items: { name: string }[]) => items.map((item) => item.name);

describe('globs', () => {
  it('match * and ? and nothing else specially', () => {
    expect(globToRegExp('search_*').test('search_issues')).toBe(true);
    expect(globToRegExp('search_*').test('research_x')).toBe(false);
    expect(globToRegExp('get_m?').test('get_me')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('file:///docs/*').test('file:///docs/sub/a.md')).toBe(true);
  });

  it('take every other character literally, and let * run over line breaks', () => {
    expect(globToRegExp('a.b').test('a.b')).toBe(true);
    expect(globToRegExp('get(me)+[1]').test('get(me)+[1]')).toBe(true);
    expect(globToRegExp('delete_*').test('delete_\nrepo')).toBe(true);
  });
});

describe('combineRules', () => {
  it('says nothing when no layer filters or overrides anything', () => {
    expect(combineRules([{ rules: undefined, source: 'the config' }])).toBeUndefined();
    expect(rules({})).toBeUndefined();
    expect(rules({ tools: {}, prompts: { deny: [] } })).toBeUndefined();
  });

  it('keeps a layer that only filters prompts, or only overrides prompts', () => {
    expect(names(shapeCatalog(catalog, rules({ prompts: { deny: ['debug_*'] } })).prompts)).toEqual(['review']);
    const described = shapeCatalog(catalog, rules({ promptOverrides: { review: { description: 'Reviews a change' } } }));
    expect(described.prompts[0]).toEqual({ name: 'review', description: 'Reviews a change' });
  });

  it('merges annotations field by field over the layers and the server’s own', () => {
    const combined = combineRules([
      { rules: shapingSchema.parse({ overrides: { search_issues: { annotations: { idempotentHint: true } } } }), source: 'the config' },
      { rules: shapingSchema.parse({ overrides: { search_issues: { annotations: { title: 'Find' } } } }), source: 'project "p"' },
    ]);
    expect(shapeCatalog(catalog, combined).tools[0]!.annotations).toEqual({ readOnlyHint: true, idempotentHint: true, title: 'Find' });
  });
});

describe('shapeCatalog', () => {
  it('passes the lists through untouched without rules or holds', () => {
    const shaped = shapeCatalog(catalog, undefined);
    expect(shaped.shaped).toBe(false);
    expect(shaped.tools).toBe(catalog.tools);
    expect(resolveShaped(shaped, 'tool', 'anything')).toEqual({ name: 'anything' });
  });

  it('allows, denies (deny wins) and takes a bare list as allow', () => {
    const shaped = shapeCatalog(catalog, rules({ tools: { allow: ['search_*', 'delete_*'], deny: ['delete_*'] }, prompts: ['rev*'] }));
    expect(names(shaped.tools)).toEqual(['search_issues']);
    expect(names(shaped.prompts)).toEqual(['review']);
    expect(resolveShaped(shaped, 'tool', 'delete_repo')).toEqual({ withheld: 'denied by the config' });
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ withheld: 'not allowed by the config' });
    // A name the catalog does not list is judged by the filters alone: the server decides about the rest.
    expect(resolveShaped(shaped, 'tool', 'search_code')).toEqual({ name: 'search_code' });
    expect(resolveShaped(shaped, 'tool', 'other')).toEqual({ withheld: 'not allowed by the config' });
  });

  it('renames, redescribes and merges annotations; the old name is withheld and the new routes to it', () => {
    const shaped = shapeCatalog(
      catalog,
      rules({ overrides: { search_issues: { name: 'find_issues', description: 'Finds issues', annotations: { title: 'Find' } } } }),
    );
    expect(shaped.tools[0]).toEqual({
      name: 'find_issues',
      description: 'Finds issues',
      inputSchema: { type: 'object' },
      annotations: { readOnlyHint: true, title: 'Find' },
    });
    expect(resolveShaped(shaped, 'tool', 'find_issues')).toEqual({ name: 'search_issues' });
    expect(resolveShaped(shaped, 'tool', 'search_issues')).toEqual({ withheld: 'renamed to "find_issues"' });
  });

  it('changes only the fields an override names', () => {
    const own = tool('find', { title: 'Find', description: 'Finds things' });
    const shapedBy = (override: object) => shapeCatalog({ ...catalog, tools: [own] }, rules({ overrides: { find: override } })).tools[0];
    expect(shapedBy({ name: 'search' })).toEqual({ ...own, name: 'search' });
    expect(shapedBy({ title: 'Search' })).toEqual({ ...own, title: 'Search' });
    expect(shapedBy({ description: 'Searches' })).toEqual({ ...own, description: 'Searches' });
  });

  it('lets a renamed tool take a name from the tool that had it; only names not shown are withheld', () => {
    const shaped = shapeCatalog(catalog, rules({ overrides: { search_issues: { name: 'get_me' } } }));
    expect(names(shaped.tools)).toEqual(['get_me', 'delete_repo']);
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ name: 'search_issues' });
    expect([...shaped.withheldTools]).toEqual([['search_issues', 'renamed to "get_me"']]);
  });

  it('keeps a tool that an override names by its own name', () => {
    const shaped = shapeCatalog(catalog, rules({ overrides: { get_me: { name: 'get_me', description: 'Me' } } }));
    expect(names(shaped.tools)).toEqual(['search_issues', 'delete_repo', 'get_me']);
    expect(shaped.withheldTools.size).toBe(0);
  });

  it('says a tool is shadowed when the one renamed to its name is itself withheld', () => {
    const shaped = shapeCatalog(catalog, rules({ tools: { deny: ['search_*'] }, overrides: { search_issues: { name: 'get_me' } } }));
    expect(names(shaped.tools)).toEqual(['delete_repo']);
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ withheld: 'shadowed by another renamed to "get_me"' });
  });

  it('matches filters against the new name too', () => {
    const shaped = shapeCatalog(catalog, rules({ tools: { deny: ['find_*'] }, overrides: { search_issues: { name: 'find_issues' } } }));
    expect(names(shaped.tools)).toEqual(['delete_repo', 'get_me']);
    expect(resolveShaped(shaped, 'tool', 'find_issues')).toEqual({ withheld: 'denied by the config' });
  });

  it('filters resources and templates by URI', () => {
    const shaped = shapeCatalog(catalog, rules({ resources: { allow: ['file:///docs/*'] } }));
    expect(shaped.resources.map((r) => r.uri)).toEqual(['file:///docs/a.md']);
    expect(shaped.resourceTemplates.map((t) => t.uriTemplate)).toEqual(['file:///docs/{name}']);
    expect(uriRefusal(shaped, 'file:///secrets/key')).toBe('not allowed by the config');
    expect(uriRefusal(shaped, 'file:///docs/b.md')).toBeUndefined();
  });

  it('renames prompts and judges prompt names by the prompt filters alone', () => {
    const shaped = shapeCatalog(
      catalog,
      rules({ tools: { deny: ['x_*'] }, prompts: { deny: ['debug_*'] }, promptOverrides: { review: { name: 'code_review' } } }),
    );
    expect(names(shaped.prompts)).toEqual(['code_review']);
    expect(resolveShaped(shaped, 'prompt', 'code_review')).toEqual({ name: 'review' });
    expect(resolveShaped(shaped, 'prompt', 'review')).toEqual({ withheld: 'renamed to "code_review"' });
    expect(resolveShaped(shaped, 'prompt', 'debug_other')).toEqual({ withheld: 'denied by the config' });
    expect(resolveShaped(shaped, 'prompt', 'x_prompt')).toEqual({ name: 'x_prompt' });
  });

  it('leaves the lists unshaped when pinning holds none of the tools', () => {
    const shaped = shapeCatalog(catalog, undefined, () => undefined);
    expect(shaped.shaped).toBe(false);
    expect(shaped.tools).toBe(catalog.tools);
  });

  it('withholds held tools, with the reason', () => {
    const shaped = shapeCatalog(catalog, undefined, (name) => (name === 'get_me' ? 'held' : undefined));
    expect(shaped.shaped).toBe(true);
    expect(names(shaped.tools)).toEqual(['search_issues', 'delete_repo']);
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ withheld: 'held' });
  });

  it('layers a project over the config: both filters apply, the later override wins field by field', () => {
    const combined = combineRules([
      {
        rules: shapingSchema.parse({ tools: { deny: ['delete_*'] }, overrides: { get_me: { name: 'me', description: 'Me' } } }),
        source: 'the config',
      },
      {
        rules: shapingSchema.parse({ tools: { deny: ['search_*'] }, overrides: { get_me: { description: 'Who am I' } } }),
        source: 'project "p"',
      },
    ]);
    const shaped = shapeCatalog(catalog, combined);
    expect(shaped.tools).toEqual([{ name: 'me', description: 'Who am I', inputSchema: { type: 'object' } }]);
    expect(resolveShaped(shaped, 'tool', 'search_issues')).toEqual({ withheld: 'denied by project "p"' });
  });
});

describe('createShaper', () => {
  it('caches by version and by project, and rebuilds when either moves', () => {
    let version = 1;
    const shaper = createShaper(() => version, undefined);
    const source = { name: 's', config: shapingSchema.parse({ tools: { deny: ['delete_*'] } }), catalog };
    const first = shaper(source);
    expect(shaper(source)).toBe(first);
    const project = { slug: 'p', rules: { s: shapingSchema.parse({ tools: ['get_*'] }) } };
    expect(names(shaper(source, project).tools)).toEqual(['get_me']);
    expect(shaper(source, { slug: 'q', rules: {} })).toBe(first);
    version++;
    expect(shaper(source)).not.toBe(first);
  });

  it('names the server’s entry in the config in its reasons, and asks pinning about that server’s tools', () => {
    const shaper = createShaper(
      () => 1,
      (server, name) => (server === 's' && name === 'get_me' ? 'changed since pinned' : undefined),
    );
    const shaped = shaper({ name: 's', config: shapingSchema.parse({ tools: { deny: ['delete_*'] } }), catalog });
    expect(names(shaped.tools)).toEqual(['search_issues']);
    expect(resolveShaped(shaped, 'tool', 'delete_repo')).toEqual({ withheld: 'denied by mcpServers.s in the config' });
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ withheld: 'changed since pinned' });
  });

  it('rebuilds for another source under the same name (a server replaced), and names the project in its reasons', () => {
    const shaper = createShaper(() => 1, undefined);
    const config = shapingSchema.parse({});
    const before = shaper({ name: 's', config, catalog });
    const after = shaper({ name: 's', config, catalog: { ...catalog, tools: [tool('other')] } });
    expect(names(before.tools)).toEqual(['search_issues', 'delete_repo', 'get_me']);
    expect(names(after.tools)).toEqual(['other']);
    const project = { slug: 'p', rules: { s: shapingSchema.parse({ tools: { deny: ['get_*'] } }) } };
    expect(resolveShaped(shaper({ name: 's', config, catalog }, project), 'tool', 'get_me')).toEqual({ withheld: 'denied by project "p"' });
  });
});
