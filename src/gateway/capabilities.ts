import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';

/**
 * What the unified endpoint advertises: what the servers together support. List-change
 * notifications are always on, because servers come and go with reloads and restarts.
 */
export function unionCapabilities(all: ServerCapabilities[]): ServerCapabilities {
  const union: ServerCapabilities = { tools: { listChanged: true } };
  if (all.some((caps) => caps.prompts)) union.prompts = { listChanged: true };
  if (all.some((caps) => caps.resources)) {
    union.resources = { listChanged: true, subscribe: all.some((caps) => caps.resources?.subscribe === true) };
  }
  if (all.some((caps) => caps.completions)) union.completions = {};
  if (all.some((caps) => caps.logging)) union.logging = {};
  return union;
}
