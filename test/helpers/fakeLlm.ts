/**
 * Local stand-ins for model APIs, on 127.0.0.1 port 0: an OpenAI-compatible chat completions server
 * (what vLLM, Ollama and LM Studio serve) and Anthropic's messages API. Each answers with what the
 * test's `answer` function returns for the request, and keeps every request it received. No network.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  /** The system prompt and the conversation, as plain text. */
  system: string;
  messages: { role: string; content: string }[];
  /** The whole body as the client sent it. */
  body: Record<string, unknown>;
}

export interface FakeLlm {
  /** The base URL to give as orch.llm.endpoint. */
  url: string;
  requests: ChatRequest[];
  close(): Promise<void>;
}

/** What the model says: text, or a value sent as JSON text (OpenAI) or as the forced json tool's input (Anthropic). */
export type Answer = (request: ChatRequest) => string | object;

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return JSON.parse(text) as Record<string, unknown>;
}

const textOf = (content: unknown): string =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content.map((part: { text?: string; input?: unknown }) => part.text ?? JSON.stringify(part.input ?? '')).join('')
      : '';

async function listen(server: Server, path: string): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}

/** POST /v1/chat/completions, answered with one choice. */
export async function startFakeOpenAi(answer: Answer): Promise<FakeLlm> {
  const requests: ChatRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const all = (body.messages as { role: string; content: unknown }[]).map((m) => ({ role: m.role, content: textOf(m.content) }));
      const chat = {
        system: all
          .filter((m) => m.role === 'system')
          .map((m) => m.content)
          .join('\n'),
        messages: all.filter((m) => m.role !== 'system'),
        body,
      };
      requests.push(chat);
      const said = answer(chat);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `chatcmpl-${requests.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: String(body.model),
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: typeof said === 'string' ? said : JSON.stringify(said) },
              finish_reason: 'stop',
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        }),
      );
    })();
  });
  const url = await listen(server, '/v1');
  return { url, requests, close: closer(server) };
}

/** POST /v1/messages: a forced `json` tool is answered with a tool_use block, anything else with text. */
export async function startFakeAnthropic(answer: Answer): Promise<FakeLlm> {
  const requests: ChatRequest[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const system = textOf(body.system);
      const messages = (body.messages as { role: string; content: unknown }[]).map((m) => ({ role: m.role, content: textOf(m.content) }));
      const chat = { system, messages, body };
      requests.push(chat);
      const said = answer(chat);
      const jsonTool = ((body.tools as { name: string }[] | undefined) ?? []).some((tool) => tool.name === 'json');
      const content = jsonTool
        ? [{ type: 'tool_use', id: `toolu_${requests.length}`, name: 'json', input: typeof said === 'string' ? JSON.parse(said) : said }]
        : [{ type: 'text', text: typeof said === 'string' ? said : JSON.stringify(said) }];
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: `msg_${requests.length}`,
          type: 'message',
          role: 'assistant',
          model: String(body.model),
          content,
          stop_reason: jsonTool ? 'tool_use' : 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 10 },
        }),
      );
    })();
  });
  const url = await listen(server, '/v1');
  return { url, requests, close: closer(server) };
}
