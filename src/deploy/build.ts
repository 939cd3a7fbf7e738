import fs from 'node:fs';
import path from 'node:path';
import { SERVER_NAME_PATTERN } from '../config/schema.js';
import { OrchError } from '../errors.js';
import { cloneAt, type Resolved } from './git.js';
import { maskCredentials, type DeployLog } from './log.js';
import { entryOf, readLaunchPlan, type LaunchPlan } from './manifest.js';
import type { DeploymentFiles } from './records.js';
import { runStep } from './steps.js';

/** What to deploy: a repository, the ref to follow, the folder of the server in it, its environment. */
export interface Source {
  url: string;
  ref?: string | undefined;
  subdir?: string | undefined;
  env: Record<string, string>;
}

/** A clone resolved to its commit, with the plan read from it, not yet installed. */
export interface Fetched extends Resolved {
  /** The clone, in a directory of its own until it is placed. */
  clone: string;
  plan: LaunchPlan;
}

export interface BuildContext {
  files: DeploymentFiles;
  log: DeployLog;
  /** The environment of every step: the daemon's safe variables, never its secrets. */
  env: Record<string, string>;
  /** Aborted when the daemon stops. */
  signal: AbortSignal;
}

/** The folder of the server inside a checkout; one that leads out of it is refused. */
function serverDir(checkout: string, subdir: string | undefined): string {
  if (subdir === undefined) return checkout;
  const dir = path.resolve(checkout, subdir);
  if (!dir.startsWith(`${checkout}${path.sep}`) || !fs.existsSync(dir)) {
    throw new OrchError('DEPLOY_FAILED', `--subdir "${subdir}" is not a folder of the repository`, {
      hint: 'give the path of the server inside the repository, such as packages/server',
    });
  }
  return dir;
}

/** Clones `source` at its ref into a fresh directory and reads how to run the server in it. */
export async function fetchSource(source: Source, context: BuildContext): Promise<Fetched> {
  const clone = context.files.incoming();
  try {
    const resolved = await cloneAt(source.url, source.ref, clone, { ...context, cwd: path.dirname(clone) });
    context.log.line(`resolved ${source.ref ?? 'the default branch'} to ${resolved.commit}`);
    return { ...resolved, clone, plan: readLaunchPlan(serverDir(clone, source.subdir)) };
  } catch (error) {
    fs.rmSync(clone, { recursive: true, force: true });
    throw error;
  }
}

/** The name a deployment takes: given, else the manifest's, else the repository's. */
export function deploymentName(given: string | undefined, plan: LaunchPlan, url: string): string {
  const name = given ?? plan.manifest.name ?? path.basename(url.replace(/[/\\]+$/, '')).replace(/\.git$/, '');
  if (!SERVER_NAME_PATTERN.test(name)) {
    throw new OrchError('BAD_REQUEST', `"${name}" cannot be a server name`, {
      hint: 'server names use letters, digits, "_", "-" and "." (at most 64); choose one with --name',
    });
  }
  return name;
}

/** Every variable the manifest requires and the deployment does not give, in one error. */
export function checkRequiredEnv(plan: LaunchPlan, env: Record<string, string>, secretExists: (name: string) => boolean): void {
  const given = { ...plan.manifest.defaultEnv, ...env };
  const missing = plan.manifest.requiredEnv.filter((name) => given[name] === undefined || given[name] === '');
  const secrets = Object.values(env).flatMap((value) => [...value.matchAll(/\$\{secret:([^}]*)\}/g)].map((match) => match[1]!));
  const unset = [...new Set(secrets)].filter((name) => !secretExists(name));
  if (missing.length === 0 && unset.length === 0) return;
  const parts = [
    ...(missing.length ? [`the server needs ${missing.join(', ')} (requiredEnv in ${plan.source})`] : []),
    ...(unset.length ? [`no secret named ${unset.join(', ')}`] : []),
  ];
  throw new OrchError('BAD_REQUEST', `cannot deploy: ${parts.join('; ')}`, {
    hint: [
      ...(missing.length ? [missing.map((name) => `--env ${name}=...`).join(' ')] : []),
      ...(unset.length ? [unset.map((name) => `\`mcp-orch secrets set ${name}\``).join(', ')] : []),
    ].join('; '),
    data: { missing, secrets: unset },
  });
}

/**
 * Puts a fetched clone in place as `<name>/<commit>` and installs it there (installs may write
 * absolute paths, as a virtualenv does, so they run where the server will). A checkout that is
 * already built is used as it is. On a failure nothing is left behind.
 */
export async function install(fetched: Fetched, name: string, built: boolean, context: BuildContext, subdir?: string): Promise<string> {
  const { files, log } = context;
  if (built && fs.existsSync(files.checkout(name, fetched.commit))) {
    fs.rmSync(fetched.clone, { recursive: true, force: true });
    log.line(`using the checkout of ${fetched.commit} built before`);
    return serverDir(files.checkout(name, fetched.commit), subdir);
  }
  const checkout = files.place(fetched.clone, name, fetched.commit);
  const dir = serverDir(checkout, subdir);
  try {
    for (const step of fetched.plan.install) await runStep(step, { ...context, cwd: dir });
    entryOf(fetched.plan, dir);
    return dir;
  } catch (error) {
    fs.rmSync(checkout, { recursive: true, force: true });
    throw error;
  }
}

/** The config entry of a built server: its command, folder, environment and where it came from. */
export function serverEntry(plan: LaunchPlan, dir: string, at: Resolved, source: Source): Record<string, unknown> {
  const { command, args } = entryOf(plan, dir);
  // The config shows the repository without credentials; deployment.json keeps the URL as given.
  const git = maskCredentials(source.url).replace('://***@', '://');
  return {
    command,
    args,
    cwd: dir,
    env: { ...plan.manifest.defaultEnv, ...source.env },
    source: { git, ...(at.ref ? { ref: at.ref } : {}), commit: at.commit },
  };
}

/** The config entry of a commit built before (what a rollback goes back to). */
export function builtEntry(files: DeploymentFiles, name: string, at: Resolved, source: Source): Record<string, unknown> {
  const checkout = files.checkout(name, at.commit);
  if (!fs.existsSync(checkout)) {
    throw new OrchError('DEPLOY_FAILED', `the checkout of ${at.commit} is gone from ${checkout}`, {
      hint: 'deploy that commit again with --ref',
    });
  }
  const dir = serverDir(checkout, source.subdir);
  return serverEntry(readLaunchPlan(dir), dir, at, source);
}
