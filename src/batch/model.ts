import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createAnthropic } from '@ai-sdk/anthropic';
import { createAzure } from '@ai-sdk/azure';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, NoObjectGeneratedError, Output, type LanguageModel } from 'ai';
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

/** The AI SDK model `settings` name; credentials' `${secret:NAME}` are filled in now. */
export function languageModel(settings: LlmSettings, secrets: SecretResolver | undefined): LanguageModel {
  const secret = (value: string | undefined): string | undefined => filled(value, secrets);
  const common = {
    ...(settings.endpoint ? { baseURL: settings.endpoint } : {}),
    ...(settings.apiKey === undefined ? {} : { apiKey: secret(settings.apiKey) }),
    headers: settings.headers,
  };
  switch (settings.provider) {
    case 'openai':
      // Chat completions: what every OpenAI-compatible server (vLLM, Ollama, LM Studio) speaks too.
      return createOpenAI(common).chat(settings.model);
    case 'azure':
      return createAzure({
        ...common,
        ...(settings.resourceName ? { resourceName: settings.resourceName } : {}),
        ...(settings.apiVersion ? { apiVersion: settings.apiVersion } : {}),
      }).chat(settings.model);
    case 'anthropic':
      return createAnthropic(common)(settings.model);
    case 'bedrock':
      return createAmazonBedrock({
        ...common,
        ...(settings.region ? { region: settings.region } : {}),
        ...(settings.accessKeyId ? { accessKeyId: secret(settings.accessKeyId) } : {}),
        ...(settings.secretAccessKey ? { secretAccessKey: secret(settings.secretAccessKey) } : {}),
        ...(settings.sessionToken ? { sessionToken: secret(settings.sessionToken) } : {}),
      })(settings.model);
  }
}

/** A provider's model through the AI SDK, with structured output when JSON is asked for. */
export function providerModel(settings: LlmSettings, secrets: SecretResolver | undefined): Model {
  const model = languageModel(settings, secrets);
  const call = {
    model,
    maxOutputTokens: settings.maxOutputTokens,
    // Free-form tool arguments do not fit OpenAI's strict schemas; the plan is validated here anyway.
    providerOptions: { openai: { strictJsonSchema: false }, azure: { strictJsonSchema: false } },
  };
  return {
    label: `${settings.provider} ${settings.model}`,
    async generate({ system, messages, schema, signal }) {
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
