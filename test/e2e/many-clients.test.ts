/**
 * Many clients on one shared server at once: two and ten real SDK clients, per server and unified,
 * in both protocol eras, against one daemon whose echo and sampling fixtures each run as a single
 * shared process. Concurrent calls keep their own progress and results, cancelling some ends only
 * those, sampling and elicitation reach their own caller or are refused clearly, log levels stay per
 * session, and a resource subscription survives other clients leaving and the server restarting.
 * 2026-07-28 has no session to keep a log level or a subscription in: its clients are offered neither
 * and refused both (logging/setLevel, resources/subscribe), as that revision removed them.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Notification } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectModern, connectStreamable, MODERN_VERSION, recordNotifications, waitFor, type ModernClient } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixtureServer } from '../helpers/fixtures.js';

const COUNTS = [2, 10] as const;
const ENDPOINTS = ['per-server', 'unified'] as const;
type EndpointKind = (typeof ENDPOINTS)[number];
const CASES = ENDPOINTS.flatMap((kind) => COUNTS.map((count) => [kind, count] as const));

const textOf = (result: unknown): string =>
  (result as CallToolResult).content.map((item) => (item.type === 'text' ? item.text : '')).join('');

interface SlowStats {
  started: number;
  completed: number;
  cancelled: number;
}

/** Ends the session on the daemon too: a Streamable HTTP session outlives its client unless DELETEd. */
async function leave(client: Client): Promise<void> {
  const transport = client.transport;
  if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

/** How a client on `kind` names a server's tool and resource, and where it connects for it. */
function endpoint(daemon: () => DaemonHandle, kind: EndpointKind) {
  return {
    url: (server: string) => (kind === 'unified' ? `${daemon().url}/mcp` : `${daemon().url}/servers/${server}/mcp`),
    tool: (server: string, name: string) => (kind === 'unified' ? `${server}__${name}` : name),
    uri: (server: string, uri: string) => (kind === 'unified' ? `mcp-orch://${server}/${uri}` : uri),
  };
}

interface CallOptions {
  onprogress?: (progress: { progress: number }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** The clients of one era seen alike: client `i` calls `server`'s tool by its name on the endpoint. */
interface Callers {
  count: number;
  /** On the echo server, and on the sampling one. */
  call(i: number, server: 'echo' | 'llm', name: string, args?: Record<string, unknown>, options?: CallOptions): Promise<CallToolResult>;
}

/** What each client's sampling and elicitation handlers were asked, and the answers that name it. */
function answers(count: number) {
  const asked: string[][] = Array.from({ length: count }, () => []);
  const elicited: string[][] = Array.from({ length: count }, () => []);
  return {
    asked,
    elicited,
    sampling: (i: number, prompt: string) => {
      asked[i]!.push(prompt);
      return { role: 'assistant' as const, model: `model-${i}`, content: { type: 'text' as const, text: `sampled by client ${i}` } };
    },
    elicitation: (i: number, message: string) => {
      elicited[i]!.push(message);
      return { action: 'accept' as const, content: { name: `user of client ${i}` } };
    },
  };
}

const promptOf = (request: { params: { messages: Array<{ content: unknown }> } }): string => {
  const content = request.params.messages[0]?.content as { type?: string; text?: string } | undefined;
  return content?.type === 'text' ? String(content.text) : '';
};

async function slowStats(callers: Callers): Promise<SlowStats> {
  return (await callers.call(0, 'echo', 'slow_stats')).structuredContent as unknown as SlowStats;
}

/** Every client calls at once, with a different number of steps: progress at the wrong caller shows. */
async function concurrentProgress(callers: Callers): Promise<void> {
  const steps = (i: number) => 2 + (i % 4);
  const progress: number[][] = Array.from({ length: callers.count }, () => []);
  const results = await Promise.all(
    progress.map((seen, i) => callers.call(i, 'echo', 'slow', { ms: 200, steps: steps(i) }, { onprogress: (p) => seen.push(p.progress) })),
  );
  results.forEach((result, i) => {
    expect(textOf(result)).toBe(`done after ${steps(i)} steps`);
    expect(progress[i]).toEqual(Array.from({ length: steps(i) }, (_, n) => n + 1));
  });
}

/** Half the clients give up on a call that would outlast the test; the other half's calls complete. */
async function cancelHalf(callers: Callers): Promise<void> {
  const before = await slowStats(callers);
  const gives = (i: number) => i % 2 === 0;
  const aborts = Array.from({ length: callers.count }, () => new AbortController());
  const calls = aborts.map((abort, i) =>
    callers
      .call(i, 'echo', 'slow', { ms: gives(i) ? 120_000 : 300, steps: 1 }, { signal: abort.signal, timeout: 120_000 })
      .then(textOf, (error: unknown) => error as Error),
  );
  await waitFor(async () => (await slowStats(callers)).started >= before.started + callers.count);
  aborts.forEach((abort, i) => gives(i) && abort.abort('this client gave up'));
  const outcomes = await Promise.all(calls);
  outcomes.forEach((outcome, i) => {
    if (gives(i)) expect(outcome).toBeInstanceOf(Error);
    else expect(outcome).toBe('done after 1 steps');
  });
  const half = Math.ceil(callers.count / 2);
  const after = await waitFor(async () => {
    const now = await slowStats(callers);
    return now.cancelled === before.cancelled + half ? now : undefined;
  });
  expect(after.completed).toBe(before.completed + (callers.count - half));
}

/**
 * Everyone asks at once: a shared stdio server does not say which request its sampling or
 * elicitation is for, so each gets its own answer or a refusal that says how to get isolation. One at
 * a time, the tie is certain and everyone gets their own. No client is ever asked another's question.
 */
async function ownAnswers(callers: Callers, given: ReturnType<typeof answers>): Promise<void> {
  const sample = (i: number) => ({ prompt: `prompt of client ${i}` });
  const question = (i: number) => ({ message: `question for client ${i}` });
  const sampledBy = (i: number) => `sampled by client ${i}`;
  const answeredBy = (i: number) => JSON.stringify({ action: 'accept', content: { name: `user of client ${i}` } });
  const all = Array.from({ length: callers.count }, (_, i) => i);
  const [samples, questions] = await Promise.all([
    Promise.all(all.map((i) => callers.call(i, 'llm', 'ask_llm', sample(i)))),
    Promise.all(all.map((i) => callers.call(i, 'llm', 'ask_user', question(i)))),
  ]);
  const ownOrRefused = (result: CallToolResult, own: string) => {
    if (result.isError) expect(textOf(result)).toContain('"isolation": "session"');
    else expect(textOf(result)).toBe(own);
  };
  samples.forEach((result, i) => ownOrRefused(result, sampledBy(i)));
  questions.forEach((result, i) => ownOrRefused(result, answeredBy(i)));
  for (const i of all) {
    expect(textOf(await callers.call(i, 'llm', 'ask_llm', sample(i)))).toBe(sampledBy(i));
    expect(textOf(await callers.call(i, 'llm', 'ask_user', question(i)))).toBe(answeredBy(i));
  }
  given.asked.forEach((prompts, i) => expect(new Set(prompts)).toEqual(new Set([sample(i).prompt])));
  given.elicited.forEach((messages, i) => expect(new Set(messages)).toEqual(new Set([question(i).message])));
}

describe('many clients on one shared server', () => {
  let daemon: DaemonHandle;

  beforeAll(async () => {
    daemon = await startDaemon({ config: { mcpServers: { echo: fixtureServer('echo'), llm: fixtureServer('sampling') } } });
  });

  afterAll(async () => {
    await daemon?.stop();
  });

  describe.each(CASES)('in 2025-11-25 on the %s endpoint, %i clients', (kind, count) => {
    const ep = endpoint(() => daemon, kind);
    const given = answers(count);
    const echo: Client[] = [];
    const llm: Client[] = [];
    const heard: Notification[][] = [];
    const callers: Callers = {
      count,
      call: (i, server, name, args = {}, options) =>
        (server === 'echo' ? echo : llm)[i]!.callTool(
          { name: ep.tool(server, name), arguments: args },
          undefined,
          options,
        ) as Promise<CallToolResult>,
    };

    beforeAll(async () => {
      const all = Array.from({ length: count }, (_, i) => i);
      echo.push(...(await Promise.all(all.map(() => connectStreamable(ep.url('echo'))))));
      heard.push(...echo.map(recordNotifications));
      llm.push(
        ...(await Promise.all(
          all.map((i) =>
            connectStreamable(ep.url('llm'), {
              sampling: (request) => given.sampling(i, promptOf(request)),
              elicitation: (request) => given.elicitation(i, request.params.message),
            }),
          ),
        )),
      );
    });

    afterAll(async () => {
      await Promise.all([...echo, ...llm].map(leave));
    });

    it('runs a call from every client at once, each with its own progress and result', () => concurrentProgress(callers));

    it('cancels the calls of half the clients and only those', () => cancelHalf(callers));

    it('sends sampling and elicitation only to their own caller, or refuses clearly when it cannot tell', () => ownAnswers(callers, given));

    it('filters a shared server’s log messages by each session’s own level, in both directions', async () => {
      const tag = `${kind}-${count}-${Date.now()}`;
      const messages = (i: number) =>
        heard[i]!.filter((n) => n.method === 'notifications/message' && String(n.params?.data).startsWith(tag)).map((n) => n.params?.data);
      // Half at info, half at error; then the other way round. Each round logs an info, then an error.
      for (const [round, verbose] of [
        [1, (i: number) => i % 2 === 0],
        [2, (i: number) => i % 2 === 1],
      ] as const) {
        await Promise.all(echo.map((client, i) => client.setLoggingLevel(verbose(i) ? 'info' : 'error')));
        const before = echo.map((_, i) => messages(i).length);
        await callers.call(0, 'echo', 'log', { level: 'info', message: `${tag} info ${round}` });
        await callers.call(0, 'echo', 'log', { level: 'error', message: `${tag} error ${round}` });
        // The error comes after the info on every session's stream: once it is there, so is the info, if it passes.
        await waitFor(() => echo.every((_, i) => messages(i).includes(`${tag} error ${round}`)));
        echo.forEach((_, i) =>
          expect(messages(i).slice(before[i])).toEqual([...(verbose(i) ? [`${tag} info ${round}`] : []), `${tag} error ${round}`]),
        );
      }
    });

    it('keeps a subscription when another client leaves, and after the server restarts', async () => {
      const uri = ep.uri('echo', 'fixture://readme');
      const updates = (i: number) => heard[i]!.filter((n) => n.method === 'notifications/resources/updated').length;
      const touch = async () => textOf(await callers.call(1, 'echo', 'touch', { uri: 'fixture://readme' }));
      await Promise.all(echo.map((client) => client.subscribeResource({ uri })));
      const staying = echo.slice(1).map((_, n) => n + 1);
      const counts = () => staying.map(updates);

      // The first client unsubscribes: the others still hear of changes, it does not.
      await echo[0]!.unsubscribeResource({ uri });
      const firstBefore = updates(0);
      let before = counts();
      expect(await touch()).toBe('notified');
      await waitFor(() => counts().every((n, k) => n === before[k]! + 1));
      expect(updates(0)).toBe(firstBefore);

      // It leaves altogether; the others keep their updates.
      await leave(echo[0]!);
      before = counts();
      expect(await touch()).toBe('notified');
      await waitFor(() => counts().every((n, k) => n === before[k]! + 1));

      // A new process knows nothing of the subscription: the gateway must subscribe again.
      const restarted = await daemon.api('/api/servers/echo/restart', { method: 'POST' });
      expect(restarted.status).toBe(200);
      before = counts();
      await waitFor(async () => (await touch()) === 'notified', { timeoutMs: 10_000 });
      await waitFor(() => counts().every((n, k) => n === before[k]! + 1));
    });
  });

  describe.each(CASES)('in 2026-07-28 on the %s endpoint, %i clients', (kind, count) => {
    const ep = endpoint(() => daemon, kind);
    const given = answers(count);
    const echo: ModernClient[] = [];
    const llm: ModernClient[] = [];
    const callers: Callers = {
      count,
      call: (i, server, name, args = {}, options) =>
        (server === 'echo' ? echo : llm)[i]!.callTool({ name: ep.tool(server, name), arguments: args }, options) as Promise<CallToolResult>,
    };

    beforeAll(async () => {
      const all = Array.from({ length: count }, (_, i) => i);
      echo.push(...(await Promise.all(all.map(() => connectModern(ep.url('echo'))))));
      llm.push(
        ...(await Promise.all(
          all.map((i) =>
            connectModern(ep.url('llm'), {
              sampling: (request) => given.sampling(i, promptOf(request)),
              elicitation: (request) => given.elicitation(i, request.params.message),
            }),
          ),
        )),
      );
    });

    afterAll(async () => {
      await Promise.all([...echo, ...llm].map((client) => client.close().catch(() => undefined)));
    });

    it('runs a call from every client at once, each with its own progress and result', () => concurrentProgress(callers));

    it('cancels the calls of half the clients and only those', () => cancelHalf(callers));

    it('sends sampling and elicitation rounds only to their own caller, or refuses clearly when it cannot tell', () =>
      ownAnswers(callers, given));

    // Without a session nothing holds a client's log level or subscriptions: 2026-07-28 removed both methods.
    it('offers no log level and no resource subscription, and refuses both as not part of 2026-07-28', async () => {
      const offered = echo[0]!.getServerCapabilities();
      expect(offered?.tools).toBeDefined();
      expect(offered?.logging).toBeUndefined();
      expect(offered?.resources?.subscribe).toBeUndefined();
      const removed = [
        ['logging/setLevel', { level: 'debug' }],
        ['resources/subscribe', { uri: ep.uri('echo', 'fixture://readme') }],
      ] as const;
      for (const [method, params] of removed) {
        const response = await fetch(ep.url('echo'), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-protocol-version': MODERN_VERSION,
            'mcp-method': method,
          },
          body: JSON.stringify({
            jsonrpc: '2.0',
            id: 1,
            method,
            params: {
              ...params,
              _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_VERSION, 'io.modelcontextprotocol/clientCapabilities': {} },
            },
          }),
        });
        expect(response.status, method).toBe(404);
        expect(((await response.json()) as { error: unknown }).error).toEqual({
          code: -32601,
          message: `Method not found: ${method} is not part of the 2026-07-28 protocol`,
        });
      }
    });
  });
});
