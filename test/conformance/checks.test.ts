import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countChecks, notScoredScenarios, readBaseline, summarize } from './checks.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcp-orch-checks-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A scenario's results folder as the suite writes it, with checks of these statuses. */
function scenario(name: string, statuses: string[], errorMessage?: string): void {
  const folder = join(dir, `server-${name}-2026-12-01T10-00-00-000Z`);
  mkdirSync(folder);
  writeFileSync(join(folder, 'checks.json'), JSON.stringify(statuses.map((status, i) => ({ id: `check-${i}`, status, errorMessage }))));
}

const report = `
Passed: 3
Not scored (extensions, pending):
  ✓ tasks-lifecycle (2/2)
  ✗ http-header-validation (0/1)
`;

describe('counting conformance checks', () => {
  it('counts SUCCESS and FAILURE per scored scenario, warnings apart, and skips INFO', () => {
    scenario('ping', ['SUCCESS', 'INFO']);
    scenario('tools-list', ['SUCCESS', 'WARNING']);
    scenario('tools-call-error', ['FAILURE', 'SUCCESS']);
    const tally = countChecks(dir, '');
    expect(tally).toMatchObject({ passed: 3, failed: 1, skipped: 0, warnings: 1, scenarios: 3, failedScenarios: ['tools-call-error'] });
    expect(summarize(tally, dir).at(-1)).toBe('conformance: 3 passed, 1 failed');
  });

  it('counts the failures of baseline scenarios as skipped, and not-scored scenarios apart', () => {
    scenario('ping', ['SUCCESS']);
    scenario('tools-call-simple-text', ['FAILURE']);
    scenario('tasks-lifecycle', ['SUCCESS', 'SUCCESS']);
    scenario('http-header-validation', ['FAILURE']);
    const baseline = join(dir, 'baseline.yml');
    writeFileSync(baseline, 'server:\n  # named tools\n  - tools-call-simple-text   # a comment\nclient:\n  - ignored\n');
    expect([...readBaseline(baseline).scenarios]).toEqual(['tools-call-simple-text']);
    expect([...notScoredScenarios(report)]).toEqual(['tasks-lifecycle', 'http-header-validation']);
    const tally = countChecks(dir, report, readBaseline(baseline));
    expect(tally).toMatchObject({ passed: 1, failed: 0, skipped: 1, scenarios: 2, expectedFailures: ['tools-call-simple-text'] });
    expect(tally.notScored).toEqual({ scenarios: 2, passed: 2, failed: 1 });
    expect(summarize(tally, dir).at(-1)).toBe('conformance: 1 passed, 0 failed, 1 skipped');
  });

  it('counts a baseline scenario that fails for a reason other than its stated one as failed', () => {
    scenario('tools-call-simple-text', ['FAILURE'], 'Failed: unknown tool "test_simple_text"');
    scenario('tools-call-image', ['FAILURE'], 'Failed: the gateway crashed');
    scenario('tasks-lifecycle', ['FAILURE', 'SUCCESS'], 'Not testable: no task was created');
    scenario('http-header-validation', ['FAILURE'], 'something else');
    const baseline = join(dir, 'baseline.yml');
    writeFileSync(
      baseline,
      [
        'server: [tools-call-simple-text, tools-call-image, tasks-lifecycle, http-header-validation]',
        "reason: 'unknown (tool|prompt) \"'",
        'reasons:',
        "  tasks-lifecycle: 'Not testable: no task'",
      ].join('\n'),
    );
    const tally = countChecks(dir, report, readBaseline(baseline));
    expect(tally).toMatchObject({ failed: 2, skipped: 1, expectedFailures: ['tools-call-simple-text'] });
    expect(tally.unexplained).toEqual(['http-header-validation: something else', 'tools-call-image: Failed: the gateway crashed']);
    expect(tally.notScored).toEqual({ scenarios: 2, passed: 1, failed: 1 });
    expect(summarize(tally, dir)).toContain(
      'conformance: baseline scenario failing for a reason it does not state: tools-call-image: Failed: the gateway crashed',
    );
  });

  it('takes a run without results for a failure', () => {
    const tally = countChecks(join(dir, 'missing'), '');
    expect(tally.scenarios).toBe(0);
    expect(summarize(tally, dir)).toEqual([`conformance: no scenario produced results in ${dir}`, 'conformance: 0 passed, 1 failed']);
  });
});
