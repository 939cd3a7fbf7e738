/**
 * A per-server view over a real pool and a running echo server: what it lists and resolves, the
 * refusals a client is shown (code, message, hint), what it follows as the pool and the holds
 * change, and which endpoints may use its sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureUpstream, orchErrorFrom } from '../../test/helpers/upstream.js';
import { createLogger } from '../log.js';
import { UpstreamPool } from '../upstream/pool.js';
import type { Upstream } from '../upstream/upstream.js';
import { createView, type View } from './view.js';

const logger = createLogger({ level: 'silent' });

describe('a per-server view', () => {
  const pool = new UpstreamPool();
  const holds = new Set<string>();
  let echo: Upstream;
  // Made in each test rather than once: what createView builds is then measured by the test that uses it.
  const echoView = (): View =>
    createView({ kind: 'server', server: 'echo' }, pool, {
      separator: '__',
      held: (server, tool) => (server === 'echo' && holds.has(tool) ? 'its definition changed' : undefined),
    });

  beforeAll(async () => {
    echo = fixtureUpstream('echo', 'echo', {
      logger,
      entry: { tools: { deny: ['fail'] }, prompts: { deny: ['greet'] }, resources: { deny: ['fixture://shared'] } },
    });
    await echo.start();
    pool.add(echo);
  });
  afterAll(() => echo.close());

  it('lists and resolves the server under its own names', () => {
    const view = echoView();
    expect(view.upstreams()).toEqual([echo]);
    expect(view.sees(echo)).toBe(true);
    expect(view.tools().map((tool) => tool.name)).toContain('echo');
    expect(view.resourceTemplates().map((template) => template.uriTemplate)).toEqual(['fixture://items/{id}']);
    expect(view.resolveTool('echo')).toEqual({ upstream: echo, name: 'echo' });
    expect(view.resolveUri('fixture://readme')).toEqual({ upstream: echo, name: 'fixture://readme' });
    // Nothing to rewrite, no membership to follow, and what it cannot route goes to its server as sent.
    expect(view.exposeUri(echo, 'fixture://readme')).toBe('fixture://readme');
    expect(view.rewritesUris).toBe(false);
    expect(view.followsMembership).toBe(false);
    expect(view.passThrough()).toBe(echo);
    expect(view.loggerName(echo, 'db')).toBe('db');
    expect(view.loggerName(echo, 7)).toBeUndefined();
  });

  it("refuses what the server's filters keep back, as unknown, telling the client where to look", () => {
    const view = echoView();
    const tool = orchErrorFrom(() => view.resolveTool('fail'));
    expect(tool).toMatchObject({ code: 'UNKNOWN_TOOL', message: 'unknown tool "fail"', hint: 'list them with tools/list' });
    const prompt = orchErrorFrom(() => view.resolvePrompt('greet'));
    expect(prompt).toMatchObject({ code: 'UNKNOWN_PROMPT', message: 'unknown prompt "greet"', hint: 'list them with prompts/list' });
    const resource = orchErrorFrom(() => view.resolveUri('fixture://shared'));
    expect(resource).toMatchObject({
      code: 'UNKNOWN_RESOURCE',
      message: 'unknown resource "fixture://shared"',
      hint: 'list them with resources/list',
    });
  });

  it('shows a tool held for approval no more, and again once released', () => {
    const view = echoView();
    holds.add('echo');
    pool.relist(echo, 'tools');
    expect(view.tools().map((tool) => tool.name)).not.toContain('echo');
    expect(orchErrorFrom(() => view.resolveTool('echo')).code).toBe('UNKNOWN_TOOL');
    holds.delete('echo');
    pool.relist(echo, 'tools');
    expect(view.tools().map((tool) => tool.name)).toContain('echo');
  });

  it('is used by sessions of its own server only', () => {
    const view = echoView();
    expect(view.matches({ kind: 'server', server: 'echo' })).toBe(true);
    expect(view.matches({ kind: 'server', server: 'other' })).toBe(false);
    expect(view.matches({ kind: 'unified' })).toBe(false);
    const other = fixtureUpstream('other', 'echo', { logger });
    expect(view.sees(other)).toBe(false);
  });

  it('refuses its server once the pool no longer has it, naming the servers it does have', () => {
    const view = echoView();
    const other = fixtureUpstream('other', 'echo', { logger });
    pool.remove('echo');
    pool.add(other);
    try {
      expect(view.upstreams()).toEqual([]);
      expect(view.passThrough()).toBeUndefined();
      const gone = orchErrorFrom(() => view.tools());
      expect(gone).toMatchObject({ code: 'UNKNOWN_SERVER', message: 'unknown server "echo"', hint: 'configured servers: other' });
    } finally {
      pool.remove('other');
      pool.add(echo);
    }
  });

  it('introduces the server as it introduces itself, or by its configured name when it says nothing of itself', async () => {
    const view = echoView();
    expect(await view.describe('9.9.9')).toMatchObject({ serverInfo: { name: 'echo-fixture', version: '1.0.0' } });
    const anonymous = fixtureUpstream('anonymous', 'modern-only', { logger, entry: { env: { MODERN_ANONYMOUS: '1' } } });
    pool.add(anonymous);
    try {
      await anonymous.start();
      const described = await createView({ kind: 'server', server: 'anonymous' }, pool, { separator: '__' }).describe('9.9.9');
      expect(described).toEqual({
        capabilities: { tools: { listChanged: true }, prompts: {}, resources: {} },
        serverInfo: { name: 'anonymous', version: '9.9.9' },
        instructions: 'A server of the 2026-07-28 era only.',
      });
    } finally {
      pool.remove('anonymous');
      await anonymous.close();
    }
  });
});
