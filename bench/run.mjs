#!/usr/bin/env node
// `npm run bench`: what mcp-orch costs on the path of a tool call, each figure beside two references
// measured in the same run (the upstream reached directly over stdio, and a do-nothing Streamable
// HTTP endpoint on node:http). Options: --quick (about a minute), --peers (also supergateway
// --stateful and mcp-proxy), --cache-only (the response cache's figures alone), --json-only (no
// table). Writes bench/results/<timestamp>.json.
// See bench/README.md for what each figure means.
import './lib/quiet.mjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from './lib/clients.mjs';
import {
  connectTime,
  interleavedSequential,
  ownRssMiB,
  pairedDifference,
  sequential,
  sessionsMemory,
  throughput,
  toolsList,
} from './lib/measure.mjs';
import { logIn, measurePages, PAGES, REFERENCE } from './lib/pages.mjs';
import { freePort, pollUntil, treeCpuMs, treeRss } from './lib/proc.mjs';
import { ratio, round } from './lib/stats.mjs';
import { printTable, printTargets } from './lib/table.mjs';
import { againstTargets } from './lib/targetsMet.mjs';
import {
  BENCH_ORCH,
  ECHO,
  EVERYTHING,
  mainConfig,
  manyTools,
  daemonCli,
  repoRoot,
  startDaemon,
  startFloor,
  startMcpProxy,
  startSupergateway,
  tenServersConfig,
} from './lib/targets.mjs';

const argv = new Set(process.argv.slice(2));
const quick = argv.has('--quick');
const peers = argv.has('--peers');
const cacheOnly = argv.has('--cache-only');
const pagesOnly = argv.has('--pages-only');
const P = quick
  ? { connects: 8, warmup: 100, calls: 500, bigCalls: 12, listCalls: 50, durationMs: 1_500, sessions: 200, peerSessions: 16, maxWorkers: 4 }
  : {
      connects: 20,
      warmup: 200,
      calls: 2_000,
      bigCalls: 40,
      listCalls: 200,
      durationMs: 3_000,
      sessions: 1_000,
      peerSessions: 32,
      maxWorkers: 4,
    };

const ECHO_CALL = { name: 'echo', arguments: { text: 'hello' } };
const UNIFIED_ECHO_CALL = { name: 'echo__echo', arguments: { text: 'hello' } };
const EVERYTHING_CALL = { name: 'echo', arguments: { message: 'hello' } };
const UNIFIED_EVERYTHING_CALL = { name: 'everything__echo', arguments: { message: 'hello' } };

const started = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${msg}\n`);

/** figures[id] = { label, unit, better, direct, floor, rows: { target: value } } */
const figures = {};
function figure(id, label, unit, better = 'lower') {
  figures[id] ??= { label, unit, better, direct: null, floor: null, rows: {} };
  return figures[id];
}
const set = (id, label, unit, target, value, better) => {
  const f = figure(id, label, unit, better);
  if (target === 'direct') f.direct = value;
  else if (target === 'floor') f.floor = value;
  else f.rows[target] = value;
};
const raw = {};
const handles = [];
const track = (h) => {
  handles.push(h);
  return h;
};

const { cpus, loadavg } = await import('node:os');
const loadAtStart = loadavg().map((v) => round(v, 2));

async function main() {
  log(`mode: ${quick ? 'quick' : 'full'}${peers ? ' + peers' : ''}; node ${process.version}`);
  if (!cacheOnly && !pagesOnly) {
    await phaseCalls();
    await phaseTenServers();
    if (peers) await phasePeerMemoryAndStart();
  }
  if (!pagesOnly) await phaseCache();
  if (!cacheOnly) await phasePages();

  const results = {
    timestamp: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    peers,
    node: process.version,
    cpus: cpus().length,
    // Other work on the machine skews every figure; the references, measured in the same run, share it.
    loadavg: { start: loadAtStart, end: loadavg().map((v) => round(v, 2)) },
    daemon: daemonCli,
    params: P,
    figures: withRatios(figures),
    targets: againstTargets(figures),
    raw,
    durationSec: round((Date.now() - started) / 1000, 1),
  };
  const dir = join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${results.timestamp.replaceAll(':', '-').replace(/\.\d+Z$/, 'Z')}.json`);
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  if (!argv.has('--json-only')) {
    printTable(results);
    printTargets(results.targets);
  }
  log(`wrote ${file} (${results.durationSec} s)`);
}

