/**
 * A process that writes the audit log as the daemon does, from 50 concurrent tasks, until it is
 * killed: the crash test kills it with SIGKILL mid-write. Bundled by test/helpers/bundle.ts.
 * argv: <data dir>. Prints "writing" once rows are landing.
 */
import { createAuditLog } from '../../src/audit/writer.js';
import { createLogger } from '../../src/log.js';
import { openStore } from '../../src/store/open.js';

const TASKS = 50;
const PER_TASK = 1_000_000;

const store = openStore(process.argv[2]!);
const log = createAuditLog({
  audit: store.audit,
  settings: { arguments: true, retainDays: 0, maxRows: 0 },
  logger: createLogger({ level: 'silent' }),
  flushMs: 1,
  maxBatch: 50,
});
let announced = false;

async function task(id: number): Promise<void> {
  for (let seq = 0; seq < PER_TASK; seq++) {
    log.record({
      type: 'tools/call',
      project: 'default',
      member: 'admin',
      keyPrefix: 'mcpo_CrashTst',
      server: `server${id % 5}`,
      name: `task${id}`,
      outcome: seq % 7 === 0 ? 'error' : 'ok',
      durationMs: seq / 10,
      transport: 'streamable-http',
      era: '2025-11-25',
      client: { name: 'crash-test', version: '1.0.0' },
      address: '127.0.0.1',
      session: String(seq),
      arguments: { id, seq, padding: 'x'.repeat(300) },
    });
    await new Promise((resolve) => setImmediate(resolve));
    if (!announced && id === 0 && seq % 20 === 0 && store.audit.count() >= 1000) {
      announced = true;
      process.stdout.write('writing\n');
    }
  }
}

for (let id = 0; id < TASKS; id++) void task(id);
