import type { AuditEvent } from '../audit/events.js';
import { Deployer, type DeployHost, type DeploySecrets } from '../deploy/deployer.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/open.js';
import { loadSecretKey } from '../store/secretKey.js';
import { defaultEnvironment } from '../supervisor/environment.js';

export interface DeploymentsOptions {
  dataDir: string;
  store: Store;
  host: DeployHost;
  audit(event: AuditEvent): void;
  logger: Logger;
}

/**
 * Deployments as the daemon wires them: webhook secrets sealed in the store beside the others,
 * and git, npm and uv run with the same safe environment as servers (never MCP_ORCH_SECRET_KEY or
 * the daemon's tokens), without prompts that would wait for a terminal nobody watches.
 */
export function createDeployments(options: DeploymentsOptions): Deployer {
  const { store, dataDir } = options;
  const secrets: DeploySecrets = {
    get(name) {
      const key = loadSecretKey(dataDir);
      return key ? store.secrets.get(name, key) : undefined;
    },
    set: (name, value) => store.secrets.set(name, value, loadSecretKey(dataDir, { create: true })!),
    delete(name) {
      if (secrets.has(name)) store.secrets.delete(name);
    },
    has: (name) => store.secrets.list().some((secret) => secret.name === name),
  };
  return new Deployer({
    dataDir,
    host: options.host,
    secrets,
    audit: options.audit,
    logger: options.logger,
    env: { ...defaultEnvironment(), GIT_TERMINAL_PROMPT: '0', npm_config_update_notifier: 'false' },
  });
}
