import { describe, expect, it } from 'vitest';
import { activityOfAudit, activityOfTransition } from './activity.js';
import { chartPayload } from './metricsPage.js';
import { argumentsOf } from './tryIt.js';

const entry = {
  id: 1,
  at: 1000,
  type: 'tools/call',
  project: 'default',
  member: 'ada',
  keyPrefix: 'mcpo_AbCd1234',
  server: 'echo',
  method: 'tools/call',
  name: 'add',
  outcome: 'denied',
  durationMs: 1,
  transport: 'rest',
  era: null,
  clientName: null,
  clientVersion: null,
  address: null,
  session: null,
  detail: '{"error":"the viewer role may not call tools"}',
  task: null,
};

describe('argumentsOf', () => {
  it('turns each field into an argument by the kind its name carries, leaving out empty ones', () => {
    expect(argumentsOf({ 's:text': 'hi', 'n:a': '2.5', 'i:b': '3', 'b:on': 'true', 'j:list': '[1,2]', 's:empty': '', other: 'x' })).toEqual(
      {
        args: { text: 'hi', a: 2.5, b: 3, on: true, list: [1, 2] },
        errors: [],
      },
    );
  });

  it('names a JSON field that is not JSON', () => {
    expect(argumentsOf({ 'j:obj': '{' }).errors[0]).toMatch(/^obj: not JSON/);
  });
});

describe('the activity feed', () => {
  it('says who did what to which server, and how it ended', () => {
    expect(activityOfAudit(entry)).toEqual({
      at: 1000,
      kind: 'denied',
      text: 'ada called echo add over rest: denied (the viewer role may not call tools)',
    });
    expect(
      activityOfAudit({
        ...entry,
        type: 'manage',
        method: 'keys.create',
        member: null,
        keyPrefix: null,
        name: 'mcpo_x',
        detail: '{"user":"admin-token"}',
      }),
    ).toMatchObject({
      kind: 'key',
      text: 'the admin token (rest): keys.create mcpo_x in default',
    });
    expect(activityOfAudit({ ...entry, type: 'session.opened' })).toBeUndefined();
  });

  it('calls a transition to crashed a crash', () => {
    expect(activityOfTransition('x', { from: 'running', to: 'crashed', cause: 'gave up', at: 5 })).toEqual({
      at: 5,
      kind: 'crash',
      text: 'x: running → crashed (gave up)',
    });
  });
});

describe('chartPayload', () => {
  const sample = (server: string, at: number, cpu: number | null) => ({
    server,
    resolution: 10 as const,
    at,
    cpuPercent: cpu,
    memoryBytes: 1048576,
    calls: 1,
    errors: 0,
    p50Ms: 1,
    p95Ms: 2,
  });

  it('aligns every server on one time axis, with gaps where a server has no sample', () => {
    const payload = chartPayload([sample('a', 10_000, 1), sample('b', 20_000, 2), sample('a', 20_000, null)], undefined);
    expect(payload.times).toEqual([10, 20]);
    expect(payload.series.cpu).toEqual({
      names: ['a', 'b'],
      values: [
        [1, null],
        [null, 2],
      ],
    });
    expect(payload.series.memory!.values[0]).toEqual([1, 1]);
    expect(payload.series.latency!.names).toEqual(['a p95', 'b p95']);
  });

  it('draws p50 and p95 of one server', () => {
    const payload = chartPayload([sample('a', 10_000, 1)], 'a');
    expect(payload.series.latency).toEqual({ names: ['p50', 'p95'], values: [[1], [2]] });
  });
});
