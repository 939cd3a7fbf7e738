#!/usr/bin/env node
// Profiles the daemon under sequential tools/call load: starts `node --cpu-prof dist/cli.js serve`
// with the echo fixture, runs CALLS sequential calls per way in (per-server Streamable HTTP and SSE,
// unified Streamable HTTP), stops it with SIGTERM so V8 writes the profile, and prints the summary.
// Usage: node bench/profile.mjs [--calls N] [--way server-mcp|server-sse|unified-mcp] (repeatable)
//        [--sessions N]: instead of sequential calls, N concurrent sessions for 5 s per way (the
//        throughput figure's load, from worker processes)
//        [--interval US]: V8's sampling interval in microseconds (default 1000); on a loaded machine
//        a finer one gives enough samples to count, where time-weighted shares are skewed by the
//        long gaps of a descheduled process
// The .cpuprofile and its summary land in bench/results/profile-<timestamp>/.
import './lib/quiet.mjs';
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatSummary, summarizeProfile } from './cpuprofile-summary.mjs';
import { sequential, throughput } from './lib/measure.mjs';
import { BENCH_ORCH, ECHO, repoRoot, startDaemon } from './lib/targets.mjs';
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const calls = Number(opt('--calls', '3000'));
const sessions = Number(opt('--sessions', '0'));
const interval = Number(opt('--interval', '1000'));
const chosen = args.flatMap((a, i) => (a === '--way' ? [args[i + 1]] : []));
const waysWanted = chosen.length ? chosen : ['server-mcp', 'server-sse', 'unified-mcp'];

const dir = join(
  repoRoot,
  'bench',
  'results',
  `profile-${new Date()
    .toISOString()
    .replaceAll(':', '-')
    .replace(/\.\d+Z$/, 'Z')}`,
);
await mkdir(dir, { recursive: true });
const orch = await startDaemon(
  { mcpServers: { echo: ECHO }, orch: BENCH_ORCH },
  {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${interval}`],
  },
);
const ways = {
  'server-mcp': [
    { kind: 'streamable', url: `${orch.url}/servers/echo/mcp` },
    { name: 'echo', arguments: { text: 'hello' } },
  ],
  'server-sse': [
    { kind: 'sse', url: `${orch.url}/servers/echo/sse` },
    { name: 'echo', arguments: { text: 'hello' } },
  ],
  'unified-mcp': [
    { kind: 'streamable', url: `${orch.url}/mcp` },
    { name: 'echo__echo', arguments: { text: 'hello' } },
  ],
};
const figures = {};
try {
  for (const name of waysWanted) {
    const [way, call] = ways[name];
    figures[name] = sessions
      ? await throughput(way, call, sessions, { durationMs: 5_000, maxWorkers: 4 })
      : await sequential(way, call, { warmup: 100, calls });
    process.stderr.write(`${name}: ${JSON.stringify(figures[name])}\n`);
  }
} finally {
  await orch.stop();
}
const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
const summary = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')), { top: 30 });
const text = `${sessions ? `${sessions} sessions for 5 s` : `${calls} calls`} per way; ways: ${waysWanted.join(', ')}\n${JSON.stringify(figures)}\n\n${formatSummary(summary)}\n`;
await writeFile(join(dir, 'summary.txt'), text);
process.stdout.write(text);
process.stderr.write(`profile: ${join(dir, file)}\n`);
