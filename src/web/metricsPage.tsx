import { raw } from 'hono/html';
import type { z } from 'zod';
import type { metricSampleSchema } from '../http/api/schemas.js';
import { ASSETS, Page, type Viewer } from './layout.js';

type Sample = z.infer<typeof metricSampleSchema>;

export const RANGE_CHOICES = ['1h', '6h', '24h', '7d', '30d'] as const;

interface Series {
  names: string[];
  values: (number | null)[][];
}

/** What the charts draw: one time axis (seconds) and, per figure, a line per server (or per percentile of one server). */
export function chartPayload(samples: readonly Sample[], server: string | undefined): { times: number[]; series: Record<string, Series> } {
  const times = [...new Set(samples.map((s) => s.at))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const servers = [...new Set(samples.map((s) => s.server))].sort();
  const line = (pick: (s: Sample) => number | null, only = servers): Series => {
    const values = only.map(() => times.map((): number | null => null));
    for (const s of samples) {
      const row = only.indexOf(s.server);
      if (row !== -1) values[row]![index.get(s.at)!] = pick(s);
    }
    return { names: only, values };
  };
  const latency: Series =
    server === undefined
      ? { ...line((s) => s.p95Ms), names: servers.map((name) => `${name} p95`) }
      : { names: ['p50', 'p95'], values: [line((s) => s.p50Ms).values[0] ?? [], line((s) => s.p95Ms).values[0] ?? []] };
  return {
    times: times.map((t) => t / 1000),
    series: {
      cpu: line((s) => s.cpuPercent),
      memory: line((s) => (s.memoryBytes === null ? null : Math.round((s.memoryBytes / 1024 / 1024) * 10) / 10)),
      calls: line((s) => s.calls),
      latency,
    },
  };
}

const FIGURES = [
  { figure: 'cpu', title: 'CPU', unit: '%' },
  { figure: 'memory', title: 'Memory', unit: 'MB' },
  { figure: 'calls', title: 'Calls per period', unit: 'calls' },
  { figure: 'latency', title: 'Latency', unit: 'ms' },
];

export function MetricsPage(props: {
  samples: Sample[];
  servers: string[];
  server: string | undefined;
  range: string;
  resolution: number;
  viewer: Viewer;
}) {
  const payload = JSON.stringify(chartPayload(props.samples, props.server)).replaceAll('<', '\\u003c');
  return (
    <Page
      title="Metrics"
      section="metrics"
      viewer={props.viewer}
      scripts={[`${ASSETS}/uPlot.iife.min.js`]}
      styles={[`${ASSETS}/uPlot.min.css`]}
    >
      <h1>Metrics history</h1>
      <form class="filters" method="get" action="/ui/metrics" aria-label="choose what to chart">
        <label>
          Server
          <select name="server">
            <option value="">all</option>
            {props.servers.map((name) => (
              <option value={name} selected={name === props.server}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Range
          <select name="range">
            {RANGE_CHOICES.map((range) => (
              <option value={range} selected={range === props.range}>
                {range}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
        <span class="muted">
          {props.samples.length} samples at {props.resolution === 10 ? '10 s' : '5 min'} resolution
        </span>
      </form>
      <script type="application/json" id="metrics-data">
        {raw(payload)}
      </script>
      {props.samples.length === 0 ? <p class="notice">No samples yet: the daemon takes one every 10 seconds.</p> : null}
      <div class="cards">
        {FIGURES.map((f) => (
          <section class="panel chart" data-figure={f.figure} data-title={f.title} data-unit={f.unit} aria-label={f.title}></section>
        ))}
      </div>
    </Page>
  );
}
