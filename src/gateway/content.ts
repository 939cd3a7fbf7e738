import type { Result } from '@modelcontextprotocol/sdk/types.js';
import type { Upstream } from '../upstream/upstream.js';
import type { View } from './view.js';

type Item = Record<string, unknown>;

/**
 * Rewrites the resource URIs inside a result (tool content, prompt messages, read contents) to the
 * form a client of the view must use, so that a `resource_link` a tool returns on the unified
 * endpoint can be read back through it. Results are copied only where something changes; views
 * that keep URIs as they are (per server) return the result itself.
 */
export function exposeContentUris(result: Result, view: View, upstream: Upstream): Result {
  if (!view.rewritesUris) return result;
  const expose = (uri: string): string => view.exposeUri(upstream, uri);
  const out: Record<string, unknown> = { ...result };
  if (Array.isArray(result.content)) out.content = (result.content as Item[]).map((item) => exposeItem(item, expose));
  if (Array.isArray(result.contents)) out.contents = (result.contents as Item[]).map((item) => withUri(item, expose));
  if (Array.isArray(result.messages)) {
    out.messages = (result.messages as Item[]).map((message) =>
      // Stryker disable next-line ConditionalExpression: without the typeof check a string or number content goes through exposeItem, which returns it as it is (null and absent content are tested)
      message.content && typeof message.content === 'object'
        ? { ...message, content: exposeItem(message.content as Item, expose) }
        : message,
    );
  }
  return out as Result;
}

function exposeItem(item: Item, expose: (uri: string) => string): Item {
  if (item.type === 'resource_link') return withUri(item, expose);
  // Stryker disable next-line ConditionalExpression: without the typeof check a string resource goes through withUri, which returns it as it is (the other conditions are tested)
  if (item.type === 'resource' && item.resource && typeof item.resource === 'object') {
    return { ...item, resource: withUri(item.resource as Item, expose) };
  }
  return item;
}

function withUri(item: Item, expose: (uri: string) => string): Item {
  return typeof item.uri === 'string' ? { ...item, uri: expose(item.uri) } : item;
}
