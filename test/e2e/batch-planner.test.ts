// Planning a task in words: with an OpenAI-compatible model and an Anthropic one of our own on
// 127.0.0.1 (invalid plans sent back with their errors), and with the MCP client's own model through
// sampling; and a real MCP client calling mcp-orch__run_plan through /mcp, with progress.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, batchClient, step } from '../helpers/batch.js';
import { connectModern, connectStreamable } from '../helpers/clients.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { startFakeAnthropic, startFakeOpenAi, type ChatRequest, type FakeLlm } from '../helpers/fakeLlm.js';
import { fixtureServer } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const ADD_PLAN = {
  steps: [
    { type: 'tool', id: 'sum', server: 'echo', tool: 'add', arguments: { a: 2, b: 3 } },
    { type: 'tool', id: 'say', server: 'echo', tool: 'echo', arguments: { text: 'the sum is ${steps.sum.result.sum}' } },
  ],
};
const WRONG_PLAN = { steps: [{ type: 'tool', id: 'sum', server: 'echo', tool: 'plus', arguments: { a: 2, b: 3 } }] };

/** What the model answers next: set by each test. */
let answer: (request: ChatRequest) => string | object = () => ADD_PLAN;
let openai: FakeLlm;
let anthropic: FakeLlm;
let daemon: DaemonHandle;
let rest: ReturnType<typeof batchClient>;
const clients: { close(): Promise<void> }[] = [];

const config = (llm: object) => ({ mcpServers: { echo: fixtureServer('echo') }, orch: { llm } });

beforeAll(async () => {
  openai = await startFakeOpenAi((request) => answer(request));
  anthropic = await startFakeAnthropic((request) => answer(request));
  daemon = await startDaemon({ config: config({ provider: 'openai', model: 'planner-model', endpoint: openai.url, apiKey: 'k' }) });
  rest = batchClient(daemon, await adminToken(daemon));
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
  await daemon?.stop();
  await openai?.close();
  await anthropic?.close();
});

describe('the planner', () => {
  it('is shown the tools, and an invalid plan goes back to the model with its errors', { timeout: 30_000 }, async () => {
    let calls = 0;
    answer = () => (++calls === 1 ? WRONG_PLAN : ADD_PLAN);
    const before = openai.requests.length;
    const task = await rest.run({ request: 'add 2 and 3 and say the sum' });
    expect(task.status, JSON.stringify(task)).toBe('succeeded');
    expect(step(task, 'say').result).toBe('the sum is 5');
    const [first, repair] = openai.requests.slice(before);
    expect(first!.system).toContain('{"server":"echo","tool":"add"');
    expect(first!.messages).toEqual([{ role: 'user', content: 'add 2 and 3 and say the sum' }]);
    expect((first!.body.response_format as { type: string }).type).toBe('json_schema');
    expect(repair!.messages.at(-1)!.content).toContain('steps.sum: server "echo" has no tool "plus"');
    expect(openai.requests.length - before).toBe(2);
  });

  it('fails the task clearly when the plan is still invalid after two repairs', { timeout: 30_000 }, async () => {
    answer = () => WRONG_PLAN;
    const before = openai.requests.length;
    const task = await rest.run({ request: 'add things' });
    expect(task.status).toBe('failed');
    expect(task.error).toContain(
      'the planner (openai planner-model) gave no valid plan after 2 repairs: steps.sum: server "echo" has no tool "plus"',
    );
    expect(openai.requests.length - before).toBe(3);
  });

  it('works the same through the Anthropic messages API', { timeout: 30_000 }, async () => {
    answer = () => ADD_PLAN;
    await daemon.writeConfig(config({ provider: 'anthropic', model: 'claude-test', endpoint: anthropic.url, apiKey: 'k' }));
    // The config is reloaded from the file: wait until plans come from the new provider.
    const planned = await waitFor(
      async () => {
        const { body } = await rest.call('POST', '/execute', { request: 'add 2 and 3', dryRun: true });
        return anthropic.requests.length > 0 && body;
      },
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(planned).toMatchObject({ dryRun: true, plan: ADD_PLAN, order: [['sum'], ['say']] });
    expect(anthropic.requests.at(-1)!.body.model).toBe('claude-test');
    expect(anthropic.requests.at(-1)!.system).toContain('{"server":"echo","tool":"echo"');
  });
});

describe('mcp-orch__run_plan over /mcp', () => {
  it("is listed beside the servers' tools, runs a plan in one call and reports progress per step", { timeout: 30_000 }, async () => {
    const client = await connectStreamable(`${daemon.url}/mcp`);
    clients.push(client);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(['echo__add', 'mcp-orch__plan', 'mcp-orch__run_plan']));
    const progress: { progress: number; total?: number; message?: string }[] = [];
    const result = await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan: ADD_PLAN } }, undefined, {
      onprogress: (update) => progress.push(update),
    });
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toMatchObject({
      status: 'succeeded',
      steps: [
        { id: 'sum', result: { sum: 5 } },
        { id: 'say', result: 'the sum is 5' },
      ],
    });
    expect(progress).toEqual([
      { progress: 1, total: 2, message: 'step sum succeeded' },
      { progress: 2, total: 2, message: 'step say succeeded' },
    ]);
    const invalid = await client.callTool({ name: 'mcp-orch__run_plan', arguments: { plan: WRONG_PLAN } }).catch((error: Error) => error);
    expect(String(invalid)).toContain('steps.sum: server "echo" has no tool "plus"');
  });

  it('runs for a 2026-07-28 client too, stateless, with progress', { timeout: 30_000 }, async () => {
    const client = await connectModern(`${daemon.url}/mcp`);
    clients.push(client);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['mcp-orch__run_plan']));
    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'mcp-orch__run_plan', arguments: { plan: ADD_PLAN } },
      { onprogress: (update) => progress.push(update.progress) },
    );
    expect(result.structuredContent).toMatchObject({ status: 'succeeded', steps: [{ id: 'sum', result: { sum: 5 } }, { id: 'say' }] });
    expect(progress).toEqual([1, 2]);
  });

  it('plans with the client\'s own model through sampling (planner "client"), with no key on the server', { timeout: 30_000 }, async () => {
    const prompts: string[] = [];
    const client = await connectStreamable(`${daemon.url}/mcp`, {
      sampling: (request) => {
        prompts.push(request.params.systemPrompt ?? '');
        return {
          role: 'assistant',
          model: 'client-model',
          content: { type: 'text', text: `\`\`\`json\n${JSON.stringify(ADD_PLAN)}\n\`\`\`` },
        };
      },
    });
    clients.push(client);
    const planned = await client.callTool({ name: 'mcp-orch__plan', arguments: { request: 'add 2 and 3', planner: 'client' } });
    expect(planned.structuredContent).toEqual({ plan: { ...ADD_PLAN, stopOnError: false }, order: [['sum'], ['say']] });
    const ran = await client.callTool({ name: 'mcp-orch__run_plan', arguments: { request: 'add 2 and 3', planner: 'client' } });
    expect(ran.structuredContent).toMatchObject({ status: 'succeeded', planner: 'client' });
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).toContain('You plan tool calls');
    // A client without sampling is told how to get it.
    const plain = await connectStreamable(`${daemon.url}/mcp`);
    clients.push(plain);
    const refused = await plain
      .callTool({ name: 'mcp-orch__plan', arguments: { request: 'x', planner: 'client' } })
      .catch((error: Error) => error);
    expect(String(refused)).toContain('from a client that declares sampling');
  });
});
