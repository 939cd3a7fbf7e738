// The measurements themselves; each takes a "way in" (see clients.mjs) and returns plain numbers.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { callTool, connect, rawInitialize } from './clients.mjs';
import { rssKiB, treeRss } from './proc.mjs';
import { median, round, summarize } from './stats.mjs';

const workerPath = fileURLToPath(new URL('../worker.mjs', import.meta.url));

/** Median connect + initialize time over `n` fresh clients (for stdio this includes the spawn). */
export async function connectTime(way, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const client = await connect(way);
    times.push(performance.now() - t);
    await client.close();
  }
  return { ms: round(median(times)), n };
}

/** One client, `calls` sequential tools/call after `warmup` of them: p50/p90/p99 in ms. */
export async function sequential(way, call, { warmup, calls }) {
  return summarize(await timedCalls(way, call, { warmup, calls }));
}

/**
 * `sequential` over several targets ([name, way, call]) in interleaved rounds: each round runs
 * every target in turn, so load that comes and goes during a run weighs on all of them alike.
 * p50/p90/p99 per target over the calls of all rounds (`calls` in all, split over the rounds).
 */
export async function interleavedSequential(targets, { warmup, calls, rounds = 4, onRound = () => {} }) {
  const samples = new Map(targets.map(([name]) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    onRound(r + 1, rounds);
    for (const [name, way, call] of targets) {
      samples.get(name).push(...(await timedCalls(way, call, { warmup: Math.ceil(warmup / rounds), calls: Math.ceil(calls / rounds) })));
    }
  }
  return Object.fromEntries([...samples].map(([name, values]) => [name, summarize(values)]));
}

/**
 * One client's latencies in ms for `calls` sequential tools/call after `warmup` of them. `call` is
 * the call, or a function that makes each one (arguments that never repeat, say).
 */
async function timedCalls(way, call, { warmup, calls }) {
  const client = await connect(way);
  const next = typeof call === 'function' ? call : () => call;
  try {
    for (let i = 0; i < warmup; i++) await callTool(client, next());
    const latencies = new Float64Array(calls);
    for (let i = 0; i < calls; i++) {
      const made = next();
      const t = performance.now();
      await callTool(client, made);
      latencies[i] = performance.now() - t;
    }
    return latencies;
  } finally {
    await client.close();
  }
}

/**
 * Two targets called in turn, one call each, `calls` times (after `warmup` pairs): what target `b`
 * costs beyond target `a`, as the median of the per-pair differences in ms. Pairs a millisecond
 * apart see the same load, so a small difference shows through the machine's noise.
 */
export async function pairedDifference([a, callA], [b, callB], { warmup, calls }) {
  const [clientA, clientB] = await Promise.all([connect(a), connect(b)]);
  try {
    const differences = [];
    for (let i = 0; i < warmup + calls; i++) {
      const t0 = performance.now();
      await callTool(clientA, callA());
      const t1 = performance.now();
      await callTool(clientB, callB());
      if (i >= warmup) differences.push(performance.now() - t1 - (t1 - t0));
    }
    return round(median(differences), 4);
  } finally {
    await Promise.all([clientA.close(), clientB.close()]);
  }
}

/** tools/list latency (p50/p90/p99) and the number of tools listed. */
export async function toolsList(way, { warmup, calls }) {
  const client = await connect(way);
  try {
    let count = 0;
    for (let i = 0; i < warmup; i++) count = (await client.listTools()).tools.length;
    const latencies = new Float64Array(calls);
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await client.listTools();
      latencies[i] = performance.now() - t;
    }
    return { ...summarize(latencies), tools: count };
  } finally {
    await client.close();
  }
}

/**
 * `sessions` concurrent sessions spread over up to `maxWorkers` worker processes, each session
 * calling in a closed loop for `durationMs`: aggregate calls/s and p50/p99 under that load.
 */
export async function throughput(way, call, sessions, { durationMs, maxWorkers }) {
  const workers = Math.min(sessions, maxWorkers);
  const shares = Array.from({ length: workers }, (_, i) => Math.floor(sessions / workers) + (i < sessions % workers ? 1 : 0));
  const children = shares.map((share) =>
    fork(workerPath, [JSON.stringify({ way, sessions: share, durationMs, call })], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  try {
    const next = (child, type) =>
      new Promise((resolve, reject) => {
        const onMessage = (m) => {
          if (m.type !== type) return;
          child.off('exit', onExit);
          child.off('message', onMessage);
          resolve(m);
        };
        const onExit = (code) => reject(new Error(`load worker exited (code ${code}) before "${type}"`));
        child.on('message', onMessage);
        child.once('exit', onExit);
      });
    await Promise.all(children.map((c) => next(c, 'ready')));
    const done = children.map((c) => next(c, 'done'));
    for (const c of children) c.send('go');
    const results = await Promise.all(done);
    const calls = results.reduce((s, r) => s + r.calls, 0);
    const errors = results.reduce((s, r) => s + r.errors, 0);
    const elapsed = Math.max(...results.map((r) => r.elapsedMs));
    const latencies = results.flatMap((r) => r.latencies);
    const { p50, p99 } = summarize(latencies);
    return { sessions, workers, callsPerSec: round((calls / elapsed) * 1000, 0), p50, p99, calls, errors };
  } finally {
    await Promise.all(
      children.map((c) =>
        c.exitCode === null
          ? new Promise((r) => {
              c.once('exit', r);
              setTimeout(() => c.kill('SIGKILL'), 5_000).unref();
            })
          : undefined,
      ),
    );
  }
}

/**
 * RSS of `pid` idle, then with `count` sessions opened by raw initialize POSTs (32 at a time),
 * and the per-session cost in KiB. Children's RSS (peers that spawn one per session) is counted too.
 */
export async function sessionsMemory(pid, url, count) {
  await sleep(500);
  const idle = treeRss(pid);
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        next++;
        await rawInitialize(url).catch(() => failed++);
      }
    }),
  );
  await sleep(1_000);
  const loaded = treeRss(pid);
  const opened = count - failed;
  return {
    sessions: opened,
    idleRssMiB: round(idle.own / 1024, 1),
    loadedRssMiB: round(loaded.own / 1024, 1),
    perSessionKiB: opened ? round((loaded.own - idle.own) / opened, 1) : null,
    childrenIdle: idle.childCount,
    childrenLoaded: loaded.childCount,
    treeRssMiB: round(loaded.total / 1024, 1),
    perSessionTreeKiB: opened ? round((loaded.total - idle.total) / opened, 1) : null,
  };
}

export function ownRssMiB(pid) {
  const kib = rssKiB(pid);
  return kib === null ? null : round(kib / 1024, 1);
}
