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

  it('lets a renamed tool take a name from the tool that had it', () => {
    const shaped = shapeCatalog(catalog, rules({ overrides: { search_issues: { name: 'get_me' } } }));
    expect(names(shaped.tools)).toEqual(['get_me', 'delete_repo']);
    expect(resolveShaped(shaped, 'tool', 'get_me')).toEqual({ name: 'search_issues' });
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
});
