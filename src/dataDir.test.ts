import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OrchError } from './errors.js';
import { ensurePrivateDataDir } from './dataDir.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'mcp-orch-datadir-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function refusal(dir: string): OrchError {
  try {
    ensurePrivateDataDir(dir);
  } catch (error) {
    if (error instanceof OrchError) return error;
    throw error;
  }
  throw new Error(`${dir} was accepted`);
}

describe('ensurePrivateDataDir', () => {
  it('creates a missing data dir, and the dirs above it, owner-only', () => {
    const dir = join(root, 'a', 'data');
    ensurePrivateDataDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'a')).mode & 0o777).toBe(0o700);
  });

  it('accepts an existing owner-only dir and leaves it as it is', () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o700 });
    ensurePrivateDataDir(dir);
    ensurePrivateDataDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses a dir open to group or others, says how to fix it, and changes nothing', () => {
    for (const mode of [0o755, 0o750, 0o701, 0o770]) {
      const dir = join(root, `data-${mode.toString(8)}`);
      mkdirSync(dir);
      chmodSync(dir, mode);
      const error = refusal(dir);
      expect(error.message).toBe(
        `data dir ${dir} is open to other users (mode 0${mode.toString(8)}): they could read the admin token and the logs`,
      );
      expect(error.hint).toContain(`chmod 700 ${dir}`);
      expect(statSync(dir).mode & 0o777).toBe(mode);
    }
  });

  it("refuses another user's dir", () => {
    const dir = join(root, 'data');
    mkdirSync(dir, { mode: 0o700 });
    const owner = statSync(dir).uid;
    expect(() => ensurePrivateDataDir(dir, owner + 1)).toThrow(`data dir ${dir} belongs to another user (uid ${owner})`);
  });

  it('refuses a file in place of the dir', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(refusal(file).message).toBe(`cannot use ${file} as the data dir: a file is in the way`);
    expect(refusal(join(file, 'data')).message).toBe(`cannot use ${join(file, 'data')} as the data dir: a file is in the way`);
  });
});
