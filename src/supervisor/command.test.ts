import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCommand } from './command.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mcp-orch-command-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveCommand', () => {
  it('names a file on PATH that has no execute bit, rather than calling the command not found', () => {
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(bin, 'tool'), 0o644);
    expect(resolveCommand('tool', { PATH: bin }, dir)).toEqual({
      error: `permission denied: ${path.join(bin, 'tool')} is not an executable file`,
    });
  });
});
