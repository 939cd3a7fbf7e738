/**
 * Counts what the conformance suite saved with `-o DIR`: one folder per scenario, each with a
 * checks.json of checks whose status is SUCCESS, FAILURE, WARNING or INFO. Counting the files rather
 * than parsing the printed report keeps the count independent of the suite's output format.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export interface Tally {
  passed: number;
  failed: number;
  /** Failed checks of scenarios the baseline expects to fail. */
  skipped: number;
  warnings: number;
  /** Scored scenarios with results. */
  scenarios: number;
  failedScenarios: string[];
  expectedFailures: string[];
  /** Failed checks of baseline scenarios whose message is not the baseline's stated reason, as `scenario: message`. */
  unexplained: string[];
  /** Scenarios the suite lists as "Not scored" (extensions, pending ones), counted apart. */
  notScored: { scenarios: number; passed: number; failed: number };
}

/**
 * An --expected-failures file: the scenario names under `server:` (all the suite reads), and what
 * each failing check of one of them must say: `reasons.<scenario>`, else `reason`, regular
 * expressions over the check's errorMessage. A listed scenario failing for another cause is a failure.
 */
export interface Baseline {
  scenarios: ReadonlySet<string>;
  reasonFor(scenario: string): RegExp | undefined;
}

export function readBaseline(file: string): Baseline {
  const data = YAML.parse(readFileSync(file, 'utf8')) as { server?: unknown; reason?: unknown; reasons?: unknown } | null;
  const list = Array.isArray(data?.server) ? data.server : [];
  const reasons = (data?.reasons ?? {}) as Record<string, unknown>;
  const pattern = (value: unknown): RegExp | undefined => (typeof value === 'string' ? new RegExp(value) : undefined);
  return {
    scenarios: new Set(list.filter((item): item is string => typeof item === 'string')),
    reasonFor: (scenario) => pattern(reasons[scenario]) ?? pattern(data?.reason),
  };
}

/** The scenarios the suite's report lists after its "Not scored" heading, as `✓ name (` or `✗ name (`. */
export function notScoredScenarios(report: string): Set<string> {
  const section = report.split(/^Not scored/m)[1] ?? '';
  return new Set([...section.matchAll(/[✓✗] (\S+) \(/g)].map((match) => match[1]!));
}

interface Check {
  status?: string;
  errorMessage?: string;
}

/** The scenario of a results folder: `server-<scenario>-<ISO time>`. */
function scenarioOf(folder: string): string {
  return folder.replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
}

const NO_BASELINE: Baseline = { scenarios: new Set(), reasonFor: () => undefined };

export function countChecks(dir: string, report: string, baseline: Baseline = NO_BASELINE): Tally {
  const notScored = notScoredScenarios(report);
  const tally: Tally = {
    passed: 0,
    failed: 0,
    skipped: 0,
    warnings: 0,
    scenarios: 0,
    failedScenarios: [],
    expectedFailures: [],
    unexplained: [],
    notScored: { scenarios: notScored.size, passed: 0, failed: 0 },
  };
  const folders = existsSync(dir) ? readdirSync(dir).sort() : [];
  for (const folder of folders) {
    const file = join(dir, folder, 'checks.json');
    if (!existsSync(file)) continue;
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    const count = (status: string): number => checks.filter((check) => check.status === status).length;
    const name = scenarioOf(folder);
    if (baseline.scenarios.has(name)) {
      // A stated reason holds only if every failing check says it; any other failure counts.
      const reason = baseline.reasonFor(name);
      const other = checks.filter((check) => check.status === 'FAILURE' && reason && !reason.test(check.errorMessage ?? ''));
      for (const check of other) {
        check.status = 'UNEXPLAINED';
        tally.failed++;
        tally.unexplained.push(`${name}: ${check.errorMessage ?? '(no message)'}`);
      }
    }
    if (notScored.has(name)) {
      tally.notScored.passed += count('SUCCESS');
      tally.notScored.failed += count('FAILURE');
      continue;
    }
    tally.scenarios++;
    tally.passed += count('SUCCESS');
    tally.warnings += count('WARNING');
    const failed = count('FAILURE');
    if (failed === 0) continue;
    if (baseline.scenarios.has(name)) {
      tally.skipped += failed;
      tally.expectedFailures.push(name);
    } else {
      tally.failed += failed;
      tally.failedScenarios.push(name);
    }
  }
  return tally;
}

/** The report's closing lines; the last is `conformance: N passed, M failed[, K skipped]`. No results count as one failure. */
export function summarize(tally: Tally, resultsDir: string): string[] {
  if (tally.scenarios === 0) return [`conformance: no scenario produced results in ${resultsDir}`, 'conformance: 0 passed, 1 failed'];
  const lines: string[] = [];
  if (tally.failedScenarios.length) lines.push(`conformance: failing scenarios: ${tally.failedScenarios.join(' ')}`);
  for (const line of tally.unexplained) lines.push(`conformance: baseline scenario failing for a reason it does not state: ${line}`);
  if (tally.expectedFailures.length) {
    lines.push(`conformance: expected failures (baseline, counted as skipped): ${tally.expectedFailures.join(' ')}`);
  }
  const { notScored } = tally;
  if (notScored.scenarios) {
    lines.push(
      `conformance: not scored by the suite (extensions, pending): ${notScored.scenarios} scenarios, ${notScored.passed} passed, ${notScored.failed} failed`,
    );
  }
  const clean = tally.scenarios - tally.failedScenarios.length - tally.expectedFailures.length;
  lines.push(`conformance: ${clean}/${tally.scenarios} scored scenarios clean, ${tally.warnings} warnings`);
  lines.push(`conformance: ${tally.passed} passed, ${tally.failed} failed${tally.skipped ? `, ${tally.skipped} skipped` : ''}`);
  return lines;
}
