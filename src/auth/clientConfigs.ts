import { DEFAULT_PROJECT } from '../store/projects.js';

/**
 * What to paste into each MCP client to reach a project with a key: the entry for its config file
 * (and, for Claude Code, the command that adds it). Claude Desktop launches commands only, so it
 * reaches the gateway through `mcp-remote`, with the header in an environment variable.
 */

export const CLIENTS = ['cursor', 'cline', 'claude-code', 'claude-desktop', 'vscode'] as const;
export type ClientName = (typeof CLIENTS)[number];

export const CLIENT_TITLES: Record<ClientName, string> = {
  cursor: 'Cursor',
  cline: 'Cline',
  'claude-code': 'Claude Code',
  'claude-desktop': 'Claude Desktop',
  vscode: 'VS Code',
};

export interface ClientConfig {
  client: ClientName;
  /** The object in the client's config file that holds servers: `mcpServers`, or `servers` for VS Code. */
  container: 'mcpServers' | 'servers';
  /** The server's name in that object. */
  name: string;
  entry: Record<string, unknown>;
  /** A shell command that adds the entry, where the client has one. */
  command?: string | undefined;
}

/** The Streamable HTTP endpoint of a project: the short `/mcp` for the default one. */
export function projectUrl(baseUrl: string, project: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return project === DEFAULT_PROJECT ? `${base}/mcp` : `${base}/projects/${encodeURIComponent(project)}/mcp`;
}

export function clientConfig(client: ClientName, options: { url: string; key: string; name?: string }): ClientConfig {
  const { url, key } = options;
  const name = options.name ?? 'mcp-orch';
  const headers = { Authorization: `Bearer ${key}` };
  switch (client) {
    case 'cursor':
      return { client, container: 'mcpServers', name, entry: { url, headers } };
    case 'cline':
      return { client, container: 'mcpServers', name, entry: { type: 'streamableHttp', url, headers } };
    case 'claude-code':
      return {
        client,
        container: 'mcpServers',
        name,
        entry: { type: 'http', url, headers },
        command: `claude mcp add --transport http --scope user ${name} ${url} --header "Authorization: Bearer ${key}"`,
      };
    case 'claude-desktop':
      return {
        client,
        container: 'mcpServers',
        name,
        // No space after the colon: some platforms split arguments on it.
        entry: {
          command: 'npx',
          args: ['-y', 'mcp-remote', url, '--header', 'Authorization:${MCP_ORCH_AUTH}'],
          env: { MCP_ORCH_AUTH: `Bearer ${key}` },
        },
      };
    case 'vscode':
      return { client, container: 'servers', name, entry: { type: 'http', url, headers } };
  }
}

/** The config as a person pastes it: the file's JSON, and the command where there is one. */
export function renderClientConfig(config: ClientConfig): string {
  const json = JSON.stringify({ [config.container]: { [config.name]: config.entry } }, null, 2);
  return config.command ? `${config.command}\n# or, in ~/.claude.json or .mcp.json:\n${json}` : json;
}
