#!/usr/bin/env node
// A load worker, run as a child process by bench/run.mjs so that the client side is not one
// saturated Node process. It opens `sessions` SDK clients (for stdio: one upstream child with
// `sessions` callers sharing it), reports "ready" over IPC, waits for "go", then each session calls
// the tool in a closed loop until the deadline; it sends back its call count, errors and latencies.
import './lib/quiet.mjs';
import { callTool, connect } from './lib/clients.mjs';

const job = JSON.parse(process.argv[2]);
const { way, sessions, durationMs, call } = job;

const clients =
  way.kind === 'stdio' ? Array(sessions).fill(await connect(way)) : await Promise.all(Array.from({ length: sessions }, () => connect(way)));
for (const client of new Set(clients)) await callTool(client, call); // warm-up

process.send({ type: 'ready' });
await new Promise((resolve) => process.once('message', resolve));

const latencies = [];
let errors = 0;
const start = performance.now();
const deadline = start + durationMs;
await Promise.all(
  clients.map(async (client) => {
    while (performance.now() < deadline) {
      const t = performance.now();
      try {
        await callTool(client, call);
        latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }),
);
const elapsedMs = performance.now() - start;
process.send({ type: 'done', calls: latencies.length, errors, elapsedMs, latencies }, () => {
  void Promise.all([...new Set(clients)].map((c) => c.close().catch(() => undefined))).finally(() => process.exit(0));
});
