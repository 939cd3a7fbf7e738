/**
 * A home folder of the test process's own, given to every mcp-orch the tests start: daemons
 * register in ~/.mcp-orch/daemons/, and a test must never write to (or find a daemon in) the real one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const testHome = mkdtempSync(join(tmpdir(), 'mcp-orch-home-'));
process.once('exit', () => rmSync(testHome, { recursive: true, force: true }));
