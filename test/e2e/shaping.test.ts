// What clients see: filters and overrides from the config (hot-reloaded) and from a project (the
// CLI), on every endpoint, transport and era: a 2025 client over Streamable HTTP and legacy SSE, and a
// 2026 client, also on the per-server endpoint of a 2026-only server, whose requests otherwise pass
// through untouched. A filtered name is "unknown", and its call is in the audit log with the reason.
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { connectModern, connectSse, connectStreamable, recordNotifications, waitFor } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const modernFixture = fileURLToPath(new URL('../fixtures/modern-only.mjs', import.meta.url));
const textOf = (result: unknown): string => (result as { content: { text?: string }[] }).content[0]?.text ?? '';
const names = (list: { tools: { name: string }[] }): string[] => list.tools.map((tool) => tool.name).sort();

const echoRules = {
  tools: { deny: ['blob', 'chatter', 'slow*', 'add_tool', 'remove_tool', 'touch', 'log', 'counter', 'whoami', 'fail', 'peek'] },
  overrides: { echo: { name: 'say', description: 'Says it back', annotations: { readOnlyHint: true } } },
  prompts: { deny: ['greet'] },
  resources: { allow: ['fixture://readme', 'fixture://items/*'] },
};

function config(echo: object = echoRules) {
  return {
    mcpServers: {
      echo: { ...fixtureServer('echo'), ...echo },
      modern: {
        command: process.execPath,
        args: [modernFixture],
        tools: { deny: ['ask', 'grow'] },
        overrides: { echo: { name: 'repeat' } },
      },
    },
  };
}

/** Connects a client, and closes it once the tests of the block are done. */
function closedAfterAll() {
  const clients: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
  });
  return async <T extends { close(): Promise<void> }>(client: Promise<T>): Promise<T> => {
    const connected = await client;
    clients.push(connected);
    return connected;
  };
}

