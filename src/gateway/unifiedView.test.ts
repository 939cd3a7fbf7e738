/**
 * The unified view over a real pool of running fixture servers: every server's lists joined under
 * namespaced names and URIs and the way back to each server's own, what a caller sees when its key
 * reaches only some servers or its project reshapes one, the refusals (code, hint, and the cause the
 * audit records), and what the endpoint tells a client that opens it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureUpstream, orchErrorFrom } from '../../test/helpers/upstream.js';
import type { OrchError } from '../errors.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { Withheld } from './unknown.js';
import { createView, type Reach, type View } from './view.js';

const logger = createLogger({ level: 'silent' });
const TOOL_HINT = 'tool names on the unified endpoint are "<server>__<name>"; list them with tools/list';
const URI_HINT = 'resource URIs on the unified endpoint start with mcp-orch://<server>/; list them with resources/list';

/** Why a refused name was withheld, as the audit records it, or undefined when the caller may not know the server. */
const causeOf = (error: OrchError): { server: string; reason: string } | undefined =>
  error.cause instanceof Withheld ? { server: error.cause.server, reason: error.cause.reason } : undefined;

const names = (items: { name: string }[]): string[] => items.map((item) => item.name);

describe('the unified view', () => {
  const pool = new UpstreamPool();
  let a: Upstream;
  let b: Upstream;
  // Made in each test rather than once: what createView builds is then measured by the test that uses it.
  const unified = (): View => createView({ kind: 'unified' }, pool, { separator: '__' });

  const everyone: Reach = { sees: () => true };
  const notB: Reach = { sees: (server) => server !== 'b' };
  const projectRules = { a: { tools: { deny: ['add'] }, overrides: { echo: { name: 'speak' } } } };
  const project: Reach = { sees: () => true, project: { slug: 'p', rules: projectRules } };

  beforeAll(async () => {
    a = fixtureUpstream('a', 'echo', { logger, entry: { tools: { deny: ['fail'] }, overrides: { echo: { name: 'say' } } } });
    b = fixtureUpstream('b', 'echo', { logger, entry: { env: { FIXTURE_ID: 'b' } } });
    await Promise.all([a.start(), b.start()]);
    pool.add(a);
    pool.add(b);
  });
  afterAll(() => Promise.all([a.close(), b.close()]));

  it("joins every server's lists under names and URIs that carry the server", () => {
    const view = unified();
    const own = (upstream: Upstream, renamed: Record<string, string> = {}, denied: string[] = []): string[] =>
      names(upstream.catalog.tools)
        .filter((name) => !denied.includes(name))
        .map((name) => `${upstream.name}__${renamed[name] ?? name}`);
    expect(names(view.tools())).toEqual([...own(a, { echo: 'say' }, ['fail']), ...own(b)]);
    expect(names(view.prompts())).toEqual(['a__greet', 'b__greet']);
    expect(view.resources().map((resource) => resource.uri)).toEqual([
      'mcp-orch://a/fixture://readme',
      'mcp-orch://a/fixture://shared',
      'mcp-orch://b/fixture://readme',
      'mcp-orch://b/fixture://shared',
    ]);
    expect(view.resourceTemplates().map((template) => template.uriTemplate)).toEqual([
      'mcp-orch://a/fixture://items/{id}',
      'mcp-orch://b/fixture://items/{id}',
    ]);
    // The rest of each entry is the server's own.
    expect(view.resources()[0]).toMatchObject({ name: a.catalog.resources[0]?.name });
  });

  it('routes a namespaced name or URI back to its server under the name the server knows', () => {
    const view = unified();
    expect(view.resolveTool('a__say')).toEqual({ upstream: a, name: 'echo' });
    expect(view.resolveTool('b__echo')).toEqual({ upstream: b, name: 'echo' });
    expect(view.resolvePrompt('a__greet')).toEqual({ upstream: a, name: 'greet' });
    expect(view.resolvePrompt('b__greet', everyone)).toEqual({ upstream: b, name: 'greet' });
    expect(view.resolveUri('mcp-orch://b/fixture://readme')).toEqual({ upstream: b, name: 'fixture://readme' });
    expect(view.exposeUri(b, 'fixture://readme')).toBe('mcp-orch://b/fixture://readme');
  });

  it("refuses what a server's filters keep back as unknown, and records why", () => {
    const view = unified();
    const denied = orchErrorFrom(() => view.resolveTool('a__fail'));
    expect(denied).toMatchObject({ code: 'UNKNOWN_TOOL', message: 'unknown tool "a__fail"', hint: TOOL_HINT });
    expect(causeOf(denied)).toEqual({ server: 'a', reason: 'denied by mcpServers.a in the config' });
    expect(causeOf(orchErrorFrom(() => view.resolveTool('a__echo')))).toEqual({ server: 'a', reason: 'renamed to "say"' });
    const nowhere = orchErrorFrom(() => view.resolveTool('c__echo'));
    expect(nowhere).toMatchObject({ code: 'UNKNOWN_TOOL', hint: TOOL_HINT });
    expect(causeOf(nowhere)).toBeUndefined();
    const uri = orchErrorFrom(() => view.resolveUri('fixture://readme'));
    expect(uri).toMatchObject({ code: 'UNKNOWN_RESOURCE', message: 'unknown resource "fixture://readme"', hint: URI_HINT });
  });

  it('gives a caller who sees every server the one joined list, built again only when the pool changes', () => {
    const view = unified();
    for (const kind of ['tools', 'prompts', 'resources', 'resourceTemplates'] as const) {
      const joined = view[kind]();
      expect(view[kind]()).toBe(joined);
      expect(view[kind](everyone)).toBe(joined);
    }
    const before = view.tools();
    pool.relist(a, 'tools');
    expect(view.tools()).not.toBe(before);
    expect(view.tools()).toEqual(before);
  });

  it('shows a caller nothing of a server its reach leaves out, not even why a name is withheld', () => {
    const view = unified();
    expect(names(view.tools(notB)).every((name) => name.startsWith('a__'))).toBe(true);
    expect(view.tools(notB)).toHaveLength(view.tools().length - b.catalog.tools.length);
    expect(names(view.prompts(notB))).toEqual(['a__greet']);
    expect(view.resources(notB).map((resource) => resource.uri)).toEqual([
      'mcp-orch://a/fixture://readme',
      'mcp-orch://a/fixture://shared',
    ]);
    expect(view.resourceTemplates(notB).map((template) => template.uriTemplate)).toEqual(['mcp-orch://a/fixture://items/{id}']);

    const tool = orchErrorFrom(() => view.resolveTool('b__echo', notB));
    expect(tool).toMatchObject({ code: 'UNKNOWN_TOOL', message: 'unknown tool "b__echo"', hint: TOOL_HINT });
    expect(causeOf(tool)).toBeUndefined();
    const resource = orchErrorFrom(() => view.resolveUri('mcp-orch://b/fixture://readme', notB));
    expect(resource).toMatchObject({ code: 'UNKNOWN_RESOURCE', hint: URI_HINT });
    expect(causeOf(resource)).toBeUndefined();
    // A name the config withholds says nothing of its server to a caller who cannot see it.
    const notA: Reach = { sees: (server) => server !== 'a' };
    expect(causeOf(orchErrorFrom(() => view.resolveTool('a__fail', notA)))).toBeUndefined();
    expect(view.resolveTool('b__echo', notA)).toEqual({ upstream: b, name: 'echo' });
  });

  it("shapes a server by the caller's project's rules over the config's, and leaves the others alone", () => {
    const view = unified();
    const listed = names(view.tools(project));
    expect(listed).toContain('a__speak');
    expect(listed).not.toContain('a__say');
    expect(listed).not.toContain('a__add');
    expect(listed.filter((name) => name.startsWith('b__'))).toEqual(names(b.catalog.tools).map((name) => `b__${name}`));
    expect(view.resolveTool('a__speak', project)).toEqual({ upstream: a, name: 'echo' });
    expect(view.resolveTool('b__echo', project)).toEqual({ upstream: b, name: 'echo' });
    expect(view.resolvePrompt('a__greet', project)).toEqual({ upstream: a, name: 'greet' });

    // Withheld for the project: by its filter, by its new name, and under the name only the config gives.
    const denied = orchErrorFrom(() => view.resolveTool('a__add', project));
    expect(denied).toMatchObject({ code: 'UNKNOWN_TOOL', message: 'unknown tool "a__add"', hint: TOOL_HINT });
    expect(causeOf(denied)).toEqual({ server: 'a', reason: 'denied by project "p"' });
    expect(causeOf(orchErrorFrom(() => view.resolveTool('a__echo', project)))).toEqual({ server: 'a', reason: 'renamed to "speak"' });
    expect(causeOf(orchErrorFrom(() => view.resolveTool('a__say', project)))).toEqual({ server: 'a', reason: 'withheld by project "p"' });
    expect(causeOf(orchErrorFrom(() => view.resolveTool('a__fail', project)))).toEqual({
      server: 'a',
      reason: 'denied by mcpServers.a in the config',
    });

    // The project's rules do not open a server the caller's key does not reach.
    const projectNotA: Reach = { sees: (server) => server !== 'a', project: project.project };
    expect(names(view.tools(projectNotA)).some((name) => name.startsWith('a__'))).toBe(false);
    const hidden = orchErrorFrom(() => view.resolveTool('a__speak', projectNotA));
    expect(hidden).toMatchObject({ code: 'UNKNOWN_TOOL', hint: TOOL_HINT });
    expect(causeOf(hidden)).toBeUndefined();
  });

  it('is a view of every server: it renames, follows the membership, and serves only unified sessions', () => {
    const view = unified();
    expect(view.spec).toEqual({ kind: 'unified' });
    expect(view.label).toBe('unified');
    expect(view.server).toBeUndefined();
    expect(view.upstreams()).toEqual([a, b]);
    expect(view.sees(b)).toBe(true);
    // Names always change on the way through, so no request passes through untouched.
    expect(view.shaped()).toBe(true);
    expect(view.passThrough()).toBeUndefined();
    expect(view.rewritesUris).toBe(true);
    expect(view.followsMembership).toBe(true);
    expect(view.matches({ kind: 'unified' })).toBe(true);
    expect(view.matches({ kind: 'server', server: 'a' })).toBe(false);
    // A server's log messages are told apart by the server's name before their own logger's.
    expect(view.loggerName(a, 'db')).toBe('a/db');
    expect(view.loggerName(a, '')).toBe('a');
    expect(view.loggerName(a, 7)).toBe('a');
    expect(view.loggerName(a, undefined)).toBe('a');
  });
});

