#!/usr/bin/env node
// Interleaved before/after comparison of two daemon builds, for speed work: both daemons run side
// by side (each fronting the echo fixture), and every round measures the floor, the relay floor
// (the same fixture behind a bare id-swapping relay), that relay served on Hono and
// @hono/node-server (mcp-orch's HTTP layer) and each build, in an order that turns from round to
// round, so load changes on the machine hit all five alike. Prints the median over rounds, and each
// build over both relay floors: the second leaves out what the HTTP layer itself costs.
// Usage: node bench/compare.mjs BEFORE_CLI AFTER_CLI [--rounds N] [--sessions N] [--calls N]
//   e.g. cp -r dist bench/results/build-base   (before the change; bench/results/ is git-ignored)
//        npm run build && node bench/compare.mjs bench/results/build-base/cli.js dist/cli.js
import './lib/quiet.mjs';
import { resolve } from 'node:path';
import { sequential, throughput } from './lib/measure.mjs';
import { treeCpuMs } from './lib/proc.mjs';
import { median, round } from './lib/stats.mjs';
import { BENCH_ORCH, ECHO, startDaemon, startFloor } from './lib/targets.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const builds = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
if (builds.length !== 2) {
  process.stderr.write('usage: node bench/compare.mjs BEFORE_CLI AFTER_CLI [--rounds N] [--sessions N] [--calls N]\n');
  process.exit(2);
}
const rounds = opt('--rounds', 5);
const sessions = opt('--sessions', 64);
const calls = opt('--calls', 1_000);
const CALL = { name: 'echo', arguments: { text: 'hello' } };

const floor = await startFloor();
const relay = await startFloor({ relayTo: ECHO });
const relayHono = await startFloor({ relayTo: ECHO, http: 'hono' });
const daemons = [];
try {
  for (const cli of builds) daemons.push(await startDaemon({ mcpServers: { echo: ECHO }, orch: BENCH_ORCH }, { cli: resolve(cli) }));
  const targets = [
    ['floor', { kind: 'streamable', url: floor.mcpUrl }, floor.pid],
    ['relay', { kind: 'streamable', url: relay.mcpUrl }, relay.pid],
    ['relay-hono', { kind: 'streamable', url: relayHono.mcpUrl }, relayHono.pid],
    ...daemons.map((d, i) => [i === 0 ? 'before' : 'after', { kind: 'streamable', url: `${d.url}/servers/echo/mcp` }, d.pid]),
  ];
  const samples = Object.fromEntries(targets.map(([name]) => [name, { p50: [], seqCpuUs: [], callsPerSec: [], p99: [], cpuUs: [] }]));
  for (const [, way] of targets) await sequential(way, CALL, { warmup: 1_000, calls: 10 });
  for (let r = 0; r < rounds; r++) {
    // Sequential calls of every target first, then the load on each: a target measured right after
    // another's 64 sessions pays for their aftermath (sessions closing, GC). The order turns each
    // round, so that no target is always first or always after the same one.
    const order = targets.map((_, i) => targets[(i + r) % targets.length]);
    for (const [name, way, pid] of order) {
      const cpuBefore = treeCpuMs(pid);
      samples[name].p50.push((await sequential(way, CALL, { warmup: 100, calls })).p50);
      // Over the warm-up calls too (and one initialize, a fresh client's).
      samples[name].seqCpuUs.push(((treeCpuMs(pid) - cpuBefore) / (calls + 100)) * 1000);
    }
    for (const [name, way, pid] of order) {
      const cpuBefore = treeCpuMs(pid);
      const load = await throughput(way, CALL, sessions, { durationMs: 2_000, maxWorkers: 4 });
      samples[name].cpuUs.push(((treeCpuMs(pid) - cpuBefore) / load.calls) * 1000);
      samples[name].callsPerSec.push(load.callsPerSec);
      samples[name].p99.push(load.p99);
      process.stderr.write(
        `round ${r + 1} ${name}: p50 ${samples[name].p50.at(-1)} ms, ${load.callsPerSec} calls/s at ${sessions} sessions, ${round(samples[name].cpuUs.at(-1), 0)} µs CPU a call\n`,
      );
    }
  }
  const row = (name) => ({
    target: name,
    'p50 (ms)': round(median(samples[name].p50)),
    // CPU of the target and its children per sequential call: one call at a time, no batching.
    'CPU µs a sequential call': round(median(samples[name].seqCpuUs), 0),
    [`calls/s at ${sessions}`]: median(samples[name].callsPerSec),
    [`p99 at ${sessions} (ms)`]: round(median(samples[name].p99)),
    // CPU time of the target and its children (the upstream) per call under that load.
    'CPU µs a call': round(median(samples[name].cpuUs), 0),
  });
  const table = targets.map(([name]) => row(name));
  console.table(table);
  const [, relayRow, honoRow, before, after] = table;
  const key = `calls/s at ${sessions}`;
  for (const build of [before, after]) {
    for (const floorRow of [relayRow, honoRow]) {
      process.stdout.write(
        `${build.target}/${floorRow.target}: p50 ${round(build['p50 (ms)'] / floorRow['p50 (ms)'])}×,` +
          ` CPU a sequential call ${round(build['CPU µs a sequential call'] / floorRow['CPU µs a sequential call'])}×,` +
          ` throughput ${round(build[key] / floorRow[key])}×, CPU a call ${round(build['CPU µs a call'] / floorRow['CPU µs a call'])}×\n`,
      );
    }
  }
  process.stdout.write(
    `after/before: p50 ${round(after['p50 (ms)'] / before['p50 (ms)'])}×,` +
      ` CPU a sequential call ${round(after['CPU µs a sequential call'] / before['CPU µs a sequential call'])}×, throughput ${round(after[key] / before[key])}×,` +
      ` CPU a call ${round(after['CPU µs a call'] / before['CPU µs a call'])}×` +
      ` (rounds: ${rounds}, load average ${(await import('node:os'))
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')})\n`,
  );
} finally {
  await Promise.all([floor.stop(), relay.stop(), relayHono.stop(), ...daemons.map((d) => d.stop())]);
}
