import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AuditEvent } from '../audit/events.js';
import { editConfigFile } from '../config/edit.js';
import { OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  builtEntry,
  checkRequiredEnv,
  deploymentName,
  fetchSource,
  install,
  serverEntry,
  type BuildContext,
  type Fetched,
  type Source,
} from './build.js';
import { checkRepositoryUrl } from './git.js';
import { maskCredentials, openDeployLog, type DeployLog } from './log.js';
import { DeploymentFiles, KEPT_COMMITS, type Deployment } from './records.js';
import type { DeployRequest, DeploymentStatus, DeployResult } from './schema.js';
import { isFollowed, pushOf, verifySignature } from './webhook.js';

/** What deployments ask of the running daemon. */
export interface DeployHost {
  /** The config file deployed servers are written to; undefined when the daemon has none. */
  readonly configFile: string | undefined;
  /** Servers in the running config. */
  serverNames(): string[];
  /** A server's state, for listings. */
  state(name: string): string | undefined;
  /**
   * Starts `entry` as server `name` beside whatever runs under that name now, and only once it passed
   * its first health check puts it in its place: `write` (the config file's edit) runs under the
   * daemon's config lock, then the old one stops. Rejects with why not; then nothing changed.
   */
  switchTo(name: string, entry: Record<string, unknown>, write: () => void): Promise<void>;
  /** Stops server `name`; `write` (its removal from the file) runs under the config lock. */
  remove(name: string, write: () => void): Promise<void>;
}

/** Webhook secrets and the secrets `${secret:NAME}` may name, in the store, sealed. */
export interface DeploySecrets {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  delete(name: string): void;
  has(name: string): boolean;
}

export interface DeployerDeps {
  dataDir: string;
  host: DeployHost;
  secrets: DeploySecrets;
  audit(event: AuditEvent): void;
  logger: Logger;
  /** The environment of git, npm and uv: the daemon's safe variables. */
  env: Record<string, string>;
}

/** What a webhook delivery carries: the raw body (for the signature) and GitHub's headers. */
export interface Delivery {
  body: Uint8Array;
  signature: string | undefined;
  event: string | undefined;
  contentType: string | undefined;
  address: string | undefined;
}

const webhookSecretName = (name: string): string => `deploy.${name}.webhook`;

/**
 * Servers deployed from git repositories: cloned at a commit into `<data dir>/deployments/<name>/<commit>`,
 * installed, started beside what runs, and switched to once healthy (the host does that part). One
 * operation per deployment at a time; builds of different deployments run side by side.
 */
export class Deployer {
  private readonly files: DeploymentFiles;
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly log: Logger;
  /** Aborted by close(): running steps are killed, and nothing new starts. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: DeployerDeps) {
    this.files = new DeploymentFiles(deps.dataDir);
    this.log = deps.logger.child({ component: 'deploy' });
  }

  /** Deploys a new server; the webhook secret in the result is shown this once. */
  async deploy(request: DeployRequest, onLog?: (line: string) => void): Promise<DeployResult> {
    const configFile = this.configFile();
    checkRepositoryUrl(request.url);
    const source: Source = { url: request.url, ref: request.ref, subdir: request.subdir, env: request.env ?? {} };
    const log = openDeployLog(undefined, onLog);
    log.line(`deploy of ${request.url}${request.ref ? ` at ${request.ref}` : ''}`);
    const fetched = await fetchSource(source, this.context(log));
    let name: string;
    try {
      name = deploymentName(request.name, fetched.plan, request.url);
    } catch (error) {
      fs.rmSync(fetched.clone, { recursive: true, force: true });
      throw error;
    }
    return this.exclusive(name, async () => {
      try {
        if (this.files.read(name)) {
          throw new OrchError('CONFLICT', `"${name}" is deployed already`, { hint: `update it with \`mcp-orch deploy update ${name}\`` });
        }
        if (this.deps.host.serverNames().includes(name)) {
          throw new OrchError('CONFLICT', `a server named "${name}" is in the config already`, { hint: 'choose another name with --name' });
        }
      } catch (error) {
        fs.rmSync(fetched.clone, { recursive: true, force: true });
        throw error;
      }
      log.attach(this.files.logFile(name));
      const entry = await this.build(fetched, name, source, false, log);
      const secret = randomBytes(32).toString('hex');
      try {
        // Sealed first: a store that cannot keep it stops the deployment before anything runs.
        this.deps.secrets.set(webhookSecretName(name), secret);
        await this.switch(name, entry, fetched, log, configFile);
      } catch (error) {
        this.deps.secrets.delete(webhookSecretName(name));
        fs.rmSync(this.files.checkout(name, fetched.commit), { recursive: true, force: true });
        throw error;
      }
      const record: Deployment = {
        name,
        url: request.url,
        ...(fetched.ref ? { ref: fetched.ref } : {}),
        ...(request.subdir ? { subdir: request.subdir } : {}),
        ...(fetched.plan.manifest.description ? { description: fetched.plan.manifest.description } : {}),
        env: source.env,
        history: [{ commit: fetched.commit, at: new Date().toISOString() }],
        current: fetched.commit,
      };
      this.files.write(record);
      this.manage('deployments.create', name, { url: maskCredentials(request.url), commit: fetched.commit });
      return { ...this.status(record), webhook: { path: `/hooks/git/${name}`, secret } };
    });
  }