describe('the unified endpoint introduced to a client', () => {
  const pool = new UpstreamPool();
  const servers: Upstream[] = [];
  const add = (name: string, fixture: 'echo' | 'modern-only'): Upstream => {
    const upstream = fixtureUpstream(name, fixture, { logger });
    servers.push(upstream);
    pool.add(upstream);
    return upstream;
  };
  afterAll(() => Promise.all(servers.map((upstream) => upstream.close())));

  it("waits for starting servers, then joins their capabilities and the instructions of those that give any, each under its server's name", async () => {
    const view = createView({ kind: 'unified' }, pool, { separator: '__' });
    const started = [add('m1', 'modern-only'), add('plain', 'echo'), add('m2', 'modern-only')].map((upstream) => upstream.start());
    const described = await view.describe('1.2.3');
    await Promise.all(started);
    const instructions = 'A server of the 2026-07-28 era only.';
    expect(described).toMatchObject({
      capabilities: { tools: { listChanged: true }, prompts: {}, resources: {} },
      serverInfo: { name: 'mcp-orch', title: 'mcp-orch unified endpoint', version: '1.2.3' },
      instructions: `## m1\n${instructions}\n\n## m2\n${instructions}`,
    });
  });

  it('says when servers that are starting have settled', async () => {
    const view = createView({ kind: 'unified' }, pool, { separator: '__' });
    const late = add('late', 'echo');
    const started = late.start();
    await view.settled();
    expect(late.available).toBe(true);
    await started;
  });
});
