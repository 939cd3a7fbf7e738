// SIGKILL while 50 tasks write the audit log: the file stays sound and holds whole rows only, each
// task's rows without a gap (batches commit whole, in order, or not at all).
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { bundleChild, type Bundle } from '../../test/helpers/bundle.js';
import { tempStore, type TempStore } from '../../test/helpers/store.js';

let temp: TempStore;
let bundle: Bundle;
beforeEach(async () => {
  temp = tempStore();
  bundle = await bundleChild('audit-writer');
});
afterEach(async () => {
  temp.close();
  await bundle.remove();
});

it('survives kill -9 during 50 concurrent audited writes with integrity and no half-written row', async () => {
  const child = spawn(process.execPath, [bundle.file, temp.dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (text: string) => text.includes('writing') && resolve());
    child.once('exit', (code) => reject(new Error(`the writer exited early with code ${code}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const store = temp.reopen();
  expect(store.integrityCheck()).toEqual(['ok']);
  const rows = store.audit.query({ limit: 10_000_000 });
  expect(rows.length).toBeGreaterThanOrEqual(1000);
  const seqs = new Map<string, number[]>();
  for (const row of rows) {
    expect(row).toMatchObject({
      type: 'tools/call',
      project: 'default',
      member: 'admin',
      keyPrefix: 'mcpo_CrashTst',
      method: 'tools/call',
      transport: 'streamable-http',
      era: '2025-11-25',
      clientName: 'crash-test',
      clientVersion: '1.0.0',
      address: '127.0.0.1',
    });
    const { arguments: args } = JSON.parse(row.detail!) as { arguments: { id: number; seq: number; padding: string } };
    expect(row.name).toBe(`task${args.id}`);
    expect(row.session).toBe(String(args.seq));
    expect(args.padding).toHaveLength(300);
    seqs.set(row.name!, [...(seqs.get(row.name!) ?? []), args.seq]);
  }
  for (const list of seqs.values()) {
    const sorted = [...list].sort((a, b) => a - b);
    expect(sorted).toEqual(sorted.map((_, i) => i));
  }
});
