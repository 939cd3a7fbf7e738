import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { writeAtomic } from '../config/edit.js';
import { OrchError } from '../errors.js';

/** What is kept of each deployment, in `<data dir>/deployments/<name>/deployment.json` beside its checkouts. */
export const deploymentSchema = z.object({
  name: z.string(),
  /** As given, credentials included: the file is the owner's alone (the data dir is 0700). */
  url: z.string(),
  /** The branch or tag it follows, or the commit it was pinned to. */
  ref: z.string().optional(),
  subdir: z.string().optional(),
  description: z.string().optional(),
  /** The environment given at deploy time, as written (`${secret:NAME}` stays a reference). */
  env: z.record(z.string(), z.string()),
  /** Commits deployed, oldest first; each one's built checkout is kept. */
  history: z.array(z.object({ commit: z.string(), at: z.string() })),
  current: z.string(),
});

export type Deployment = z.infer<typeof deploymentSchema>;

/** Checkouts kept per deployment: the current one and those a rollback may go back to. */
export const KEPT_COMMITS = 3;

/** The deployments of a data dir on disk: records, logs and checkouts. */
export class DeploymentFiles {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'deployments');
  }

  dir(name: string): string {
    return path.join(this.root, name);
  }

  checkout(name: string, commit: string): string {
    return path.join(this.dir(name), commit);
  }

  logFile(name: string): string {
    return path.join(this.dir(name), 'deploy.log');
  }

  /** A fresh directory to clone into, beside the deployments, moved into place once built. */
  incoming(): string {
    const dir = path.join(this.root, '.incoming', randomBytes(8).toString('hex'));
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    return dir;
  }

  read(name: string): Deployment | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(name), 'deployment.json'), 'utf8');
    } catch {
      return undefined;
    }
    const parsed = deploymentSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      throw new OrchError('INTERNAL', `${path.join(this.dir(name), 'deployment.json')} is damaged`, {
        hint: `remove the deployment with \`mcp-orch deploy remove ${name}\` and deploy it again`,
      });
    }
    return parsed.data;
  }

  write(record: Deployment): void {
    writeAtomic(path.join(this.dir(record.name), 'deployment.json'), `${JSON.stringify(record, null, 2)}\n`, 0o600);
  }

  names(): string[] {
    try {
      return fs
        .readdirSync(this.root, { withFileTypes: true })
        .filter(
          (entry) =>
            entry.isDirectory() && !entry.name.startsWith('.') && fs.existsSync(path.join(this.root, entry.name, 'deployment.json')),
        )
        .map((entry) => entry.name)
        .sort();
    } catch {
      return [];
    }
  }

  /** Moves a built clone into place as the checkout of `commit`, replacing a leftover one. */
  place(built: string, name: string, commit: string): string {
    const target = this.checkout(name, commit);
    fs.mkdirSync(this.dir(name), { recursive: true, mode: 0o700 });
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(built, target);
    return target;
  }

  /** Deletes the checkouts of `name` that `record` no longer lists. */
  prune(record: Deployment): void {
    const keep = new Set(record.history.map((entry) => entry.commit));
    for (const entry of fs.readdirSync(this.dir(record.name), { withFileTypes: true })) {
      if (entry.isDirectory() && /^[0-9a-f]{40}$/.test(entry.name) && !keep.has(entry.name)) {
        fs.rmSync(path.join(this.dir(record.name), entry.name), { recursive: true, force: true });
      }
    }
  }

  remove(name: string): void {
    fs.rmSync(this.dir(name), { recursive: true, force: true });
  }
}
