import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { CatalogKind } from '../upstream/catalog.js';

/** Sampling and elicitation can wait on a person; the upstream's own timeout is the real bound. */
export const CLIENT_REQUEST_TIMEOUT_MS = 10 * 60 * 1000;

/** How long a unified endpoint waits for servers that are still starting before it answers. */
export const UNIFIED_START_WAIT_MS = 10_000;

/** The notification that announces a change of each catalog list. */
export const LIST_CHANGED: Readonly<Record<CatalogKind, string>> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
};

/** The server->client requests of the 2025 protocol that need a client capability, and which. */
export const CAPABILITY_FOR: Readonly<Record<string, keyof ClientCapabilities>> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};
