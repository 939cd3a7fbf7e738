import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { formatIssues, isPlainObject } from '../config/issues.js';
import { SERVER_NAME_PATTERN } from '../config/schema.js';
import { OrchError } from '../errors.js';
import type { Step } from './steps.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const INSTALL_TIMEOUT_MS = 15 * 60 * 1000;
const UV_MISSING = 'this is a Python server (pyproject.toml): it runs with uv, which is not installed (not found in PATH)';

/** What a repository says about the server in it: `mcp.json`, `mcp-manifest.json`, or package.json's `mcp` block. */
export const manifestSchema = z.looseObject({
  name: z.string().regex(SERVER_NAME_PATTERN, 'server names use letters, digits, "_", "-" and "."').optional(),
  description: z.string().optional(),
  /** The file that starts the server, relative to the repository (or --subdir): .js, .mjs, .cjs or .py. */
  entryPoint: z.string().min(1).optional(),
  /** Variables the server needs; a deployment that does not give them all is refused, naming each. */
  requiredEnv: z.array(z.string().regex(ENV_NAME, 'expected environment variable names')).default([]),
  /** Variables with values of their own, which the deployment's --env may override. */
  defaultEnv: z.record(z.string().regex(ENV_NAME, 'expected environment variable names'), z.string()).default({}),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** How to install and run the server in a checkout. */
export interface LaunchPlan {
  manifest: Manifest;
  /** Where the manifest came from, for messages. */
  source: string;
  runtime: 'node' | 'python';
  command: string;
  args: string[];
  /** Run in order in the checkout, before the first start. */
  install: Step[];
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new OrchError('DEPLOY_FAILED', `${path.basename(file)}: not valid JSON: ${(error as Error).message}`, {
      hint: 'fix the file in the repository and deploy again',
    });
  }
}

/** The manifest of a checkout: the first of mcp.json, mcp-manifest.json and package.json's `mcp` block. */
function findManifest(dir: string, pkg: Record<string, unknown> | undefined): { data: unknown; source: string } {
  for (const name of ['mcp.json', 'mcp-manifest.json']) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) continue;
    const data = readJson(file);
    // A client's config (`{"mcpServers": ...}`, as Claude Code keeps per project) is no manifest.
    if (isPlainObject(data) && 'mcpServers' in data) continue;
    return { data, source: name };
  }
  return { data: pkg?.mcp ?? {}, source: pkg?.mcp ? 'package.json "mcp"' : 'package.json' };
}

