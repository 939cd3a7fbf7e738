/**
 * Git repositories made in a test, with commits, for deployments without any network: servers that
 * import this checkout's MCP SDK by absolute path, so that they need no install of their own.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const sdk = (file: string) =>
  pathToFileURL(fileURLToPath(new URL(`../../node_modules/@modelcontextprotocol/sdk/dist/esm/${file}`, import.meta.url))).href;

export interface Repo {
  dir: string;
  /** Writes files (relative paths) and commits them; returns the new commit id. */
  commit(files: Record<string, string>, message?: string): string;
  git(...args: string[]): string;
}

/** A new repository under `parent` with branch `main` and one commit of `files`. */
export function makeRepo(parent: string, name: string, files: Record<string, string>): Repo {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch', 'main');
  const commit = (more: Record<string, string>, message = 'change') => {
    for (const [file, text] of Object.entries(more)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    git('add', '--all');
    git('commit', '--quiet', '--message', message);
    return git('rev-parse', 'HEAD');
  };
  commit(files, 'first');
  return { dir, commit, git };
}

/**
 * An MCP server over stdio with one tool, `version`, answering `<label> <GREETING>` (and the text of
 * built.txt when `built`, which a build script writes). `broken` makes it exit at start.
 */
export function serverSource(label: string, options: { built?: boolean; broken?: boolean } = {}): string {
  return [
    `import { readFileSync } from 'node:fs';`,
    `import { McpServer } from ${JSON.stringify(sdk('server/mcp.js'))};`,
    `import { StdioServerTransport } from ${JSON.stringify(sdk('server/stdio.js'))};`,
    options.broken ? `process.stderr.write('this commit is broken\\n'); process.exit(3);` : '',
    `const built = ${options.built ? `readFileSync(new URL('./built.txt', import.meta.url), 'utf8').trim()` : "''"};`,
    `const server = new McpServer({ name: 'deployed', version: '1.0.0' });`,
    `server.registerTool('version', { description: 'which commit runs' }, () => ({`,
    `  content: [{ type: 'text', text: [${JSON.stringify(label)}, built, process.env.GREETING ?? ''].filter(Boolean).join(' ') }],`,
    `}));`,
    `await server.connect(new StdioServerTransport());`,
    '',
  ].join('\n');
}

/** A package.json (and lockfile, for `npm ci`) without dependencies, so that installing needs no network. */
export function nodePackage(name: string, extra: Record<string, unknown> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name, version: '1.0.0', private: true, ...extra }, null, 2),
    'package-lock.json': JSON.stringify({
      name,
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: { '': { name, version: '1.0.0' } },
    }),
  };
}

/**
 * A folder for PATH holding only node, npm, git and sh (links to the ones found now; npm runs
 * scripts with sh): a daemon given it finds no uv, whatever this machine has installed.
 */
export function toolsOnlyPath(parent: string): string {
  const bin = path.join(parent, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  const find = (command: string) =>
    (process.env.PATH ?? '')
      .split(path.delimiter)
      .map((dir) => path.join(dir, command))
      .find((file) => fs.existsSync(file));
  for (const [command, file] of [
    ['node', process.execPath],
    ['npm', find('npm')],
    ['git', find('git')],
    ['sh', find('sh')],
  ] as const) {
    if (!file) throw new Error(`${command} is not on PATH`);
    fs.symlinkSync(file, path.join(bin, command));
  }
  return bin;
}

export const tempParent = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-repos-'));