describe('tool filters and overrides', () => {
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startDaemon({ config: config() });
  });
  afterAll(async () => {
    await daemon?.stop();
  });
  const connect = closedAfterAll();

  it('lists only what passes, renamed, and routes the new name to the old on every endpoint and era', async () => {
    const unified = await connect(connectStreamable(`${daemon.url}/mcp`));
    const sse = await connect(connectSse(`${daemon.url}/servers/echo/sse`));
    const modern = await connect(connectModern(`${daemon.url}/mcp`));

    // The gateway's own tools are listed beside the servers' whatever the servers' filters say.
    expect(names(await unified.listTools())).toEqual([
      'echo__add',
      'echo__pid',
      'echo__say',
      'mcp-orch__plan',
      'mcp-orch__run_plan',
      'modern__repeat',
      'modern__slow',
    ]);
    expect(names(await modern.listTools())).toEqual(names(await unified.listTools()));
    expect(names(await sse.listTools())).toEqual(['add', 'pid', 'say']);
    const say = (await sse.listTools()).tools.find((tool) => tool.name === 'say');
    expect(say).toMatchObject({ description: 'Says it back', annotations: { readOnlyHint: true } });

    expect(textOf(await unified.callTool({ name: 'echo__say', arguments: { text: 'a' } }))).toBe('a');
    expect(textOf(await sse.callTool({ name: 'say', arguments: { text: 'b' } }))).toBe('b');
    expect(textOf(await modern.callTool({ name: 'modern__repeat', arguments: { text: 'c' } }))).toBe('c');

    for (const [client, name] of [
      [unified, 'echo__echo'],
      [unified, 'echo__blob'],
      [sse, 'echo'],
      [sse, 'counter'],
      [modern, 'modern__ask'],
    ] as const) {
      await expect((client as Client).callTool({ name, arguments: { text: 'x' } }), name).rejects.toThrow(`unknown tool "${name}"`);
    }

    expect((await unified.listPrompts()).prompts.map((prompt) => prompt.name)).toEqual(['modern__greet']);
    await expect(sse.getPrompt({ name: 'greet', arguments: { name: 'Ada' } })).rejects.toThrow('unknown prompt "greet"');
    expect((await sse.listResources()).resources.map((resource) => resource.uri)).toEqual(['fixture://readme']);
    expect((await sse.listResourceTemplates()).resourceTemplates.map((template) => template.uriTemplate)).toEqual(['fixture://items/{id}']);
    expect((await sse.readResource({ uri: 'fixture://items/2' })).contents[0]).toMatchObject({ text: 'item 2' });
    await expect(sse.readResource({ uri: 'fixture://shared' })).rejects.toThrow('unknown resource "fixture://shared"');
    await expect(unified.readResource({ uri: 'mcp-orch://echo/fixture://shared' })).rejects.toThrow('unknown resource');
  });

  it('filters the per-server endpoint of a 2026 server too, whose requests otherwise pass through', async () => {
    const modern = await connect(connectModern(`${daemon.url}/servers/modern/mcp`));
    expect(names(await modern.listTools())).toEqual(['repeat', 'slow']);
    expect(textOf(await modern.callTool({ name: 'repeat', arguments: { text: 'through' } }))).toBe('through');
    await expect(modern.callTool({ name: 'grow', arguments: {} })).rejects.toThrow('unknown tool "grow"');
    await expect(modern.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow('unknown tool "echo"');
  });

  it('records each refused call in the audit log with why, though the client hears only "unknown"', async () => {
    const store = openStore(daemon.dataDir);
    try {
      const refused = await waitFor(() => {
        const rows = store.audit.query({ type: 'tools/call', outcome: 'denied' });
        return rows.length >= 7 ? rows : undefined;
      });
      const byName = Object.fromEntries(refused.map((row) => [row.name, [row.server, JSON.parse(row.detail ?? '{}').error]]));
      expect(byName['echo__echo']).toEqual(['echo', 'unknown tool "echo__echo": renamed to "say"']);
      expect(byName['counter']).toEqual(['echo', 'unknown tool "counter": denied by mcpServers.echo in the config']);
      expect(byName['grow']).toEqual(['modern', 'unknown tool "grow": denied by mcpServers.modern in the config']);
      // A call that went through is recorded by the tool's own name, as the server knows it.
      const served = store.audit.query({ type: 'tools/call', outcome: 'ok' }).map((row) => `${row.server}/${row.name}`);
      expect(served).toEqual(expect.arrayContaining(['echo/echo', 'modern/echo']));
      expect(served.some((name) => name.includes('say') || name.includes('repeat'))).toBe(false);
    } finally {
      store.close();
    }
  });

  it('applies an edit of the config at once, without a restart, and tells open sessions', async () => {
    const client = await connect(connectStreamable(`${daemon.url}/servers/echo/mcp`));
    const heard = recordNotifications(client);
    const pid = textOf(await client.callTool({ name: 'pid', arguments: {} }));
    await daemon.writeConfig(config({ ...echoRules, tools: { deny: ['blob', 'chatter'] }, overrides: {} }));
    await waitFor(() => heard.some((n) => n.method === 'notifications/tools/list_changed'));
    await waitFor(async () => names(await client.listTools()).includes('counter'));
    expect(names(await client.listTools())).toContain('echo');
    expect(names(await client.listTools())).not.toContain('say');
    expect(textOf(await client.callTool({ name: 'pid', arguments: {} }))).toBe(pid);
    const status = (await (await daemon.api('/api/servers/echo')).json()) as { rules: unknown; restarts: number };
    expect(status).toMatchObject({ rules: { tools: { deny: ['blob', 'chatter'] } }, restarts: 0 });
  });
});