function withRatios(all) {
  const out = {};
  for (const [id, f] of Object.entries(all)) {
    const rows = {};
    for (const [target, value] of Object.entries(f.rows)) {
      rows[target] = { value, vsDirect: ratio(value, f.direct), vsFloor: ratio(value, f.floor) };
    }
    out[id] = { ...f, rows };
  }
  return out;
}

/** Connect, sequential calls and throughput against the daemon (echo + everything), the references and peers. */
async function phaseCalls() {
  const floor = track(await startFloor());
  const relay = track(await startFloor({ relayTo: ECHO }));
  // The same relay served on Hono and @hono/node-server: what mcp-orch's HTTP layer alone costs.
  const relayHono = track(await startFloor({ relayTo: ECHO, http: 'hono' }));
  const orch = track(await startDaemon(mainConfig()));
  // The same daemon with API keys on: what authentication, the role check and the audit add.
  const keyed = track(await startDaemon(mainConfig(), { auth: true }));
  await waitAllRunning(orch.url, 2);
  await waitAllRunning(keyed.url, 2);
  const direct = { kind: 'stdio', ...ECHO };
  const ways = {
    direct,
    floor: { kind: 'streamable', url: floor.mcpUrl, pid: floor.pid },
    'relay floor mcp': { kind: 'streamable', url: relay.mcpUrl, pid: relay.pid },
    'relay floor mcp, hono': { kind: 'streamable', url: relayHono.mcpUrl, pid: relayHono.pid },
    'orch server mcp': { kind: 'streamable', url: `${orch.url}/servers/echo/mcp`, pid: orch.pid },
    'orch server mcp, key': { kind: 'streamable', url: `${keyed.url}/servers/echo/mcp`, pid: keyed.pid, key: keyed.key },
    'orch server sse': { kind: 'sse', url: `${orch.url}/servers/echo/sse` },
    'orch unified mcp': { kind: 'streamable', url: `${orch.url}/mcp`, unified: true, pid: orch.pid },
    'orch unified sse': { kind: 'sse', url: `${orch.url}/sse`, unified: true },
  };
  let sg;
  let mp;
  if (peers) {
    sg = track(await startSupergateway(ECHO));
    mp = track(await startMcpProxy(ECHO));
    await pollUntil(sg.healthUrl, sg.t0);
    await pollUntil(mp.healthUrl, mp.t0);
    ways['supergateway mcp'] = { kind: 'streamable', url: sg.mcpUrl, pid: sg.pid };
    ways['mcp-proxy mcp'] = { kind: 'streamable', url: mp.mcpUrl, pid: mp.pid };
    ways['mcp-proxy sse'] = { kind: 'sse', url: mp.sseUrl };
  }
  const callOf = (way) => (way.unified ? UNIFIED_ECHO_CALL : ECHO_CALL);

  for (const [target, way] of Object.entries(ways)) {
    log(`connect + initialize: ${target}`);
    const r = await connectTime(way, P.connects);
    set('connect', 'connect + initialize', 'ms', target, r.ms);
  }

  // Every process gets the same JIT warm-up before any latency is taken, so the order of the
  // targets does not favour the ones measured later (the first was always slower before this).
  log('warm-up of every target');
  for (const way of Object.values(ways)) await sequential(way, callOf(way), { warmup: P.warmup * 5, calls: 1 });

  const seq = await interleavedSequential(
    Object.entries(ways).map(([target, way]) => [target, way, callOf(way)]),
    { ...P, onRound: (r, rounds) => log(`sequential tools/call, round ${r} of ${rounds}: every target in turn`) },
  );
  for (const [target, r] of Object.entries(seq)) {
    raw[`sequential ${target}`] = r;
    for (const p of ['p50', 'p90', 'p99']) set(`seq.${p}`, `sequential tools/call ${p}`, 'ms', target, r[p]);
  }
  // The official server-everything behind the daemon (its own echo tool), against it directly.
  log('sequential tools/call: server-everything');
  const ev = {
    direct: await sequential({ kind: 'stdio', ...EVERYTHING }, EVERYTHING_CALL, P),
    'orch server mcp': await sequential({ kind: 'streamable', url: `${orch.url}/servers/everything/mcp` }, EVERYTHING_CALL, P),
    'orch unified mcp': await sequential({ kind: 'streamable', url: `${orch.url}/mcp` }, UNIFIED_EVERYTHING_CALL, P),
  };
  raw['sequential server-everything'] = ev;
  for (const [target, r] of Object.entries(ev)) set('seq.everything.p50', 'server-everything echo p50', 'ms', target, r.p50);
  set('seq.everything.p50', 'server-everything echo p50', 'ms', 'floor', figures['seq.p50'].floor);

  // A 1 MiB result (the echo fixture's blob tool, with quotes, newlines and non-ASCII to escape):
  // what reading, decoding and passing on a large result costs. The do-nothing floor has no such tool.
  for (const [target, way] of Object.entries(ways)) {
    if (target === 'floor') continue;
    log(`sequential tools/call, 1 MiB result: ${target}`);
    const big = { name: way.unified ? 'echo__blob' : 'blob', arguments: { bytes: 1_048_576 } };
    const r = await sequential(way, big, { warmup: P.bigCalls / 4, calls: P.bigCalls });
    set('seq.big.p50', 'tools/call p50, 1 MiB result', 'ms', target, r.p50);
  }

  const loadWays = [
    'direct',
    'floor',
    'relay floor mcp',
    'relay floor mcp, hono',
    'orch server mcp',
    'orch server mcp, key',
    'orch unified mcp',
    ...(peers ? ['supergateway mcp', 'mcp-proxy mcp'] : []),
  ];
  for (const sessions of [1, 8, 64]) {
    for (const target of loadWays) {
      const way = ways[target];
      log(`throughput, ${sessions} sessions: ${target}`);
      const cpuBefore = way.pid ? treeCpuMs(way.pid) : null;
      const r = await throughput(way, callOf(way), sessions, P);
      raw[`throughput ${sessions} ${target}`] = { ...r, way: undefined };
      // What the target (with its children: the upstream, or a peer's per-session processes) burns
      // per call; on 2 shared cores, CPU left to the load generators is what caps calls/s.
      if (cpuBefore !== null && r.calls) {
        set(
          `tput.${sessions}.cpu`,
          `CPU per call under ${sessions} sessions`,
          'µs',
          target,
          round(((treeCpuMs(way.pid) - cpuBefore) / r.calls) * 1000, 0),
        );
      }
      set(`tput.${sessions}`, `throughput, ${sessions} sessions`, 'calls/s', target, r.callsPerSec, 'higher');
      set(`tput.${sessions}.p99`, `p99 under ${sessions} sessions`, 'ms', target, r.p99);
      if (r.errors) log(`  ${r.errors} errors`);
    }
  }
  raw['orch rss after load (MiB)'] = ownRssMiB(orch.pid);
  await Promise.all([floor.stop(), relay.stop(), relayHono.stop(), orch.stop(), sg?.stop(), mp?.stop()]);
}

