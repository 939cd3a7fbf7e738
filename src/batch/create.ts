import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv-provider.js';
import type { Access } from '../auth/access.js';
import type { OrchSettings } from '../config/schema.js';
import type { SecretResolver } from '../config/secrets.js';
import type { Gateway } from '../gateway/gateway.js';
import type { OwnTools } from '../gateway/ownTools.js';
import type { Logger } from '../log.js';
import type { BatchRepo } from '../store/batchTasks.js';
import { BatchService } from './service.js';
import { batchTools } from './tools.js';

export interface CreateBatchOptions {
  gateway: Gateway;
  /** Where `mcp-orch__plan` and `mcp-orch__run_plan` are added. */
  ownTools: OwnTools;
  access: Access;
  repo: BatchRepo;
  /** The orch settings in force (orch.batch and orch.llm are read as each task starts). */
  settings: () => OrchSettings;
  secrets: () => SecretResolver | undefined;
  logger: Logger;
}

/** Batch tasks as the daemon wires them: steps on the gateway's forwarding path, tools on the unified endpoint. */
export function createBatch(options: CreateBatchOptions): BatchService {
  const { gateway } = options;
  const service = new BatchService({
    forwarder: gateway.forwarder,
    view: () => gateway.viewFor({ kind: 'unified' }),
    access: options.access,
    repo: options.repo,
    settings: () => ({ batch: options.settings().batch, llm: options.settings().llm }),
    separator: options.settings().namespaceSeparator,
    secrets: options.secrets,
    validator: new AjvJsonSchemaValidator(),
    logger: options.logger,
  });
  for (const tool of batchTools(service)) options.ownTools.add(tool);
  return service;
}