// Its own daemon, so that what a project sees does not hang on the edits of the tests above.
describe('project rules', () => {
  let daemon: DaemonHandle;
  const cli = (args: string[]) => runCli([...args, '--data-dir', daemon.dataDir, '--config', daemon.configPath]);

  beforeAll(async () => {
    daemon = await startDaemon({ config: config({ tools: { deny: ['blob', 'chatter'] } }) });
  });
  afterAll(async () => {
    await daemon?.stop();
  });
  const connect = closedAfterAll();

  it('lets a project narrow and rename further, from the CLI, for its clients only', async () => {
    expect((await cli(['projects', 'create', 'team'])).code).toBe(0);
    const team = await connect(connectStreamable(`${daemon.url}/projects/team/mcp`));
    const heard = recordNotifications(team);
    expect(names(await team.listTools())).toContain('echo__add');

    const filtered = await cli(['projects', 'filter', 'team', 'echo', 'tools', '--deny', 'add,counter']);
    expect(filtered.code, filtered.stderr).toBe(0);
    const renamed = await cli(['projects', 'override', 'team', 'echo', 'echo', '--name', 'shout', '--description', 'Shouts']);
    expect(renamed.code, renamed.stderr).toBe(0);
    expect(renamed.stdout).toContain('"overrides":{"echo":{"name":"shout","description":"Shouts"}}');
    await waitFor(() => heard.some((n) => n.method === 'notifications/tools/list_changed'));

    await waitFor(async () => names(await team.listTools()).includes('echo__shout'));
    const teamTools = names(await team.listTools());
    expect(teamTools).not.toContain('echo__add');
    expect(teamTools).not.toContain('echo__echo');
    expect(textOf(await team.callTool({ name: 'echo__shout', arguments: { text: 'hey' } }))).toBe('hey');
    await expect(team.callTool({ name: 'echo__add', arguments: { a: 1, b: 2 } })).rejects.toThrow('unknown tool "echo__add"');

    const everyone = await connect(connectStreamable(`${daemon.url}/mcp`));
    expect(names(await everyone.listTools())).toEqual(expect.arrayContaining(['echo__add', 'echo__echo']));

    const shown = await cli(['projects', 'rules', 'team', '--json']);
    expect(JSON.parse(shown.stdout)).toEqual({
      project: 'team',
      rules: { echo: { tools: { deny: ['add', 'counter'] }, overrides: { echo: { name: 'shout', description: 'Shouts' } } } },
    });
    // keys explain lists what the key's project sees.
    expect((await cli(['members', 'add', 'ada', '--project', 'team', '--role', 'member'])).code).toBe(0);
    const { prefix } = JSON.parse((await cli(['keys', 'create', '--project', 'team', '--json'])).stdout) as { prefix: string };
    const explained = JSON.parse((await cli(['keys', 'explain', prefix, '--json'])).stdout) as {
      servers: { server: string; catalog: { tools: string[] } }[];
    };
    expect(explained.servers.find((s) => s.server === 'echo')?.catalog.tools.sort()).toEqual([
      'add_tool',
      'fail',
      'log',
      'peek',
      'pid',
      'remove_tool',
      'shout',
      'slow',
      'slow_stats',
      'touch',
      'whoami',
    ]);

    const unknown = await cli(['projects', 'filter', 'team', 'nope', 'tools', '--deny', 'x']);
    expect(unknown.stderr).toContain('unknown server "nope"');

    expect((await cli(['projects', 'rules', 'team', 'echo', '--clear'])).code).toBe(0);
    await waitFor(async () => names(await team.listTools()).includes('echo__add'));
  });

  it('sets and reads a project rules through the admin API, checked like the config', async () => {
    expect((await cli(['projects', 'create', 'crew'])).code).toBe(0);
    const put = await daemon.api('/api/projects/crew/servers/echo/rules', {
      method: 'PUT',
      body: JSON.stringify({ tools: ['pid'] }),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ project: 'crew', server: 'echo', rules: { tools: { allow: ['pid'] } } });
    const crew = await connect(connectStreamable(`${daemon.url}/projects/crew/servers/echo/mcp`));
    await waitFor(async () => names(await crew.listTools()).join() === 'pid');

    const bad = await daemon.api('/api/projects/crew/servers/echo/rules', { method: 'PUT', body: JSON.stringify({ tools: 5 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('tools: expected a list of name patterns');
    const nope = await daemon.api('/api/projects/nope/rules');
    expect(nope.status).toBe(404);
    expect((await daemon.api('/api/projects/crew/servers/echo/rules', { method: 'DELETE' })).status).toBe(200);
    await waitFor(async () => names(await crew.listTools()).includes('add'));
  });
});