/** Start-up, idle RSS, tools/list and 1,000 sessions with ten many-tools servers behind the daemon. */
async function phaseTenServers() {
  log('start-up with 10 servers');
  const port = await freePort();
  const orch = track(await startDaemon(tenServersConfig(), { port, waitListening: false }));
  const healthMs = await pollUntil(`${orch.url}/health`, orch.t0);
  const allRunningMs = await waitAllRunning(orch.url, 10, orch.t0);
  set('start.health', 'start to /health 200 (10 servers)', 'ms', 'mcp-orch', round(healthMs, 0));
  set('start.running', 'start to 10 servers running', 'ms', 'mcp-orch', round(allRunningMs, 0));

  const floor = track(await startFloor({ toolCount: 510 }));
  set('start.health', 'start to /health 200 (10 servers)', 'ms', 'floor', round(await pollUntil(floor.mcpUrl, floor.t0, floorInit()), 0));
  const directMany = { kind: 'stdio', ...manyTools(509) };
  const c0 = performance.now();
  const probe = await connect(directMany);
  set('start.health', 'start to /health 200 (10 servers)', 'ms', 'direct', round(performance.now() - c0, 0));
  set('start.running', 'start to 10 servers running', 'ms', 'direct', round(performance.now() - c0, 0));
  await probe.close();

  log('tools/list, 510 tools');
  const list = {
    direct: await toolsList(directMany, { warmup: 5, calls: P.listCalls }),
    floor: await toolsList({ kind: 'streamable', url: floor.mcpUrl }, { warmup: 5, calls: P.listCalls }),
    'orch unified mcp': await toolsList({ kind: 'streamable', url: `${orch.url}/mcp` }, { warmup: 5, calls: P.listCalls }),
  };
  raw['tools/list 510 tools'] = list;
  for (const [target, r] of Object.entries(list)) {
    set('list.p50', 'tools/list p50 (510 tools)', 'ms', target, r.p50);
    set('list.p99', 'tools/list p99 (510 tools)', 'ms', target, r.p99);
  }

  log(`memory: ${P.sessions} sessions`);
  const orchMem = await sessionsMemory(orch.pid, `${orch.url}/mcp`, P.sessions);
  const floorMem = await sessionsMemory(floor.pid, floor.mcpUrl, P.sessions);
  raw.memory = {
    'mcp-orch (10 servers, unified)': orchMem,
    floor: floorMem,
    'mcp-orch upstream children (MiB)': round(treeRss(orch.pid).children / 1024, 1),
  };
  set('mem.idle', 'RSS idle, 10 servers', 'MiB', 'mcp-orch', orchMem.idleRssMiB);
  set('mem.idle', 'RSS idle, 10 servers', 'MiB', 'floor', floorMem.idleRssMiB);
  set('mem.loaded', `RSS with ${P.sessions} sessions`, 'MiB', 'mcp-orch', orchMem.loadedRssMiB);
  set('mem.loaded', `RSS with ${P.sessions} sessions`, 'MiB', 'floor', floorMem.loadedRssMiB);
  set('mem.perSession', 'per-session cost', 'KiB', 'mcp-orch', orchMem.perSessionKiB);
  set('mem.perSession', 'per-session cost', 'KiB', 'floor', floorMem.perSessionKiB);
  await Promise.all([orch.stop(), floor.stop()]);
}