  /** Builds the ref it follows (or `ref`) and switches to it once healthy; the old commit serves until then, and after a failure. */
  update(name: string, options: { ref?: string | undefined } = {}, onLog?: (line: string) => void): Promise<DeployResult> {
    const configFile = this.configFile();
    return this.exclusive(name, async () => {
      const record = this.record(name);
      const log = openDeployLog(this.files.logFile(name), onLog);
      const source: Source = { url: record.url, ref: options.ref ?? record.ref, subdir: record.subdir, env: record.env };
      log.line(`update of ${name} from ${record.current}`);
      const fetched = await fetchSource(source, this.context(log));
      if (fetched.commit === record.current) {
        fs.rmSync(fetched.clone, { recursive: true, force: true });
        log.line(`already at ${fetched.commit}`);
        return { ...this.status(record), changed: false };
      }
      const built = record.history.some((entry) => entry.commit === fetched.commit);
      const entry = await this.build(fetched, name, source, built, log);
      try {
        await this.switch(name, entry, fetched, log, configFile);
      } catch (error) {
        if (!built) fs.rmSync(this.files.checkout(name, fetched.commit), { recursive: true, force: true });
        throw error;
      }
      const kept = record.history.slice(0, record.history.findIndex((e) => e.commit === record.current) + 1);
      const next: Deployment = {
        ...record,
        ...(options.ref ? { ref: options.ref } : {}),
        history: [...kept.filter((e) => e.commit !== fetched.commit), { commit: fetched.commit, at: new Date().toISOString() }].slice(
          -KEPT_COMMITS,
        ),
        current: fetched.commit,
      };
      this.files.write(next);
      this.files.prune(next);
      this.manage('deployments.update', name, { from: record.current, to: fetched.commit });
      return { ...this.status(next), previous: record.current, changed: true };
    });
  }

  /** Goes back to the commit deployed before the current one, through the same health check. */
  rollback(name: string, onLog?: (line: string) => void): Promise<DeployResult> {
    const configFile = this.configFile();
    return this.exclusive(name, async () => {
      const record = this.record(name);
      const at = record.history.findIndex((entry) => entry.commit === record.current);
      const previous = record.history[at - 1];
      if (!previous) {
        throw new OrchError('CONFLICT', `${name} has no earlier commit to go back to`, {
          hint: `\`mcp-orch deploy list\` shows what it runs`,
        });
      }
      const log = openDeployLog(this.files.logFile(name), onLog);
      log.line(`rollback of ${name} from ${record.current} to ${previous.commit}`);
      const source: Source = { url: record.url, ref: record.ref, subdir: record.subdir, env: record.env };
      const entry = builtEntry(this.files, name, { commit: previous.commit, ref: record.ref }, source);
      await this.deps.host.switchTo(name, entry, () => editConfigFile(configFile, (edit) => edit.set(name, entry)));
      const next = { ...record, current: previous.commit };
      this.files.write(next);
      this.manage('deployments.rollback', name, { from: record.current, to: previous.commit });
      log.line(`${name} runs ${previous.commit}`);
      return { ...this.status(next), previous: record.current, changed: true };
    });
  }

  /** Stops and forgets a deployment: its config entry, its checkouts and its webhook secret. */
  remove(name: string): Promise<void> {
    const configFile = this.configFile();
    return this.exclusive(name, async () => {
      this.record(name);
      await this.deps.host.remove(name, () => editConfigFile(configFile, (edit) => edit.delete(name)));
      this.files.remove(name);
      this.deps.secrets.delete(webhookSecretName(name));
      this.manage('deployments.remove', name);
    });
  }

  list(): DeploymentStatus[] {
    return this.files.names().flatMap((name) => {
      const record = this.files.read(name);
      return record ? [this.status(record)] : [];
    });
  }

  get(name: string): DeploymentStatus {
    return this.status(this.record(name));
  }

  /** A new webhook secret for a deployment (the old one stops working at once); shown this once. */
  rotateWebhookSecret(name: string): { path: string; secret: string } {
    this.record(name);
    const secret = randomBytes(32).toString('hex');
    this.deps.secrets.set(webhookSecretName(name), secret);
    this.manage('deployments.webhook-secret', name);
    return { path: `/hooks/git/${name}`, secret };
  }

