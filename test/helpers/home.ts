/**
 * A home folder of the test file's own, given to every mcp-orch the tests start: daemons register
 * in ~/.mcp-orch/daemons/, and a test must never write to (or find a daemon in) the real one.
 * Removed after the file's last test (vitest evaluates this module once per test file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const testHome = mkdtempSync(join(tmpdir(), 'mcp-orch-home-'));
afterAll(() => rmSync(testHome, { recursive: true, force: true }));
