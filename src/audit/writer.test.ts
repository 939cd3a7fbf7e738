import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log.js';
import { databasePath } from '../store/open.js';
import { tempStore, type TempStore } from '../../test/helpers/store.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { RequestEvent } from './events.js';
import { redactArguments, REDACTED } from './redact.js';
import { createAuditLog } from './writer.js';

const logger = createLogger({ level: 'silent' });
const SETTINGS = { arguments: false, retainDays: 90, maxRows: 0 };

const call = (i: number, more: Partial<RequestEvent> = {}): RequestEvent => ({
  type: 'tools/call',
  project: 'alpha',
  member: 'ada',
  keyPrefix: 'mcpo_AbCdEfGh',
  server: 'docs',
  name: `tool_${i}`,
  outcome: 'ok',
  durationMs: 1.5,
  transport: 'streamable-http',
  era: '2025-11-25',
  client: { name: 'cursor', version: '1.2.3' },
  address: '127.0.0.1',
  session: 's1',
  ...more,
});

let temp: TempStore;
beforeEach(() => {
  temp = tempStore();
});
afterEach(() => temp.close());

describe('audit log writer', () => {
  it('keeps record() off the disk and writes a batch per flush interval', async () => {
    const appended: number[] = [];
    const audit = {
      append: (rows: readonly unknown[]) => (appended.push(rows.length), temp.store.audit.append(rows as never)),
      prune: temp.store.audit.prune,
    };
    const log = createAuditLog({ audit, settings: SETTINGS, logger, flushMs: 20 });
    for (let i = 0; i < 10; i++) log.record(call(i));
    expect(temp.store.audit.count()).toBe(0);
    expect(log.pending).toBe(10);
    await waitFor(() => temp.store.audit.count() === 10);
    expect(appended).toEqual([10]);
    log.close();
  });

  it('writes at once when a batch is full, without waiting for the timer', async () => {
    const log = createAuditLog({ audit: temp.store.audit, settings: SETTINGS, logger, flushMs: 60_000, maxBatch: 5 });
    for (let i = 0; i < 5; i++) log.record(call(i));
    await waitFor(() => temp.store.audit.count() === 5);
    log.close();
  });

  it('loses nothing at close, and writes what comes after close at once', () => {
    const log = createAuditLog({ audit: temp.store.audit, settings: SETTINGS, logger, flushMs: 60_000 });
    for (let i = 0; i < 1234; i++) log.record(call(i));
    log.close();
    expect(temp.store.audit.count()).toBe(1234);
    log.record(call(9999, { outcome: 'error', error: 'late' }));
    expect(temp.store.audit.query({ limit: 1 })[0]).toMatchObject({ name: 'tool_9999', outcome: 'error' });
  });

  it('keeps rows a failed write could not take and writes them on the next attempt', async () => {
    let fail = true;
    const audit = {
      append: (rows: readonly never[]) => {
        if (fail) throw new Error('SQLITE_BUSY');
        temp.store.audit.append(rows);
      },
      prune: temp.store.audit.prune,
    };
    const log = createAuditLog({ audit, settings: SETTINGS, logger, flushMs: 5 });
    log.record(call(1));
    log.flush();
    expect(log.pending).toBe(1);
    log.record(call(2));
    fail = false;
    await waitFor(() => temp.store.audit.count() === 2);
    log.close();
  });

  it('drops a row the database cannot store, and writes the rest of its batch', () => {
    const log = createAuditLog({ audit: temp.store.audit, settings: SETTINGS, logger, flushMs: 60_000 });
    log.record(call(1));
    // A name that is no string (the event's type forbids it): SQLite cannot bind it.
    log.record(call(2, { name: { not: 'a name' } as unknown as string }));
    log.record(call(3));
    log.flush();
    expect(log.pending).toBe(0);
    expect(
      temp.store.audit
        .query()
        .map((row) => row.name)
        .sort(),
    ).toEqual(['tool_1', 'tool_3']);
    log.close();
  });

  it('stores every field of a call as a row, and refuses to change a row afterwards', () => {
    const log = createAuditLog({ audit: temp.store.audit, settings: SETTINGS, logger });
    log.record(call(1, { outcome: 'denied', error: 'the viewer role may not call tools', task: 't1' }));
    log.close();
    expect(temp.store.audit.query()).toEqual([
      {
        id: expect.any(Number),
        at: expect.any(Number),
        type: 'tools/call',
        project: 'alpha',
        member: 'ada',
        keyPrefix: 'mcpo_AbCdEfGh',
        server: 'docs',
        method: 'tools/call',
        name: 'tool_1',
        outcome: 'denied',
        durationMs: 1.5,
        transport: 'streamable-http',
        era: '2025-11-25',
        clientName: 'cursor',
        clientVersion: '1.2.3',
        address: '127.0.0.1',
        session: 's1',
        detail: '{"error":"the viewer role may not call tools"}',
        task: 't1',
      },
    ]);
    const raw = new Database(databasePath(temp.dataDir));
    try {
      expect(() => raw.prepare("UPDATE audit SET outcome = 'ok'").run()).toThrow('the audit log is append-only');
    } finally {
      raw.close();
    }
  });

  it('keeps arguments only when asked to, with credentials redacted', () => {
    const args = {
      query: 'hello',
      token: 'tok-123',
      nested: { Authorization: 'Bearer abc', list: [{ password: 'pw' }] },
      note: 'key mcpo_' + 'a'.repeat(40),
    };
    const off = createAuditLog({ audit: temp.store.audit, settings: SETTINGS, logger });
    off.record(call(1, { arguments: args }));
    off.close();
    expect(temp.store.audit.query()[0]?.detail).toBeNull();

    const on = createAuditLog({ audit: temp.store.audit, settings: { ...SETTINGS, arguments: true }, logger });
    on.record(call(2, { arguments: args }));
    on.close();
    const detail = JSON.parse(temp.store.audit.query({ limit: 1 })[0]!.detail!) as { arguments: unknown };
    expect(detail.arguments).toEqual({
      query: 'hello',
      token: REDACTED,
      nested: { Authorization: REDACTED, list: [{ password: REDACTED }] },
      note: `key ${REDACTED}`,
    });
  });

  it('keeps the size, not the content, of large arguments', () => {
    const args = { blob: 'x'.repeat(10_000) };
    expect(redactArguments(args)).toBe(`[${JSON.stringify(args).length} bytes, not kept]`);
  });

  it('deletes rows past the retention age and row count', () => {
    let now = Date.UTC(2026, 0, 100);
    const day = 86_400_000;
    const log = createAuditLog({
      audit: temp.store.audit,
      settings: { ...SETTINGS, retainDays: 30, maxRows: 3 },
      logger,
      clock: () => now,
    });
    for (const age of [40, 31, 29, 2, 1, 0]) {
      now = Date.UTC(2026, 0, 100) - age * day;
      log.record(call(age));
    }
    log.flush();
    now = Date.UTC(2026, 0, 100);
    expect(log.prune()).toBe(3);
    expect(temp.store.audit.query().map((row) => row.name)).toEqual(['tool_0', 'tool_1', 'tool_2']);
    log.close();
  });
});
