import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OrchError } from '../errors.js';
import { createLogger } from '../log.js';
import type { ParsedConfig } from './load.js';
import { watchConfig, type ConfigWatcher } from './watch.js';

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const servers = (names: string[]): string =>
  JSON.stringify({ mcpServers: Object.fromEntries(names.map((n) => [n, { command: n }])) }, null, 2);

let dir: string;
let file: string;
let watcher: ConfigWatcher | undefined;
const changes: ParsedConfig[] = [];
const errors: OrchError[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-watch-'));
  file = path.join(dir, 'mcp-config.json');
  fs.writeFileSync(file, servers(['a']));
  changes.length = 0;
  errors.length = 0;
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A watcher of `target` whose reports go to `seen`, and whose errors to `errors`. */
async function watching(target: string, seen: ParsedConfig[], debounceMs: number): Promise<ConfigWatcher> {
  const w = watchConfig(target, {
    logger: createLogger({ level: 'silent', pretty: false }),
    onChange: (result) => seen.push(result),
    onError: (err) => errors.push(err),
    debounceMs,
    env: {},
  });
  await w.ready;
  return w;
}

async function start(): Promise<ConfigWatcher> {
  watcher = await watching(file, changes, 50);
  return watcher;
}

/**
 * A second watcher of `target` with a longer debounce (250 ms): once it has reported an edit, a
 * watcher of 50 ms has dealt with every event before that edit. What it reports goes to `seen`.
 */
function reference(target: string, seen: ParsedConfig[]): Promise<ConfigWatcher> {
  return watching(target, seen, 250);
}

const names = (result: ParsedConfig | undefined): string[] => Object.keys(result?.config.mcpServers ?? {});

describe('watchConfig', () => {
  it('reports valid edits, rejects invalid ones and survives rename-style saves', async () => {
    await start();

    fs.writeFileSync(file, servers(['a', 'b']));
    await waitFor(() => changes.length === 1, 'the first change');
    expect(names(changes[0])).toEqual(['a', 'b']);

    fs.writeFileSync(file, '{"mcpServers": {"a": {"command": 1}}}');
    await waitFor(() => errors.length === 1, 'the invalid edit');
    expect(errors[0]!.code).toBe('CONFIG_INVALID');
    expect(errors[0]!.message).toContain('mcpServers.a.command');
    expect(changes).toHaveLength(1);

    const tmp = path.join(dir, '.mcp-config.json.swp');
    fs.writeFileSync(tmp, servers(['c']));
    fs.renameSync(tmp, file);
    await waitFor(() => changes.length === 2, 'the renamed-in file');
    expect(names(changes[1])).toEqual(['c']);

    // The watch must still be attached to the new file after the rename.
    fs.writeFileSync(file, servers(['c', 'd']));
    await waitFor(() => changes.length === 3, 'an edit after the rename');
    expect(names(changes[2])).toEqual(['c', 'd']);
    expect(errors).toHaveLength(1);
  }, 20_000);

  it('settles a burst of writes into the last one and ignores other files', async () => {
    await start();
    fs.writeFileSync(path.join(dir, 'other.json'), 'not json');
    for (const n of ['x', 'y', 'z']) fs.writeFileSync(file, servers([n]));
    await waitFor(() => changes.length >= 1, 'the settled change');
    expect(names(changes[0])).toEqual(['z']);
    expect(errors).toEqual([]);
  }, 20_000);

  it('reports a deleted file and picks it up again when it returns', async () => {
    await start();
    fs.rmSync(file);
    await waitFor(() => errors.length === 1, 'the deletion');
    expect(errors[0]!.code).toBe('CONFIG_NOT_FOUND');
    fs.writeFileSync(file, servers(['a']));
    await waitFor(() => changes.length === 1, 'the restored file');
    expect(names(changes[0])).toEqual(['a']);
  }, 20_000);

  it('closes idempotently and reports nothing afterwards', async () => {
    const w = await start();
    await Promise.all([w.close(), w.close()]);
    await w.close();
    // A second watcher, opened after the first closed, is the reference: once it has reported the
    // edit after a longer debounce, the closed one (50 ms) would have reported it too.
    const seen: ParsedConfig[] = [];
    const barrier = await reference(file, seen);
    try {
      fs.writeFileSync(file, servers(['late']));
      await waitFor(() => seen.length === 1, 'the open watcher to see the edit');
      expect(names(seen[0])).toEqual(['late']);
      expect(changes).toEqual([]);
    } finally {
      await barrier.close();
    }
  });

  it('takes a save that leaves the text as it was for no change', async () => {
    await start();
    // A second watcher, of another file in the directory, is the barrier: once it has reported an
    // edit made after the save, under a longer debounce, the first one has dealt with the save.
    const other = path.join(dir, 'other.json');
    fs.writeFileSync(other, servers(['x']));
    const seen: ParsedConfig[] = [];
    const barrier = await reference(other, seen);
    try {
      fs.writeFileSync(file, servers(['a']));
      fs.writeFileSync(other, servers(['y']));
      await waitFor(() => seen.length === 1, 'the other watcher to see its edit');
      expect(changes).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await barrier.close();
    }
  });

  it('fills in secrets on every reload', async () => {
    watcher = watchConfig(file, {
      logger: createLogger({ level: 'silent', pretty: false }),
      onChange: (result) => changes.push(result),
      onError: (err) => errors.push(err),
      debounceMs: 50,
      env: {},
      secrets: () => (name) => `value-of-${name}`,
    });
    await watcher.ready;
    fs.writeFileSync(file, JSON.stringify({ mcpServers: { a: { command: 'a', env: { TOKEN: '${secret:token}' } } } }));
    await waitFor(() => changes.length === 1, 'the change');
    expect(changes[0]!.unavailable).toEqual({});
    expect(changes[0]!.config.mcpServers.a).toMatchObject({ env: { TOKEN: 'value-of-token' } });
  });

  it('reports a config file that did not exist when the watch began', async () => {
    fs.rmSync(file);
    await start();
    fs.writeFileSync(file, servers(['new']));
    await waitFor(() => changes.length === 1, 'the created file');
    expect(names(changes[0])).toEqual(['new']);
    expect(errors).toEqual([]);
  }, 20_000);

  it('keeps watching after a change listener throws', async () => {
    const seen: ParsedConfig[] = [];
    watcher = watchConfig(file, {
      logger: createLogger({ level: 'silent', pretty: false }),
      onChange: (result) => {
        seen.push(result);
        if (seen.length === 1) throw new Error('listener broke');
      },
      onError: (err) => errors.push(err),
      debounceMs: 50,
      env: {},
    });
    await watcher.ready;
    fs.writeFileSync(file, servers(['one']));
    await waitFor(() => seen.length === 1, 'the first change');
    fs.writeFileSync(file, servers(['two']));
    await waitFor(() => seen.length === 2, 'the change after the throw');
    expect(names(seen[1])).toEqual(['two']);
    expect(errors).toEqual([]);
  }, 20_000);
});
