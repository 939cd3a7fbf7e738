import { Command } from 'commander';
import { VERSION } from '../daemon/version.js';
import { registerAuditCommand } from './auditCommand.js';
import { registerBackupCommands } from './backupCommand.js';
import { registerBatchCommands } from './batchCommand.js';
import { registerConnectCommand } from './connectCommand.js';
import { registerControlCommands } from './controlCommands.js';
import { registerDeployCommands } from './deployCommand.js';
import { registerImportCommand } from './importCommand.js';
import { registerKeysCommands } from './keysCommand.js';
import { registerMembersCommands } from './membersCommand.js';
import { registerProjectsCommands } from './projectsCommand.js';
import { registerSecretsCommands } from './secretsCommand.js';
import { registerServeCommands } from './serveCommand.js';
import { registerServerCommands } from './serversCommand.js';
import { registerToolsCommands } from './toolsCommand.js';

const EXAMPLES = `
Examples:
  $ mcp-orch serve                                 # serve ./mcp-config.json on http://127.0.0.1:8000
  $ mcp-orch serve --config examples/mcp-config.yaml --port 9000
  $ mcp-orch stdio                                 # for clients that launch a command (Claude Desktop)
  $ mcp-orch list-servers                          # state and tool count of every server
  $ mcp-orch list-tools --server everything --json
  $ mcp-orch serve --daemon                        # in the background; stop it with mcp-orch stop-daemon
  $ mcp-orch status                                # state, pid, uptime, restarts, CPU, memory of each server
  $ mcp-orch restart everything                    # also start, stop; --group G for a group, --all for every server
  $ mcp-orch tools diff github                     # what a server changed in its tools since approved
  $ mcp-orch tools approve github search_issues    # accept it (orch.pinning: "enforce" held it until now)
  $ mcp-orch projects filter team github tools --deny 'delete_*'
  $ mcp-orch logs                                  # which servers there are; logs NAME -f follows one
  $ mcp-orch import ~/Library/Application\\ Support/Claude/claude_desktop_config.json
  $ mcp-orch batch run --plan plan.json            # many tool calls, the independent ones in parallel
  $ mcp-orch deploy https://github.com/me/my-server # clone, install, start; deploy update|rollback|list|remove

Finding the daemon: status, monitor, start, stop, restart, reload, logs and stop-daemon talk to the
running daemon without flags: the one of --data-dir (or $MCP_ORCH_DATA_DIR), else the one serving
./mcp-config.json, else the only one running (each registers in ~/.mcp-orch/daemons/). With several
running they list them and ask for --data-dir.

Environment:
  MCP_ORCH_DATA_DIR                 the data dir, as --data-dir
  MCP_ORCH_PORT, MCP_ORCH_HOST      serve's port and address, as --port and --host (the flags win)
  NO_COLOR, FORCE_COLOR=1           no colours; colours even when not on a terminal

Endpoints (serve):
  /mcp, /sse                        every server, names as <server>__<name>
  /servers/{name}/mcp, .../sse      one server, names untouched
  /mcp/ws, /servers/{name}/ws       the same over WebSocket (subprotocol mcp; browsers: POST /ws-tickets)
  /health, /metrics (Prometheus)    no auth
  /ui                               the dashboard: log in with an API key (or <data dir>/admin-token)
  /api/...                          REST API (reference at /api/docs, OpenAPI at /api/openapi.json);
                                    Authorization: Bearer <key>, or <data dir>/admin-token for everything
  /tools, /tools/{server}.{tool}    REST aliases: list tools, call one with its arguments as the JSON body
  /api/batch/..., /batch/...        batch tasks (plans of tool calls), part of the REST API; also
                                    /projects/{project}/batch/...
  /hooks/git/{name}                 push webhooks of deployments, signed (X-Hub-Signature-256)`;

export function buildProgram(): Command {
  const program = new Command('mcp-orch')
    .description('An MCP gateway: run the MCP servers of one config file and serve them to AI clients over HTTP and stdio.')
    .version(VERSION, '-v, --version')
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run mcp-orch --help for usage)');
  registerServeCommands(program);
  registerServerCommands(program);
  registerControlCommands(program);
  registerImportCommand(program);
  registerProjectsCommands(program);
  registerToolsCommands(program);
  registerMembersCommands(program);
  registerKeysCommands(program);
  registerConnectCommand(program);
  registerAuditCommand(program);
  registerSecretsCommands(program);
  registerBackupCommands(program);
  registerBatchCommands(program);
  registerDeployCommands(program);
  return program;
}