/** The dashboard and the REST API with 50 running servers: time to first byte of each page, beside /health. */
async function phasePages() {
  const count = 50;
  log(`dashboard pages with ${count} servers`);
  const mcpServers = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`s${i + 1}`, { ...ECHO, env: { FIXTURE_ID: `s${i + 1}` } }]),
  );
  const orch = track(await startDaemon({ mcpServers, orch: BENCH_ORCH }, { auth: true }));
  await waitAllRunning(orch.url, count);
  const cookie = await logIn(orch.url, orch.key);
  // Sparklines need samples of the metrics history (one every 10 s): the overview is measured with them.
  await pollUntil(`${orch.url}/api/metrics/history?range=5m`, performance.now(), {
    init: { headers: { cookie } },
    ok: (response, body) => response.status === 200 && JSON.parse(body).samples.length >= count,
    timeoutMs: 30_000,
  });
  const pages = await measurePages(orch.url, cookie, { rounds: quick ? 10 : 30 });
  raw[`pages, ${count} servers`] = pages;
  for (const path of PAGES) {
    set('ui.p50', `time to first byte p50, ${count} servers`, 'ms', path, pages[path].p50);
    set('ui.p99', `time to first byte p99, ${count} servers`, 'ms', path, pages[path].p99);
  }
  set('ui.p50', `time to first byte p50, ${count} servers`, 'ms', 'floor', pages[REFERENCE].p50);
  set('ui.p99', `time to first byte p99, ${count} servers`, 'ms', 'floor', pages[REFERENCE].p99);
  await orch.stop();
}

