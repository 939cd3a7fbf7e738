import { ClientRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RequestObserver } from '../gateway/forward.js';
import type { LifecycleState, Stats } from '../supervisor/lifecycle.js';
import type { UpstreamPool } from '../upstream/pool.js';
import { createStatsReader, type StatsReader } from './liveStats.js';

export const STATES: readonly LifecycleState[] = [
  'starting',
  'running',
  'unhealthy',
  'restarting',
  'stopping',
  'stopped',
  'crashed',
  'disabled',
];

/** The label of every server, method or tool name that is not one of the known ones. */
const OTHER = 'other';

/** Client request methods of MCP: the SDK's, and the two the 2026-07-28 revision adds. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  ...ClientRequestSchema.options.map((option) => option.shape.method.value),
  'server/discover',
  'subscriptions/listen',
]);

export interface MetricsDeps {
  pool: UpstreamPool;
  /** Open downstream sessions by transport. */
  sessionCounts: () => Record<string, number>;
  /** CPU/memory per server; defaults to a createStatsReader() of its own. */
  readStats?: StatsReader;
  /** Also export prom-client's process metrics (CPU, memory, event loop, ...). Default true. */
  processMetrics?: boolean;
  /** What the response cache holds now. */
  cacheSize?: () => { entries: number; bytes: number };
}

export interface Metrics {
  readonly registry: Registry;
  /** Pass as GatewayOptions.observer: counts and times every forwarded request. */
  readonly observer: RequestObserver;
  readonly contentType: string;
  /** The Prometheus text exposition of every metric, read now. */
  text(): Promise<string>;
}

