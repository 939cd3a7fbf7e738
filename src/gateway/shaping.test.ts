/**
 * What clients see through the daemon in process when the config and a project shape a server
 * (filters, overrides): the lists, the routing of renamed names back to the server's own, "unknown"
 * for what is withheld, and the audit rows that say why while the client hears only "unknown".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { connectModern, daemonClients, recordNotifications, waitFor } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { openStore, type Store } from '../store/open.js';

const modernOnly = fileURLToPath(new URL('../../test/fixtures/modern-only.mjs', import.meta.url));
const textOf = (result: unknown): string => (result as { content: { text?: string }[] }).content[0]?.text ?? '';
const names = (list: { tools: { name: string }[] }): string[] => list.tools.map((tool) => tool.name).sort();

describe('shaped servers in process', () => {
  let running: InProcessDaemon;
  let store: Store;
  const { connect, closeAll } = daemonClients(() => running.url);

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          echo: {
            ...fixtureServer('echo'),
            tools: { allow: ['echo', 'add', 'pid', 'counter'] },
            overrides: { echo: { name: 'say', description: 'Says it back', title: 'Say' } },
            prompts: { deny: ['greet'] },
            resources: { allow: ['fixture://readme', 'fixture://items/*'] },
          },
          two: fixtureServer('echo', { FIXTURE_ID: 'two' }),
          modern: {
            command: process.execPath,
            args: [modernOnly],
            tools: { deny: ['ask', 'grow'] },
            overrides: { echo: { name: 'repeat' } },
          },
        },
      },
    });
    await running.daemon.settled();
    store = openStore(running.dataDir);
  });
  afterAll(async () => {
    await closeAll();
    store.close();
    await running.stop();
  });

  it('lists only what passes, renamed, and routes the new name to the server’s own', async () => {
    const unified = await connect('/mcp');
    const perServer = await connect('/servers/echo/mcp');
    const tools = names(await unified.listTools());
    expect(tools.filter((name) => name.startsWith('echo__'))).toEqual(['echo__add', 'echo__counter', 'echo__pid', 'echo__say']);
    expect(tools).toEqual(expect.arrayContaining(['two__echo', 'two__counter']));
    expect(names(await perServer.listTools())).toEqual(['add', 'counter', 'pid', 'say']);
    const say = (await unified.listTools()).tools.find((tool) => tool.name === 'echo__say');
    expect(say).toMatchObject({ description: 'Says it back', title: 'Say' });
    expect(textOf(await unified.callTool({ name: 'echo__say', arguments: { text: 'a' } }))).toBe('a');
    expect(textOf(await perServer.callTool({ name: 'say', arguments: { text: 'b' } }))).toBe('b');
    expect((await unified.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['two__greet', 'modern__greet']);
    expect((await perServer.listResources()).resources.map((resource) => resource.uri)).toEqual(['fixture://readme']);
    expect((await perServer.readResource({ uri: 'fixture://items/2' })).contents[0]).toMatchObject({ text: 'item 2' });

    for (const [client, name] of [
      [unified, 'echo__echo'],
      [unified, 'echo__whoami'],
      [perServer, 'echo'],
      [perServer, 'whoami'],
    ] as const) {
      await expect(client.callTool({ name, arguments: { text: 'x' } }), name).rejects.toThrow(`unknown tool "${name}"`);
    }
    await expect(perServer.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })).rejects.toThrow('unknown prompt "greet"');
    await expect(unified.getPrompt({ name: 'echo__greet', arguments: { name: 'Ada' } })).rejects.toThrow('unknown prompt "echo__greet"');
    await expect(perServer.readResource({ uri: 'fixture://shared' })).rejects.toThrow('unknown resource "fixture://shared"');
    await expect(unified.readResource({ uri: 'mcp-orch://echo/fixture://shared' })).rejects.toThrow(
      'unknown resource "mcp-orch://echo/fixture://shared"',
    );
    // What is withheld from one server is not from another.
    expect(textOf(await unified.callTool({ name: 'two__whoami' }))).toBe('two');
  });

  it('shapes the per-server endpoint of a 2026 server too, whose requests otherwise pass through', async () => {
    const modern = await connectModern(`${running.url}/servers/modern/mcp`);
    try {
      expect(names(await modern.listTools())).toEqual(['repeat', 'slow']);
      expect(textOf(await modern.callTool({ name: 'repeat', arguments: { text: 'through' } }))).toBe('through');
      await expect(modern.callTool({ name: 'grow', arguments: {} })).rejects.toThrow('unknown tool "grow"');
      await expect(modern.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow('unknown tool "echo"');
    } finally {
      await modern.close();
    }
  });

  it('records each refused call as denied with why, and each served one by the server’s own name', async () => {
    const unified = await connect('/mcp');
    await expect(unified.callTool({ name: 'echo__echo', arguments: { text: 'x' } })).rejects.toThrow();
    await expect(unified.callTool({ name: 'echo__blob', arguments: {} })).rejects.toThrow();
    await unified.callTool({ name: 'echo__say', arguments: { text: 'served' } });
    const rows = await waitFor(() => {
      const denied = store.audit.query({ type: 'tools/call', outcome: 'denied' });
      return denied.some((row) => row.name === 'echo__blob') ? denied : undefined;
    });
    const why = (name: string) => {
      const row = rows.find((each) => each.name === name)!;
      return [row.server, (JSON.parse(row.detail ?? '{}') as { error?: string }).error];
    };
    expect(why('echo__echo')).toEqual(['echo', 'unknown tool "echo__echo": renamed to "say"']);
    expect(why('echo__blob')).toEqual(['echo', 'unknown tool "echo__blob": not allowed by mcpServers.echo in the config']);
    const served = await waitFor(() =>
      store.audit.query({ type: 'tools/call', outcome: 'ok', server: 'echo' }).find((row) => row.name === 'echo'),
    );
    expect(served.method).toBe('tools/call');
  });

  it('lets a project narrow and rename further, for its clients only, and tells them', async () => {
    store.projects.create({ slug: 'team' });
    const team = await connect('/projects/team/mcp');
    const teamServer = await connect('/projects/team/servers/two/mcp');
    const heard = recordNotifications(team);
    expect(names(await team.listTools())).toContain('two__add');
    const before = heard.length;
    store.projects.setRules('team', 'two', { tools: { deny: ['add', 'counter'] }, overrides: { echo: { name: 'shout' } } });
    // Another list_changed (a server's lists read again, late under load) may come first: wait for
    // the rules' own effect, then for the word of it.
    await waitFor(async () => names(await team.listTools()).includes('two__shout'));
    await waitFor(() => heard.slice(before).some((n) => n.method === 'notifications/tools/list_changed'));
    const teamTools = names(await team.listTools());
    expect(teamTools).not.toContain('two__add');
    expect(teamTools).not.toContain('two__echo');
    // Servers the project has no rules for are as the config shapes them.
    expect(teamTools).toEqual(expect.arrayContaining(['echo__say', 'echo__add']));
    expect(names(await teamServer.listTools())).toContain('shout');
    expect(textOf(await team.callTool({ name: 'two__shout', arguments: { text: 'hey' } }))).toBe('hey');
    expect(textOf(await teamServer.callTool({ name: 'shout', arguments: { text: 'there' } }))).toBe('there');
    await expect(team.callTool({ name: 'two__add', arguments: { a: 1, b: 2 } })).rejects.toThrow('unknown tool "two__add"');
    await expect(team.callTool({ name: 'two__echo', arguments: { text: 'x' } })).rejects.toThrow('unknown tool "two__echo"');
    await expect(teamServer.callTool({ name: 'counter' })).rejects.toThrow('unknown tool "counter"');
    const everyone = await connect('/mcp');
    expect(names(await everyone.listTools())).toEqual(expect.arrayContaining(['two__add', 'two__echo']));
    const denied = await waitFor(() =>
      store.audit.query({ type: 'tools/call', outcome: 'denied', project: 'team' }).find((row) => row.name === 'two__add'),
    );
    expect(JSON.parse(denied.detail ?? '{}')).toMatchObject({ error: expect.stringContaining('unknown tool "two__add": ') });
    store.projects.setRules('team', 'two', null);
    await waitFor(async () => names(await team.listTools()).includes('two__add'));
  });
});
