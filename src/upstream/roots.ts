import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ClientCapabilities, Root } from '@modelcontextprotocol/sdk/types.js';
import { isStdioServer, type ServerConfig } from '../config/schema.js';

/**
 * The roots a shared server is offered: its configured `roots` as file:// URIs (relative paths from
 * its `cwd`, else the daemon's), never a client's. Undefined when none are configured.
 */
export function configuredRoots(config: ServerConfig): Root[] | undefined {
  if (!config.roots) return undefined;
  const base = isStdioServer(config) && config.cwd ? path.resolve(config.cwd) : process.cwd();
  return config.roots.map((root) => {
    const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(root) ? root : pathToFileURL(path.resolve(base, root)).href;
    return { uri, name: root };
  });
}

/**
 * What the gateway declares to a server it can answer on its clients' behalf: sampling and
 * elicitation always (routed to the client a request belongs to); roots for an instance of one
 * session's own (that session's), or for a shared server with configured roots (those), else none.
 */
export function clientCapabilitiesFor(ownInstance: boolean, roots: Root[] | undefined): ClientCapabilities {
  return {
    sampling: {},
    elicitation: { form: {}, url: {} },
    ...(ownInstance ? { roots: { listChanged: true } } : roots ? { roots: {} } : {}),
  };
}
