/**
 * What a 2025-11-25 session sends for a call once its client has cancelled it: nothing, even when
 * the work behind the call goes on reporting (the gateway's own run_plan tool reports each step that
 * ends, and the steps a cancel stops end after it). The daemon in process, a raw client on unified.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { connectRaw, toolCall } from '../../test/helpers/rawSession.js';
import { waitFor } from '../../test/helpers/wait.js';
import { localPrincipal } from '../auth/policy.js';

describe('a session after its client cancelled a call', () => {
  let running: InProcessDaemon;

  beforeAll(async () => {
    running = await startInProcessDaemon({ config: { mcpServers: { one: fixtureServer('echo') } } });
    await running.daemon.settled();
  });
  afterAll(() => running.stop());

  it('sends no progress of a cancelled run_plan, though its stopped steps still report', async () => {
    const client = await connectRaw(running.daemon.gateway, { kind: 'unified' }, localPrincipal('default'));
    let nextId = 100;
    const stats = async () => {
      const id = nextId++;
      await client.send(toolCall(id, 'one__slow_stats'));
      const { result } = (await client.response(id)) as { result: { structuredContent: { started: number; cancelled: number } } };
      return result.structuredContent;
    };
    const before = await stats();
    const plan = { steps: [{ type: 'tool', id: 'wait', server: 'one', tool: 'slow', arguments: { ms: 60_000, steps: 1 } }] };
    await client.send(toolCall(1, 'mcp-orch__run_plan', { plan }, { _meta: { progressToken: 'plan' } }));
    await waitFor(async () => (await stats()).started === before.started + 1);
    await client.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'enough' } });
    // The step's call is cancelled at the server: the step has ended (cancelled), which run_plan reports.
    await waitFor(async () => (await stats()).cancelled === before.cancelled + 1);
    await client.flush();
    expect(client.received.filter((m) => m.method === 'notifications/progress' || m.id === 1)).toEqual([]);
    await client.close();
  });
});