  /**
   * A push webhook: checked against the deployment's secret (anything unsigned or mis-signed is
   * refused as unknown deployments are, so a stranger learns nothing), then a push to the ref it
   * follows starts an update in the background. Every delivery is audited.
   */
  webhook(name: string, delivery: Delivery): { status: 200 | 202 | 401; body: Record<string, unknown> } {
    const record = this.files.names().includes(name) ? this.files.read(name) : undefined;
    const secret = record ? this.deps.secrets.get(webhookSecretName(name)) : undefined;
    const audit = (outcome: 'ok' | 'denied', reason: string): void =>
      this.deps.audit({ type: 'webhook', target: name, outcome, reason, event: delivery.event, address: delivery.address });
    if (!secret || !verifySignature(secret, delivery.body, delivery.signature)) {
      const reason = !record ? 'no such deployment' : !secret ? 'no webhook secret' : delivery.signature ? 'bad signature' : 'unsigned';
      audit('denied', reason);
      return { status: 401, body: { error: 'the X-Hub-Signature-256 signature does not match', code: 'UNAUTHORIZED' } };
    }
    if (delivery.event === 'ping') {
      audit('ok', 'ping');
      return { status: 200, body: { ok: true } };
    }
    const push = delivery.event === 'push' ? pushOf(Buffer.from(delivery.body).toString('utf8'), delivery.contentType) : undefined;
    if (!push || push.deleted || !isFollowed(record!.ref, push.ref)) {
      const reason = !push
        ? `not a push (${delivery.event ?? 'no X-GitHub-Event'})`
        : `${push.ref} is not what it follows (${record!.ref ?? 'a commit'})`;
      audit('ok', `ignored: ${reason}`);
      return { status: 202, body: { ignored: reason } };
    }
    audit('ok', `update: push to ${push.ref}`);
    this.update(name).then(
      (result) => this.log.info({ deployment: name, commit: result.commit, changed: result.changed }, 'updated by a push'),
      (error: unknown) =>
        this.log.warn({ deployment: name, err: (error as Error).message }, 'update after a push failed; the old commit keeps serving'),
    );
    return { status: 202, body: { update: 'started', log: this.files.logFile(name) } };
  }

  private async build(fetched: Fetched, name: string, source: Source, built: boolean, log: DeployLog): Promise<Record<string, unknown>> {
    try {
      checkRequiredEnv(fetched.plan, source.env, (secret) => this.deps.secrets.has(secret));
    } catch (error) {
      fs.rmSync(fetched.clone, { recursive: true, force: true });
      throw error;
    }
    const dir = await install(fetched, name, built, this.context(log), source.subdir);
    return serverEntry(fetched.plan, dir, fetched, source);
  }

  /** Starts the built server beside the running one and switches once healthy; a failure says that the old one keeps serving. */
  private async switch(name: string, entry: Record<string, unknown>, fetched: Fetched, log: DeployLog, configFile: string): Promise<void> {
    log.line(`starting ${name} at ${fetched.commit}`);
    try {
      await this.deps.host.switchTo(name, entry, () => editConfigFile(configFile, (edit) => edit.set(name, entry)));
    } catch (error) {
      const running = this.files.read(name)?.current;
      const message = `${name} at ${fetched.commit.slice(0, 12)} did not pass its first health check: ${(error as Error).message}`;
      log.line(`! ${message}`);
      throw new OrchError('DEPLOY_FAILED', running ? `${message}; ${running.slice(0, 12)} keeps serving` : message, {
        hint: `the deployment's log has every step: ${log.file}`,
        cause: error,
      });
    }
    log.line(`${name} runs ${fetched.commit}`);
  }

  private status(record: Deployment): DeploymentStatus {
    return {
      name: record.name,
      url: maskCredentials(record.url),
      ...(record.ref ? { ref: record.ref } : {}),
      ...(record.subdir ? { subdir: record.subdir } : {}),
      ...(record.description ? { description: record.description } : {}),
      commit: record.current,
      deployedAt: record.history.find((entry) => entry.commit === record.current)?.at ?? '',
      history: record.history.map((entry) => entry.commit),
      state: this.deps.host.state(record.name) ?? 'not running',
      log: this.files.logFile(record.name),
    };
  }

  private record(name: string): Deployment {
    const record = this.files.read(name);
    if (!record) {
      const known = this.files.names();
      throw new OrchError('NOT_FOUND', `no deployment named "${name}"`, {
        hint: known.length ? `deployments: ${known.join(', ')}` : 'deploy one with `mcp-orch deploy URL`',
      });
    }
    return record;
  }

  private configFile(): string {
    const file = this.deps.host.configFile;
    if (!file) {
      throw new OrchError('BAD_REQUEST', 'this daemon was started without a config file to add deployed servers to', {
        hint: 'start it with `mcp-orch serve --config PATH`',
      });
    }
    return file;
  }

  private context(log: DeployLog): BuildContext {
    return { files: this.files, log, env: this.deps.env, signal: this.stopping.signal };
  }

  /** Stops what runs (git, npm and uv are killed; their operations fail) and waits for the operations to end. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.busy.values()]);
  }

  private manage(action: string, target: string, detail?: Record<string, unknown>): void {
    this.deps.audit({ type: 'manage', via: 'api', action, target, ...(detail ? { detail } : {}) });
  }

  /** Runs `fn` after every operation on `name` before it has settled. */
  private exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (this.stopping.signal.aborted) {
      return Promise.reject(new OrchError('SHUTTING_DOWN', 'mcp-orch is shutting down', { hint: 'deploy again once it has restarted' }));
    }
    const before = this.busy.get(name) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.busy.set(name, settled);
    void settled.then(() => {
      if (this.busy.get(name) === settled) this.busy.delete(name);
    });
    return run;
  }
}