/** The first script of `[project.scripts]` in pyproject.toml, which `uv run` starts by name. */
function pyprojectScript(text: string): string | undefined {
  const section = /^\[project\.scripts\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(text)?.[1] ?? '';
  return /^\s*"?([A-Za-z0-9_.-]+)"?\s*=/m.exec(section)?.[1];
}

/** The file a package.json starts: its `bin` (the one named like the package when there are several), else `main`. */
function packageEntry(pkg: Record<string, unknown>): string | undefined {
  const { bin, main, name } = pkg;
  if (typeof bin === 'string') return bin;
  if (isPlainObject(bin)) {
    const own = typeof name === 'string' ? bin[name.replace(/^@[^/]+\//, '')] : undefined;
    const first = own ?? Object.values(bin)[0];
    if (typeof first === 'string') return first;
  }
  return typeof main === 'string' ? main : undefined;
}

/** A path inside the checkout; one that leads out of it is refused. */
function inside(dir: string, relative: string, what: string): string {
  const file = path.resolve(dir, relative);
  if (file !== dir && !file.startsWith(`${dir}${path.sep}`)) {
    throw new OrchError('DEPLOY_FAILED', `${what} "${relative}" is outside the repository`, { hint: 'use a path inside the repository' });
  }
  if (!fs.existsSync(file)) {
    throw new OrchError('DEPLOY_FAILED', `${what} "${relative}" does not exist in the repository (after its build)`, {
      hint: 'check the path, and that the build script (if any) creates it',
    });
  }
  return file;
}

/**
 * Reads how to install and run the server in checkout `dir`: Node (package.json, a .js entry) with
 * `npm ci` (or `npm install` without a lockfile) and its build script, or Python (pyproject.toml,
 * a .py entry) run through uv. The entry point is checked once installed (see `entryOf`).
 */
export function readLaunchPlan(dir: string): LaunchPlan {
  const pkgFile = path.join(dir, 'package.json');
  const pkg = fs.existsSync(pkgFile) ? readJson(pkgFile) : undefined;
  if (pkg !== undefined && !isPlainObject(pkg)) throw new OrchError('DEPLOY_FAILED', 'package.json: expected an object');
  const pyproject = path.join(dir, 'pyproject.toml');
  const found = findManifest(dir, pkg);
  const parsed = manifestSchema.safeParse(found.data);
  if (!parsed.success) {
    throw new OrchError(
      'DEPLOY_FAILED',
      formatIssues(parsed.error.issues, manifestSchema, found.data)
        .map((line) => `${found.source}: ${line}`)
        .join('\n'),
      {
        hint: 'fix the manifest in the repository and deploy again',
      },
    );
  }
  const manifest = parsed.data;
  const entry = manifest.entryPoint;
  const python = entry ? entry.endsWith('.py') : pkg === undefined && fs.existsSync(pyproject);
  if (python) {
    const script = entry ?? pyprojectScript(fs.readFileSync(pyproject, 'utf8'));
    if (!script) {
      throw new OrchError('DEPLOY_FAILED', 'pyproject.toml names no [project.scripts] entry, and no manifest names an entryPoint', {
        hint: 'add "entryPoint": "server.py" to mcp.json, or a script under [project.scripts]',
      });
    }
    return {
      manifest,
      source: found.source,
      runtime: 'python',
      command: 'uv',
      args: ['run', '--directory', dir, script],
      install: fs.existsSync(pyproject)
        ? [{ command: 'uv', args: ['sync', '--directory', dir], what: 'uv sync', timeoutMs: INSTALL_TIMEOUT_MS, missing: UV_MISSING }]
        : [{ command: 'uv', args: ['--version'], what: 'uv', timeoutMs: INSTALL_TIMEOUT_MS, missing: UV_MISSING }],
    };
  }
  const start = entry ?? (pkg ? packageEntry(pkg) : undefined);
  if (!start) {
    const none = pkg === undefined && !fs.existsSync(pyproject);
    throw new OrchError(
      'DEPLOY_FAILED',
      none ? 'no mcp.json, mcp-manifest.json, package.json or pyproject.toml in the repository' : 'no entry point',
      {
        hint: 'add "entryPoint" to mcp.json (or to package.json\'s "mcp" block), or "main" or "bin" to package.json',
      },
    );
  }
  return { manifest, source: found.source, runtime: 'node', command: 'node', args: [start], install: pkg ? npmSteps(dir, pkg) : [] };
}

function npmSteps(dir: string, pkg: Record<string, unknown>): Step[] {
  const npm = (args: string[], what: string): Step => ({ command: 'npm', args, what, timeoutMs: INSTALL_TIMEOUT_MS });
  const locked = ['package-lock.json', 'npm-shrinkwrap.json'].some((name) => fs.existsSync(path.join(dir, name)));
  const steps = [locked ? npm(['ci', '--no-audit', '--no-fund'], 'npm ci') : npm(['install', '--no-audit', '--no-fund'], 'npm install')];
  const scripts = isPlainObject(pkg.scripts) ? pkg.scripts : {};
  if (typeof scripts.build === 'string') steps.push(npm(['run', 'build'], 'npm run build'));
  return steps;
}

/** The plan's command line with its entry point made absolute and checked, once the checkout is built. */
export function entryOf(plan: LaunchPlan, dir: string): { command: string; args: string[] } {
  if (plan.runtime === 'python') {
    const script = plan.args.at(-1)!;
    return script.endsWith('.py') ? { command: plan.command, args: [...plan.args.slice(0, -1), inside(dir, script, 'entryPoint')] } : plan;
  }
  return { command: plan.command, args: [inside(dir, plan.args[0]!, 'the entry point')] };
}
