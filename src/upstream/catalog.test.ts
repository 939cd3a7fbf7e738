import type { Result } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { Catalog, CATALOG_KINDS, emptyCatalog, fetchList, LIST_CHANGED_KINDS, type ListSender } from './catalog.js';

const all = { tools: {}, prompts: {}, resources: {} };

/** A server's list answers by method, page by page (keyed by the cursor asked for; '' for the first). */
function server(pages: Record<string, Record<string, Result>>): { send: ListSender; asked: [string, Record<string, unknown>][] } {
  const asked: [string, Record<string, unknown>][] = [];
  const send: ListSender = (method, params) => {
    asked.push([method, params]);
    const page = pages[method]?.[(params.cursor as string | undefined) ?? ''];
    return page ? Promise.resolve(page) : Promise.reject(new Error(`no page for ${method} ${JSON.stringify(params)}`));
  };
  return { send, asked };
}

describe('fetchList', () => {
  it('follows nextCursor across pages and joins them', async () => {
    const { send, asked } = server({
      'tools/list': { '': { tools: [{ name: 'a' }], nextCursor: 'p2' }, p2: { tools: [{ name: 'b' }, { name: 'c' }], nextCursor: '' } },
    });
    expect(await fetchList(send, 'tools', all)).toEqual([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    // The first page is asked for without a cursor key at all.
    expect(asked).toStrictEqual([
      ['tools/list', {}],
      ['tools/list', { cursor: 'p2' }],
    ]);
  });

  it('asks each list by its own method, and only when the server has the capability', async () => {
    const { send, asked } = server({
      'prompts/list': { '': { prompts: [{ name: 'p' }] } },
      'resources/list': { '': { resources: [{ uri: 'r://1', name: 'r' }] } },
      'resources/templates/list': { '': { resourceTemplates: [{ uriTemplate: 'r://{id}', name: 't' }] } },
    });
    expect(await fetchList(send, 'prompts', { prompts: {} })).toEqual([{ name: 'p' }]);
    expect(await fetchList(send, 'resources', { resources: {} })).toEqual([{ uri: 'r://1', name: 'r' }]);
    expect(await fetchList(send, 'resourceTemplates', { resources: {} })).toEqual([{ uriTemplate: 'r://{id}', name: 't' }]);
    expect(asked.map(([method]) => method)).toEqual(['prompts/list', 'resources/list', 'resources/templates/list']);
    for (const kind of CATALOG_KINDS) expect(await fetchList(send, kind, {})).toEqual([]);
    expect(await fetchList(send, 'tools', { prompts: {}, resources: {} })).toEqual([]);
    expect(await fetchList(send, 'prompts', { tools: {}, resources: {} })).toEqual([]);
    expect(await fetchList(send, 'resources', { tools: {}, prompts: {} })).toEqual([]);
    expect(asked).toHaveLength(3);
  });

  it('skips a page whose list is missing, and stops at a cursor that is not a string', async () => {
    const { send, asked } = server({
      'tools/list': {
        '': { nextCursor: 'p2' },
        p2: { tools: 'not a list', nextCursor: 'p3' },
        p3: { tools: [{ name: 'z' }], nextCursor: 4 },
      },
    });
    expect(await fetchList(send, 'tools', all)).toEqual([{ name: 'z' }]);
    expect(asked).toHaveLength(3);
  });

  it('stops after 1000 pages of a server that loops its cursor', async () => {
    let pages = 0;
    const send: ListSender = () => {
      pages++;
      return Promise.resolve({ tools: [{ name: `t${pages}` }], nextCursor: 'again' });
    };
    const tools = await fetchList(send, 'tools', all);
    expect(pages).toBe(1000);
    expect(tools).toHaveLength(1000);
  });
});

describe('LIST_CHANGED_KINDS', () => {
  it('maps each list_changed notification to the lists it covers', () => {
    expect(LIST_CHANGED_KINDS).toEqual({
      'notifications/tools/list_changed': ['tools'],
      'notifications/prompts/list_changed': ['prompts'],
      'notifications/resources/list_changed': ['resources', 'resourceTemplates'],
    });
  });
});

describe('Catalog', () => {
  const lists = (tools: string[], prompts: string[] = []) =>
    server({
      'tools/list': { '': { tools: tools.map((name) => ({ name })) } },
      'prompts/list': { '': { prompts: prompts.map((name) => ({ name })) } },
      'resources/list': { '': { resources: [] } },
      'resources/templates/list': { '': { resourceTemplates: [{ uriTemplate: 'r://{id}', name: 't' }] } },
    }).send;

  it('is empty and unknown until loaded, and says which lists differ from the last load', async () => {
    const catalog = new Catalog();
    expect(catalog.known).toBe(false);
    expect(catalog.lists).toEqual({ tools: [], prompts: [], resources: [], resourceTemplates: [] });
    expect(emptyCatalog()).toEqual({ tools: [], prompts: [], resources: [], resourceTemplates: [] });
    expect(await catalog.load(lists(['a']), all)).toEqual(['tools', 'resourceTemplates']);
    expect(catalog.known).toBe(true);
    expect(catalog.lists).toEqual({
      tools: [{ name: 'a' }],
      prompts: [],
      resources: [],
      resourceTemplates: [{ uriTemplate: 'r://{id}', name: 't' }],
    });
    expect(await catalog.load(lists(['a']), all)).toEqual([]);
    expect(await catalog.load(lists(['a'], ['p']), all)).toEqual(['prompts']);
    expect(catalog.lists.prompts).toEqual([{ name: 'p' }]);
  });

  it('replaces one list on refresh and keeps the others', async () => {
    const catalog = new Catalog();
    await catalog.load(lists(['a'], ['p']), all);
    await catalog.refresh('tools', lists(['b', 'c']), all);
    expect(catalog.lists.tools).toEqual([{ name: 'b' }, { name: 'c' }]);
    expect(catalog.lists.prompts).toEqual([{ name: 'p' }]);
    expect(catalog.lists.resourceTemplates).toHaveLength(1);
  });
});
