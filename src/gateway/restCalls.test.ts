/**
 * Tools called as plain REST requests through the daemon in process: the body as arguments, refused
 * before anything reaches the server when it is not an object, the tool is unknown or the arguments
 * miss the input schema; answered as the server answers, in either era.
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
          sampling: fixtureServer('sampling'),
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

  it('answers a request the server sends during the call with a refusal that says why', async () => {
    const answer = await post('/api/tools/sampling/ask_other', JSON.stringify({ method: 'custom/question' }));
    expect(answer.status).toBe(200);
    const text = (answer.body as { content: { text: string }[] }).content[0]!.text;
    expect(JSON.parse(text)).toMatchObject({
      message: expect.stringContaining('the server sent custom/question, which a REST call cannot answer'),
      data: { orchCode: 'CLIENT_REQUEST_REFUSED' },
    });
    expect(text).toContain('call the tool from an MCP client that supports it');
  });

  it('refuses a body that is not a JSON object, saying what to send', async () => {
    for (const body of ['[1, 2]', 'null', '"text"', '7']) {
      const answer = await post('/tools/echo.echo', body);
      expect(answer.status, body).toBe(400);
      expect(answer.body.error, body).toEqual({
        code: 'INVALID_PARAMS',
        message: "the body must be a JSON object: the tool's arguments by name",
        hint: 'send {} for a tool without arguments',
      });
    }
  });

  it('refuses a tool the server does not have, naming where its tools are listed', async () => {
    const answer = await post('/api/tools/echo/nope', '{}');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toEqual({
      code: 'UNKNOWN_TOOL',
      message: 'server "echo" has no tool "nope"',
      hint: 'list its tools with GET /api/tools/echo',
    });
  });

  it('refuses arguments that miss the input schema, naming each field and where the schema is', async () => {
    for (let round = 0; round < 2; round++) {
      const answer = await post('/api/tools/echo/add', JSON.stringify({ a: 'one', c: 3 }));
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'INVALID_PARAMS', hint: "the tool's inputSchema is in GET /api/tools/echo" });
      expect(answer.body.error!.message).toMatch(/^arguments of "add" do not match its input schema: /);
    }
  });
});
