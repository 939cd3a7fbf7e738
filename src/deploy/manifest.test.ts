import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRequiredEnv } from './build.js';
import { entryOf, readLaunchPlan } from './manifest.js';

describe('readLaunchPlan', () => {
  const dirs: string[] = [];
  const checkout = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-manifest-'));
    dirs.push(dir);
    for (const [file, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), text);
    }
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads mcp.json first, with npm ci (a lockfile) and the build script', () => {
    const dir = checkout({
      'mcp.json': JSON.stringify({ name: 'x', entryPoint: 'dist/index.js', requiredEnv: ['A'], defaultEnv: { B: '1' } }),
      'package.json': JSON.stringify({ main: 'other.js', scripts: { build: 'tsc' } }),
      'package-lock.json': '{}',
      'dist/index.js': '',
    });
    const plan = readLaunchPlan(dir);
    expect(plan).toMatchObject({ source: 'mcp.json', runtime: 'node', command: 'node', args: ['dist/index.js'] });
    expect(plan.manifest).toMatchObject({ name: 'x', requiredEnv: ['A'], defaultEnv: { B: '1' } });
    expect(plan.install.map((step) => step.what)).toEqual(['npm ci', 'npm run build']);
    expect(entryOf(plan, dir)).toEqual({ command: 'node', args: [path.join(dir, 'dist/index.js')] });
  });

  it('falls back to package.json: its "mcp" block, then bin (the one named like the package), then main', () => {
    const block = readLaunchPlan(checkout({ 'package.json': JSON.stringify({ main: 'm.js', mcp: { requiredEnv: ['T'] } }) }));
    expect(block).toMatchObject({ source: 'package.json "mcp"', args: ['m.js'] });
    expect(block.install.map((step) => step.what)).toEqual(['npm install']);
    const bins = readLaunchPlan(checkout({ 'package.json': JSON.stringify({ name: '@me/srv', bin: { other: 'o.js', srv: 'cli.js' } }) }));
    expect(bins.args).toEqual(['cli.js']);
    // A client's own mcp.json ({"mcpServers": ...}) is not a manifest.
    const client = readLaunchPlan(checkout({ 'mcp.json': '{"mcpServers":{}}', 'package.json': JSON.stringify({ bin: 'b.js' }) }));
    expect(client).toMatchObject({ source: 'package.json', args: ['b.js'] });
  });

  it('runs a Python project through uv, by its first script or a .py entry point', () => {
    const script = readLaunchPlan(
      checkout({ 'pyproject.toml': '[project]\nname = "p"\n\n[project.scripts]\nmy-server = "p:main"\nother = "p:x"\n' }),
    );
    expect(script).toMatchObject({ runtime: 'python', command: 'uv', args: ['run', '--directory', expect.any(String), 'my-server'] });
    expect(script.install.map((step) => step.what)).toEqual(['uv sync']);
    const file = readLaunchPlan(checkout({ 'mcp.json': JSON.stringify({ entryPoint: 'server.py' }), 'server.py': '' }));
    expect(file.runtime).toBe('python');
  });

  it('says what is wrong with a manifest, and refuses an entry point outside the repository', () => {
    expect(() => readLaunchPlan(checkout({ 'mcp.json': JSON.stringify({ requiredEnv: 'A' }) }))).toThrow(/mcp\.json: requiredEnv: /);
    expect(() => readLaunchPlan(checkout({ 'mcp.json': '{ nope' }))).toThrow(/mcp\.json: not valid JSON/);
    expect(() => readLaunchPlan(checkout({ 'README.md': '' }))).toThrow(
      /no mcp\.json, mcp-manifest\.json, package\.json or pyproject\.toml/,
    );
    const dir = checkout({ 'mcp.json': JSON.stringify({ entryPoint: '../../etc/passwd.js' }) });
    expect(() => entryOf(readLaunchPlan(dir), dir)).toThrow(/outside the repository/);
  });

  it('names every required variable not given, and every secret not set, in one error', () => {
    const plan = readLaunchPlan(
      checkout({ 'mcp.json': JSON.stringify({ entryPoint: 'a.js', requiredEnv: ['A', 'B', 'C'], defaultEnv: { C: 'c' } }) }),
    );
    expect(() => checkRequiredEnv(plan, { B: '${secret:S1}' }, () => false)).toThrow(
      'cannot deploy: the server needs A (requiredEnv in mcp.json); no secret named S1',
    );
    expect(() => checkRequiredEnv(plan, { A: 'a', B: '${secret:S1}' }, () => true)).not.toThrow();
  });
});
