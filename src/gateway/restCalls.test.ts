/**
 * Tools called as plain REST requests through the daemon in process: answered as the server answers,
 * in one shape whatever the server's era.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureServer } from '../../test/helpers/fixtures.js';
import { startInProcessDaemon, type InProcessDaemon } from '../../test/helpers/inProcessDaemon.js';

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string; hint?: string } };
}

describe('tools called over REST', () => {
  let running: InProcessDaemon;
  let token: string;

  const post = async (path: string, body: string): Promise<Answer> => {
    const response = await fetch(`${running.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  };

  beforeAll(async () => {
    running = await startInProcessDaemon({
      config: {
        mcpServers: {
          echo: fixtureServer('echo'),
          modern: fixtureServer('modern-only'),
          asking: { ...fixtureServer('modern-only'), env: { MODERN_ASK_ANYONE: '1' } },
        },
      },
    });
    await running.daemon.settled();
    token = (await readFile(join(running.dataDir, 'admin-token'), 'utf8')).trim();
  });
  afterAll(() => running.stop());

  it('answers with the result of the tool on the server named', async () => {
    const answer = await post('/api/tools/echo/add', JSON.stringify({ a: 1, b: 2 }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ structuredContent: { sum: 3 } });
  });

  it('answers a call to a 2026-07-28 server as a 2025 result, without its resultType', async () => {
    const answer = await post('/api/tools/modern/echo', JSON.stringify({ text: 'from 2026' }));
    expect(answer).toEqual({ status: 200, body: { content: [{ type: 'text', text: 'from 2026' }] } });
  });

  it("refuses a 2026 server's request for input, which a REST client has no way to answer", async () => {
    const answer = await post('/api/tools/asking/ask', '{}');
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({
      code: 'CLIENT_REQUEST_REFUSED',
      message: 'mcp-orch: server "asking" needs elicitation/create, but the client did not declare the "elicitation" capability',
    });
  });
});