/**
 * The daemon's Prometheus metrics, in a registry of its own (not prom-client's global one, so that
 * two daemons in one process, as in tests, do not mix). Server gauges are read from the pool at
 * scrape time; request counters are fed by the gateway's RequestObserver.
 */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();
  const { pool } = deps;
  const registers = [registry];

  new Gauge({
    name: 'mcp_orch_server_state',
    help: 'Lifecycle state of each server: 1 for the current state, 0 for the others',
    labelNames: ['server', 'state'],
    registers,
    collect() {
      this.reset();
      for (const upstream of pool.all()) {
        for (const state of STATES) this.set({ server: upstream.name, state }, upstream.state === state ? 1 : 0);
      }
    },
  });
  new Counter({
    name: 'mcp_orch_server_restarts_total',
    help: 'Restarts of each server since the daemon started it (by policy, by request or by config change)',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const upstream of pool.all()) this.inc({ server: upstream.name }, upstream.lifecycle.restarts);
    },
  });
  new Counter({
    name: 'mcp_orch_server_stray_stdout_lines_total',
    help: 'Lines each server wrote to stdout that were not JSON-RPC: skipped, and kept in its log',
    labelNames: ['server'],
    registers,
    collect() {
      this.reset();
      for (const upstream of pool.all()) this.inc({ server: upstream.name }, upstream.logs.stdoutLines);
    },
  });
  /** A per-server gauge from a fresh CPU/memory sample; servers without a process have no series. */
  const readStats = deps.readStats ?? createStatsReader();
  const sampleGauge = (name: string, help: string, read: (stats: Stats) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['server'],
      registers,
      async collect() {
        this.reset();
        const upstreams = pool.all();
        const stats = await Promise.all(upstreams.map(readStats));
        upstreams.forEach((upstream, i) => {
          const s = stats[i];
          if (s) this.set({ server: upstream.name }, read(s));
        });
      },
    });
  };
  sampleGauge('mcp_orch_server_cpu_percent', "CPU use of each server's process tree, in percent of one core", (s) => s.cpuPercent);
  sampleGauge('mcp_orch_server_memory_bytes', "Resident memory of each server's process tree", (s) => s.memoryBytes);
  new Gauge({
    name: 'mcp_orch_sessions_open',
    help: 'Open downstream MCP sessions by transport',
    labelNames: ['transport'],
    registers,
    collect() {
      this.reset();
      for (const [transport, count] of Object.entries(deps.sessionCounts())) this.set({ transport }, count);
    },
  });

  const requests = new Counter({
    name: 'mcp_orch_requests_total',
    help: 'Requests forwarded to servers, by server, method and tool (or prompt) name',
    labelNames: ['server', 'method', 'tool'],
    registers,
  });
  const errors = new Counter({
    name: 'mcp_orch_request_errors_total',
    help: 'Forwarded requests that failed or returned a tool error (isError)',
    labelNames: ['server', 'method', 'tool'],
    registers,
  });
  const duration = new Histogram({
    name: 'mcp_orch_request_duration_seconds',
    help: 'Time from forwarding a request to its answer, by server and method',
    labelNames: ['server', 'method'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });

  const cacheHits = new Counter({
    name: 'mcp_orch_cache_hits_total',
    help: 'Requests answered from the response cache, by server',
    labelNames: ['server'],
    registers,
  });
  const cacheMisses = new Counter({
    name: 'mcp_orch_cache_misses_total',
    help: 'Requests the response cache could have answered but had to forward, by server',
    labelNames: ['server'],
    registers,
  });
  const cacheSize = deps.cacheSize;
  if (cacheSize) {
    new Gauge({
      name: 'mcp_orch_cache_bytes',
      help: 'Size of the answers the response cache keeps (their JSON), against orch.cache.maxMb',
      registers,
      collect() {
        this.set(cacheSize().bytes);
      },
    });
  }

  // The labelled children of each (server, method, tool), looked up once: prom-client hashes the
  // label object on every call otherwise, and this runs for every forwarded request.
  const series = new Map<
    string,
    { requests: ReturnType<typeof requests.labels>; errors: ReturnType<typeof errors.labels>; duration: ReturnType<typeof duration.labels> }
  >();
  const seriesFor = (server: string, method: string, tool: string) => {
    const key = `${server}\u0000${method}\u0000${tool}`;
    let found = series.get(key);
    if (!found) {
      const labels = { server, method, tool };
      found = { requests: requests.labels(labels), errors: errors.labels(labels), duration: duration.labels({ server, method }) };
      series.set(key, found);
    }
    return found;
  };

  /**
   * Labels come from the config and the servers, never from a client: a client may send any method
   * or tool name, and each new label value would be a series kept for the daemon's life. A
   * configured server, a known method, a tool or prompt its server lists keep their names; anything
   * else counts as `other`. A resource's URI is no label at all (there may be any number).
   */
  const labelsOf = (server: string, method: string, name: string | undefined): [string, string, string] => {
    const upstream = pool.get(server);
    if (!upstream) return [OTHER, KNOWN_METHODS.has(method) ? method : OTHER, ''];
    const listed = method === 'tools/call' ? upstream.catalog.tools : method === 'prompts/get' ? upstream.catalog.prompts : undefined;
    const tool = listed === undefined ? '' : name !== undefined && namesOf(listed).has(name) ? name : OTHER;
    return [server, KNOWN_METHODS.has(method) ? method : OTHER, tool];
  };

  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    contentType: registry.contentType,
    observer: {
      requestFinished({ server, method, name, durationMs, outcome, cache }) {
        // Requests the gateway answered itself (lists, log levels) are no server's.
        if (server === undefined) return;
        const labels = labelsOf(server, method, name);
        const series = seriesFor(...labels);
        if (cache) (cache === 'hit' ? cacheHits : cacheMisses).inc({ server: labels[0] });
        series.requests.inc();
        if (outcome !== 'ok') series.errors.inc();
        series.duration.observe(durationMs / 1000);
      },
    },
    text: () => registry.metrics(),
  };
}

/** The names in a catalog list as a set, built once per list (a refresh replaces the list). */
const listedNames = new WeakMap<readonly { name: string }[], ReadonlySet<string>>();
function namesOf(list: readonly { name: string }[]): ReadonlySet<string> {
  let names = listedNames.get(list);
  if (!names) {
    names = new Set(list.map((item) => item.name));
    listedNames.set(list, names);
  }
  return names;
}
