/** A real SQLite store in a temp data dir, for unit tests; `close()` removes it all. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store, type StoreOptions } from '../../src/store/open.js';

export interface TempStore {
  store: Store;
  dataDir: string;
  /** Another connection to the same file, as another process would have. */
  reopen(options?: StoreOptions): Store;
  close(): void;
}

export function tempStore(options: StoreOptions = {}): TempStore {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-orch-store-'));
  const opened: Store[] = [];
  const reopen = (more: StoreOptions = {}): Store => {
    const store = openStore(dataDir, { ...options, ...more });
    opened.push(store);
    return store;
  };
  const store = reopen();
  return {
    store,
    dataDir,
    reopen,
    close() {
      for (const each of opened) each.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
