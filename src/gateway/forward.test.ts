/**
 * The forwarding path's own records and its progress-token split: a kept answer is audited as
 * served from the cache, and a progress token that is not a string or number is no token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStreamable } from '../../test/helpers/clients.js';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';
import { waitFor } from '../../test/helpers/wait.js';
import { openStore } from '../store/open.js';
import { splitProgressToken } from './forward.js';

describe('the forwarding path', () => {
  let running: InProcessDaemon;

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: { mcpServers: { echo: { ...fixtureServer('echo'), cache: { tools: ['echo'] } } } },
    });
    await running.daemon.settled();
  });
  afterAll(async () => {
    await running.stop();
  });

  it('audits a call answered from the cache as cached, and the call that filled it as not', async () => {
    const client = await connectStreamable(`${running.url}/servers/echo/mcp`);
    try {
      for (let round = 0; round < 2; round++) {
        expect(await client.callTool({ name: 'echo', arguments: { text: 'kept' } })).toEqual({ content: [{ type: 'text', text: 'kept' }] });
      }
    } finally {
      await client.close();
    }
    const store = openStore(running.dataDir);
    try {
      const rows = await waitFor(() => {
        const found = store.audit.query({ type: 'tools/call', server: 'echo', name: 'echo' });
        return found.length === 2 ? found : undefined;
      });
      const cached = rows.map((row) => (row.detail ? (JSON.parse(row.detail) as { cached?: boolean }).cached : undefined));
      expect(cached.sort()).toEqual([true, undefined]);
    } finally {
      store.close();
    }
  });
});

describe('splitProgressToken', () => {
  it('takes a string or number token off the params, and leaves any other value where it is', () => {
    expect(splitProgressToken({ name: 't', _meta: { progressToken: 7, other: 1 } })).toEqual({
      params: { name: 't', _meta: { other: 1 } },
      progressToken: 7,
    });
    const params = { name: 't', _meta: { progressToken: { not: 'a token' } } };
    expect(splitProgressToken(params)).toEqual({ params, progressToken: undefined });
    expect(splitProgressToken({ name: 't' })).toEqual({ params: { name: 't' }, progressToken: undefined });
  });
});
