/**
 * Where the fixture servers of test/fixtures live, and config entries that run them. Entries use
 * process.execPath rather than "node" so the child runs under the same Node as the tests.
 */
import { fileURLToPath } from 'node:url';

export const FIXTURE_NAMES = [
  'echo',
  'sampling',
  'garbage',
  'noisy',
  'crash-on-start',
  'many-tools',
  'ignore-sigterm',
  'batch-tools',
  'shifty',
  'crash-after',
  'no-ping',
  'modern-only',
  'side-channels',
] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(name: FixtureName): string {
  return fileURLToPath(new URL(`../fixtures/${name}.mjs`, import.meta.url));
}

/** Absolute path of each fixture by name, e.g. `fixturePaths.echo`. */
export const fixturePaths = Object.fromEntries(FIXTURE_NAMES.map((name) => [name, fixturePath(name)])) as Record<FixtureName, string>;

/** The 60-character tool that many-tools.mjs always registers (kept in step by fixtures.test.ts). */
export const LONG_TOOL_NAME = 'a_tool_name_that_is_sixty_characters_long_to_test_namespaces';

export interface FixtureServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** A stdio server entry for `mcpServers` in a gateway config. */
export function fixtureServer(name: FixtureName, env: Record<string, string> = {}): FixtureServerEntry {
  return { command: process.execPath, args: [fixturePath(name)], env };
}