/** Peers: start-up (one server each: they front a single command) and memory with a few sessions. */
async function phasePeerMemoryAndStart() {
  for (const [name, start] of [
    ['supergateway', startSupergateway],
    ['mcp-proxy', startMcpProxy],
  ]) {
    log(`${name}: start-up and memory with ${P.peerSessions} sessions`);
    const peer = track(await start(manyTools(509)));
    set(
      'start.health',
      'start to /health 200 (10 servers)',
      'ms',
      `${name} (1 server)`,
      round(await pollUntil(peer.healthUrl, peer.t0), 0),
    );
    const list = await toolsList({ kind: 'streamable', url: peer.mcpUrl }, { warmup: 5, calls: P.listCalls });
    raw[`tools/list 510 tools ${name}`] = list;
    set('list.p50', 'tools/list p50 (510 tools)', 'ms', `${name} (1 server)`, list.p50);
    set('list.p99', 'tools/list p99 (510 tools)', 'ms', `${name} (1 server)`, list.p99);
    const mem = await sessionsMemory(peer.pid, peer.mcpUrl, P.peerSessions);
    raw.memory[`${name} (1 server, ${P.peerSessions} sessions)`] = mem;
    set('mem.idle', 'RSS idle, 10 servers', 'MiB', `${name} (1 server)`, mem.idleRssMiB);
    set('mem.perSession', 'per-session cost', 'KiB', `${name} (incl. children)`, mem.perSessionTreeKiB);
    await peer.stop();
  }
}

/**
 * The response cache: one daemon with the echo fixture twice, `cached` (its echo and blob tools
 * kept) and `plain`. A hit is the same call again; the miss path is a cacheable call whose
 * arguments never repeat, paired call by call with the same calls to the plain server: the
 * difference is what looking up, keying and keeping an answer costs.
 */
async function phaseCache() {
  const orch = track(
    await startDaemon({ mcpServers: { plain: ECHO, cached: { ...ECHO, cache: { ttlSec: 600, tools: ['echo', 'blob'] } } } }),
  );
  await waitAllRunning(orch.url, 2);
  const way = (server) => ({ kind: 'streamable', url: `${orch.url}/servers/${server}/mcp`, pid: orch.pid });
  // Numbered across rounds (each round starts its calls from 0): no argument ever comes twice.
  let made = 0;
  const fresh = () => ({ name: 'echo', arguments: { text: `hello ${made++}` } });
  // New arguments each time, so that the cached server's child is as warm as the plain one's.
  log('warm-up of the cache targets');
  for (const server of ['plain', 'cached']) await sequential(way(server), fresh, { warmup: P.warmup * 5, calls: 1 });
  const seq = await interleavedSequential(
    [
      ['plain, same call', way('plain'), ECHO_CALL],
      ['cached, hit', way('cached'), ECHO_CALL],
      ['plain, new arguments', way('plain'), fresh],
      ['cached, miss', way('cached'), fresh],
    ],
    { ...P, onRound: (r, rounds) => log(`cache: sequential tools/call, round ${r} of ${rounds}`) },
  );
  raw.cache = seq;
  for (const [target, r] of Object.entries(seq)) set('cache.p50', 'cache: tools/call p50', 'ms', target, r.p50);
  // Within each pair of calls, plain then cached: what the cache adds to a call it cannot answer.
  log('cache: the miss path beside the plain server, call by call');
  const missCost = await pairedDifference([way('plain'), fresh], [way('cached'), fresh], P);
  set('cache.missCost', 'cache: miss path, extra (median of paired differences)', 'ms', 'cached, miss', missCost);
  const big = { name: 'blob', arguments: { bytes: 1_048_576 } };
  for (const server of ['plain', 'cached']) {
    log(`cache: tools/call, 1 MiB result: ${server}`);
    const r = await sequential(way(server), big, { warmup: P.bigCalls / 4, calls: P.bigCalls });
    set('cache.big.p50', 'cache: tools/call p50, 1 MiB result', 'ms', server === 'cached' ? 'cached, hit' : 'plain', r.p50);
  }
  await orch.stop();
}

function floorInit() {
  return {
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'b', version: '0' } },
      }),
    },
  };
}

/** Polls /health until `count` servers are running; returns ms since t0. */
function waitAllRunning(url, count, t0 = performance.now()) {
  return pollUntil(`${url}/health`, t0, {
    ok: (response, body) => response.status === 200 && JSON.parse(body).servers.filter((s) => s.state === 'running').length >= count,
    timeoutMs: 60_000,
  });
}

try {
  await main();
} finally {
  await Promise.all(handles.map((h) => h.stop().catch(() => undefined)));
}
