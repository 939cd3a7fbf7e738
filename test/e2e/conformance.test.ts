// The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16, run by
// test/helpers/conformance.ts) against the gateway fronting the suite's reference server.
// The per-server endpoint must score like the server itself, and so must the unified endpoint once a
// shim maps the server's own names and URIs to the namespaced ones; without it, the unified endpoint
// differs only where scenarios use those names, listed in test/conformance/unified-expected-failures.yml.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceDir, referenceServer, runConformance, RUN_TIMEOUT_MS, type RunResult } from '../helpers/conformance.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { startKeyProxy, type KeyProxy } from '../helpers/keyProxy.js';
import { namespaceShim } from '../helpers/namespaceShim.js';

const baselinePath = join(conformanceDir, 'unified-expected-failures.yml');

/** The reference server alone scores this on the active suite of 0.1.16. */
const PER_SERVER_SCORE = 'conformance: 40 passed, 0 failed';
/** Checks measured passing on the unified endpoint (the scenarios that do not depend on names). */
const UNIFIED_MIN_PASSED = 10;

const report = (result: RunResult) => `exit code ${result.code}; suite output:\n${result.output}`;

describe('MCP conformance suite through the gateway', () => {
  let daemon: DaemonHandle | undefined;
  /** Every request goes through keys, as a client's would: the suite cannot send headers, the proxy adds the key. */
  let proxy: KeyProxy | undefined;
  /** The same, and the namespace added to what the suite sends and taken off what it gets back. */
  let shim: KeyProxy | undefined;

  beforeAll(async () => {
    daemon = await startDaemon({
      auth: true,
      config: { mcpServers: { everything: { command: process.execPath, args: [referenceServer('conformance-server.mjs')] } } },
    });
    proxy = await startKeyProxy(daemon.url, await daemon.firstRunKey());
    shim = await startKeyProxy(daemon.url, await daemon.firstRunKey(), namespaceShim('everything'));
  });

  afterAll(async () => {
    await shim?.close();
    await proxy?.close();
    await daemon?.stop();
  });

  it(
    'scores like the reference server on the per-server endpoint',
    async () => {
      const result = await runConformance(`${proxy!.url}/servers/everything/mcp`);
      expect(result.lastLine, report(result)).toBe(PER_SERVER_SCORE);
      expect(result.code, report(result)).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'scores like the reference server on the unified endpoint, names mapped one to one by a shim',
    async () => {
      // Sampling, elicitation, progress, logging and subscriptions all count here, through /mcp.
      const result = await runConformance(`${shim!.url}/mcp`);
      expect(result.lastLine, report(result)).toBe(PER_SERVER_SCORE);
      expect(result.code, report(result)).toBe(0);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    'fails on the unified endpoint only where names and URIs are namespaced',
    async () => {
      const result = await runConformance(`${proxy!.url}/mcp`, { baseline: baselinePath });
      expect(result.code, report(result)).toBe(0);
      const score = /^conformance: (\d+) passed, (\d+) failed/.exec(result.lastLine);
      expect(score, report(result)).not.toBeNull();
      expect(Number(score![2]), report(result)).toBe(0);
      expect(Number(score![1]), report(result)).toBeGreaterThanOrEqual(UNIFIED_MIN_PASSED);
    },
    RUN_TIMEOUT_MS,
  );
});
