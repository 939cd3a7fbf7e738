/**
 * Bundles a TypeScript entry of test/children/ into one ESM file that a plain `node` child can run,
 * for tests that must kill a process running our code. The bundle goes under node_modules/.cache so
 * that its dependencies (better-sqlite3) resolve from the repository.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'tsup';
import { repoRoot } from './cli.js';

export interface Bundle {
  file: string;
  remove(): Promise<void>;
}

export async function bundleChild(name: string): Promise<Bundle> {
  const cache = join(repoRoot, 'node_modules', '.cache');
  await mkdir(cache, { recursive: true });
  const outDir = await mkdtemp(join(cache, 'mcp-orch-child-'));
  await build({
    entry: { [name]: join(repoRoot, 'test', 'children', `${name}.ts`) },
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    outDir,
    config: false,
    silent: true,
    clean: false,
    external: ['better-sqlite3'],
  });
  return { file: join(outDir, `${name}.js`), remove: () => rm(outDir, { recursive: true, force: true }) };
}
