#!/usr/bin/env node
// `npm run bench:batch`: what batch mode buys and costs, on the built daemon (keys off, loopback).
//   speed-up      20 calls of a tool that sleeps 500 ms, as one map step with maxParallel 10,
//                 against the same 20 calls made one after another (the 10 s a client waits without it)
//   cost per step a plan of N independent echo steps run one at a time (maxParallel 1), per step,
//                 minus one call of the same tool straight to the server over stdio: what the
//                 executor, its SQLite bookkeeping and the gateway's forwarding path add to each
//                 call (beside it, a client's tools/call through /mcp, which pays HTTP instead)
// Options: --steps N (default 400). Prints a table and writes bench/results/batch-<timestamp>.json.
import './lib/quiet.mjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { callTool, connect } from './lib/clients.mjs';
import { median, round } from './lib/stats.mjs';
import { ECHO, repoRoot, startDaemon } from './lib/targets.mjs';

const argv = process.argv.slice(2);
const steps = Number(argv[argv.indexOf('--steps') + 1]) || 400;
const TOOLS = { command: process.execPath, args: [join(repoRoot, 'test/fixtures/batch-tools.mjs')] };
const log = (msg) => process.stderr.write(`${msg}\n`);

async function runTask(url, plan) {
  const started = performance.now();
  const submitted = await fetch(`${url}/batch/execute`, { method: 'POST', body: JSON.stringify({ plan }) });
  const { id } = await submitted.json();
  // The event stream ends with the task: no polling interval in the figure.
  const events = await fetch(`${url}/batch/events/${id}`);
  await events.text();
  const elapsed = performance.now() - started;
  const result = await (await fetch(`${url}/batch/result/${id}`)).json();
  if (result.status !== 'succeeded') throw new Error(`task ${id} ${result.status}: ${JSON.stringify(result.steps.find((s) => s.error))}`);
  return { elapsed, result };
}

const daemon = await startDaemon({
  mcpServers: { echo: ECHO, tools: TOOLS },
  orch: { batch: { maxParallel: 10, maxSteps: Math.max(200, steps) } },
});
try {
  const client = await connect({ kind: 'streamable', url: `${daemon.url}/mcp` });
  const ECHO_CALL = { name: 'echo__echo', arguments: { text: 'hello' } };
  for (let i = 0; i < 200; i++) await callTool(client, ECHO_CALL); // warm-up

  log('speed-up: 20 × 500 ms, one after another, then as a map with maxParallel 10');
  let t0 = performance.now();
  for (let i = 0; i < 20; i++) await callTool(client, { name: 'tools__sleep', arguments: { ms: 500 } });
  const sequentialMs = performance.now() - t0;
  const map = {
    maxParallel: 10,
    steps: [
      { type: 'tool', id: 'list', server: 'tools', tool: 'items', arguments: { n: 20 } },
      { type: 'map', id: 'sleep', over: '${steps.list.result.items}', server: 'tools', tool: 'sleep', arguments: { ms: 500 } },
    ],
  };
  const mapRuns = [];
  for (let i = 0; i < 3; i++) mapRuns.push((await runTask(daemon.url, map)).elapsed);
  const batchMs = median(mapRuns);

  log(`cost per step: ${steps} echo steps at maxParallel 1, against ${steps} tools/call through /mcp`);
  const direct = [];
  for (let i = 0; i < steps; i++) {
    t0 = performance.now();
    await callTool(client, ECHO_CALL);
    direct.push(performance.now() - t0);
  }
  const chain = {
    maxParallel: 1,
    steps: Array.from({ length: steps }, (_, i) => ({
      type: 'tool',
      id: `s${i}`,
      server: 'echo',
      tool: 'echo',
      arguments: { text: 'hello' },
    })),
  };
  await runTask(daemon.url, chain); // warm-up
  const perStep = [];
  for (let i = 0; i < 3; i++) perStep.push((await runTask(daemon.url, chain)).elapsed / steps);
  const callMs = median(direct);
  const stepMs = median(perStep);
  await client.close();
  const stdio = await connect({ kind: 'stdio', ...ECHO });
  const straight = [];
  for (let i = 0; i < 200; i++) await callTool(stdio, { name: 'echo', arguments: { text: 'hello' } });
  for (let i = 0; i < steps; i++) {
    t0 = performance.now();
    await callTool(stdio, { name: 'echo', arguments: { text: 'hello' } });
    straight.push(performance.now() - t0);
  }
  await stdio.close();
  const stdioMs = median(straight);

  const figures = {
    sequentialMs: round(sequentialMs, 0),
    batchMs: round(batchMs, 0),
    speedUp: round(sequentialMs / batchMs, 1),
    stdioCallMs: round(stdioMs),
    mcpCallMs: round(callMs),
    batchStepMs: round(stepMs),
    costPerStepMs: round(stepMs - stdioMs),
    steps,
  };
  const rows = [
    ['20 × 500 ms one after another', `${figures.sequentialMs} ms`],
    ['20 × 500 ms as a map, maxParallel 10', `${figures.batchMs} ms (×${figures.speedUp})`],
    ['one echo call straight to the server, stdio (median)', `${figures.stdioCallMs} ms`],
    ['one echo tools/call through /mcp (median)', `${figures.mcpCallMs} ms`],
    [`one echo step of ${steps}, maxParallel 1`, `${figures.batchStepMs} ms`],
    ['cost per step (step - straight call)', `${figures.costPerStepMs} ms`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(`${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n`);
  const dir = join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `batch-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), `${JSON.stringify(figures, null, 2)}\n`);
} finally {
  await daemon.stop();
}
