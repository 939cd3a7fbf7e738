/**
 * The daemon in the test's own process (test/helpers/inProcessDaemon.ts), through a real socket with
 * the SDK client: the path every request takes, reachable by mutation testing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

describe('the daemon in process', () => {
  let running: InProcessDaemon;
  beforeAll(async () => {
    running = await startInProcessDaemon({ config: { mcpServers: { echo: fixtureServer('echo') } } });
    await running.daemon.settled();
  });
  afterAll(() => running.stop());

  it('answers calls per server and on the unified endpoint, namespaced', async () => {
    const perServer = await connectStreamable(`${running.url}/servers/echo/mcp`);
    const unified = await connectStreamable(`${running.url}/mcp`);
    try {
      const direct = await perServer.callTool({ name: 'echo', arguments: { text: 'one' } });
      expect(direct.content).toEqual([{ type: 'text', text: 'one' }]);
      const { tools } = await unified.listTools();
      expect(tools.map((tool) => tool.name)).toContain('echo__echo');
      const namespaced = await unified.callTool({ name: 'echo__echo', arguments: { text: 'two' } });
      expect(namespaced.content).toEqual([{ type: 'text', text: 'two' }]);
    } finally {
      await Promise.all([perServer.close(), unified.close()]);
    }
  });
});
