import type { LanguageModel } from 'ai';
import type { CreateMessageResult } from '@modelcontextprotocol/sdk/types.js';
import type { LlmSettings } from '../config/batchSchema.js';
import { fillSecrets, type SecretResolver } from '../config/secrets.js';
import { OrchError } from '../errors.js';
import type { Peer } from '../gateway/serverRequests.js';

/** One turn of a conversation with a model. */
export interface ModelMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ModelRequest {
  system: string;
  messages: ModelMessage[];
  /** When given, the answer is JSON following this JSON Schema (`{}`: any JSON); otherwise text. */
  schema?: Record<string, unknown> | undefined;
  signal: AbortSignal;
}

/** A model's answer: its text, and the JSON in it when JSON was asked for and it parsed. */
export interface ModelAnswer {
  text: string;
  json?: unknown;
}

/** A model that plans and answers llm steps: a provider's, or the MCP client's own through sampling. */
export interface Model {
  /** For messages: `openai gpt-4o`, `the client's model`. */
  readonly label: string;
  generate(request: ModelRequest): Promise<ModelAnswer>;
}

/** A model's answer that should have been JSON and is not; its text goes back to the model in a repair. */
export class NotJson extends Error {
  constructor(readonly text: string) {
    super(`the answer is not JSON: ${text.length > 200 ? `${text.slice(0, 200)}…` : text || '(empty)'}`);
  }
}

function filled(value: string | undefined, secrets: SecretResolver | undefined): string | undefined {
  if (value === undefined || !value.includes('${secret:')) return value;
  if (!secrets) throw new OrchError('SECRET_UNAVAILABLE', 'orch.llm uses a secret, and this daemon reads none');
  return fillSecrets(value, secrets);
}

/** A provider's settings for its AI SDK constructor, with every `${secret:NAME}` filled in. */
function providerSettings(settings: LlmSettings, secrets: SecretResolver | undefined): Record<string, unknown> {
  const secret = (value: string | undefined): string | undefined => filled(value, secrets);
  const common = {
    ...(settings.endpoint ? { baseURL: settings.endpoint } : {}),
    ...(settings.apiKey === undefined ? {} : { apiKey: secret(settings.apiKey) }),
    headers: settings.headers,
  };
  switch (settings.provider) {
    case 'azure':
      return {
        ...common,
        ...(settings.resourceName ? { resourceName: settings.resourceName } : {}),
        ...(settings.apiVersion ? { apiVersion: settings.apiVersion } : {}),
      };
    case 'bedrock':
      return {
        ...common,
        ...(settings.region ? { region: settings.region } : {}),
        ...(settings.accessKeyId ? { accessKeyId: secret(settings.accessKeyId) } : {}),
        ...(settings.secretAccessKey ? { secretAccessKey: secret(settings.secretAccessKey) } : {}),
        ...(settings.sessionToken ? { sessionToken: secret(settings.sessionToken) } : {}),
      };
    default:
      return common;
  }
}

/**
 * The AI SDK model `settings` name. The SDK and its providers are loaded here, on a task's first
 * call of a model, and not by every command and daemon start: they were about a fifth of its CPU.
 */
async function languageModel(settings: LlmSettings, options: Record<string, unknown>): Promise<LanguageModel> {
  switch (settings.provider) {
    case 'openai':
      // Chat completions: what every OpenAI-compatible server (vLLM, Ollama, LM Studio) speaks too.
      return (await import('@ai-sdk/openai')).createOpenAI(options).chat(settings.model);
    case 'azure':
      return (await import('@ai-sdk/azure')).createAzure(options).chat(settings.model);
    case 'anthropic':
      return (await import('@ai-sdk/anthropic')).createAnthropic(options)(settings.model);
    case 'bedrock':
      return (await import('@ai-sdk/amazon-bedrock')).createAmazonBedrock(options)(settings.model);
  }
}

/**
 * A provider's model through the AI SDK, with structured output when JSON is asked for. Secrets are
 * filled in now, so that a missing one refuses the task when it is submitted.
 */
export function providerModel(settings: LlmSettings, secrets: SecretResolver | undefined): Model {
  const options = providerSettings(settings, secrets);
  let model: Promise<LanguageModel> | undefined;
  return {
    label: `${settings.provider} ${settings.model}`,
    async generate({ system, messages, schema, signal }) {
      const { generateText, jsonSchema, NoObjectGeneratedError, Output } = await import('ai');
      model ??= languageModel(settings, options);
      const call = {
        model: await model,
        maxOutputTokens: settings.maxOutputTokens,
        // Free-form tool arguments do not fit OpenAI's strict schemas; the plan is validated here anyway.
        providerOptions: { openai: { strictJsonSchema: false }, azure: { strictJsonSchema: false } },
      };
      const abortSignal = AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutSec * 1000)]);
      if (schema === undefined) {
        const { text } = await generateText({ ...call, system, messages, abortSignal });
        return { text };
      }
      try {
        const result = await generateText({
          ...call,
          system,
          messages,
          abortSignal,
          output: Output.object({ schema: jsonSchema(schema) }),
        });
        return { text: result.text || JSON.stringify(result.output), json: result.output };
      } catch (error) {
        if (NoObjectGeneratedError.isInstance(error)) throw new NotJson(error.text ?? '');
        throw error;
      }
    },
  };
}

/** The JSON in a model's text: the whole text, or the first fenced block. */
export function parseJsonText(text: string): unknown {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/.exec(text);
  try {
    return JSON.parse((fenced ? fenced[1]! : text).trim()) as unknown;
  } catch {
    throw new NotJson(text);
  }
}

/**
 * The connected MCP client's own model, through sampling/createMessage tied to the client's call:
 * no key on the server at all. JSON is asked for in words, with the schema, and parsed here.
 */
export function samplingModel(peer: Peer, maxTokens: number): Model {
  return {
    label: "the client's model (sampling)",
    async generate({ system, messages, schema, signal }) {
      const systemPrompt =
        schema === undefined
          ? system
          : `${system}\n\nAnswer with one JSON value only, no prose, following this JSON Schema:\n${JSON.stringify(schema)}`;
      const result = (await peer.request(
        {
          method: 'sampling/createMessage',
          params: {
            systemPrompt,
            maxTokens,
            messages: messages.map((message) => ({ role: message.role, content: { type: 'text', text: message.content } })),
          },
        },
        signal,
      )) as CreateMessageResult;
      const parts = Array.isArray(result.content) ? result.content : [result.content];
      const text = parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
      return schema === undefined ? { text } : { text, json: parseJsonText(text) };
    },
  };
}
