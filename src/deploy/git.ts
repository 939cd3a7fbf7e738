import { OrchError } from '../errors.js';
import { runStep, type StepContext } from './steps.js';

const GIT_TIMEOUT_MS = 5 * 60 * 1000;
const MISSING = 'git is not installed (not found in PATH): deployments clone with the git command line';

/** A branch, tag or commit as `--ref` takes it: no options, no ranges. */
export const REF_PATTERN = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/+-]{1,200}$/;

/** What a clone resolved: the commit, and the ref it stands for (the default branch when none was asked for). */
export interface Resolved {
  commit: string;
  ref: string | undefined;
}

/**
 * Whether `url` is something git may clone here: a URL of the transports people use, an scp-like
 * `user@host:path`, or an absolute local path. Never an option, and never `ext::` and its kin, which
 * run commands.
 */
export function checkRepositoryUrl(url: string): void {
  const ok =
    /^(https?|ssh|git|file):\/\/\S+$/i.test(url) || /^[\w.-]+@[\w.-]+:\S+$/.test(url) || (url.startsWith('/') && !url.includes('::'));
  if (!ok || url.startsWith('-')) {
    throw new OrchError('BAD_REQUEST', `not a git repository URL or absolute path: ${JSON.stringify(url)}`, {
      hint: 'give an https://, ssh://, git:// or file:// URL, user@host:path, or an absolute path to a local repository',
    });
  }
}

/**
 * Clones `url` into `dir` and checks out what `ref` names (a branch, a tag or a commit; the
 * default branch when undefined), detached at its commit, so the checkout never moves by itself.
 */
export async function cloneAt(url: string, ref: string | undefined, dir: string, context: StepContext): Promise<Resolved> {
  const git = (args: string[], what: string, cwd = dir) =>
    runStep({ command: 'git', args, what, timeoutMs: GIT_TIMEOUT_MS, missing: MISSING }, { ...context, cwd });
  await git(['-c', 'protocol.ext.allow=never', 'clone', '--quiet', '--no-checkout', '--', url, dir], 'git clone', context.cwd);
  // A branch first, then a tag, else a commit id; each looked up once, so the log shows no misses.
  let name = 'HEAD';
  if (ref !== undefined) {
    const exact = [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`];
    const listed = (await git(['for-each-ref', '--format=%(refname)', ...exact], 'git for-each-ref')).split('\n');
    name = exact.find((candidate) => listed.includes(candidate)) ?? ref;
  }
  const commit = await git(['rev-parse', '--verify', '--quiet', `${name}^{commit}`], 'git rev-parse').then(
    (out) => out.trim(),
    () => undefined,
  );
  if (!commit) {
    throw new OrchError('DEPLOY_FAILED', `${url} has no branch, tag or commit named "${ref}"`, {
      hint: 'give --ref a branch, a tag or a commit id of that repository',
    });
  }
  const branch =
    ref ?? (await git(['symbolic-ref', '--quiet', '--short', 'HEAD'], 'git symbolic-ref').then((out) => out.trim() || undefined));
  await git(['checkout', '--quiet', '--detach', commit], 'git checkout');
  return { commit, ref: branch };
}
