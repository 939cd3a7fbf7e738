import type { AdminServerStatus } from '../http/api/schemas.js';
import { formatBytes, formatDuration, formatPercent } from './format.js';
import type { Viewer } from './layout.js';
import { Sparkline } from './sparkline.js';

/** CPU and memory over the last minutes, oldest first; null where the server had no process. */
export interface Sparks {
  cpu: (number | null)[];
  memory: (number | null)[];
}

export function StateBadge({ state }: { state: string }) {
  return <span class={`state s-${state}`}>{state}</span>;
}

/** Start, stop (asked first), restart: for operators; shown disabled to everyone else. */
export function Controls({ server, viewer }: { server: AdminServerStatus; viewer: Viewer }) {
  const disabled = !viewer.operator;
  const title = disabled ? 'only an operator may control servers' : undefined;
  const path = `/ui/servers/${encodeURIComponent(server.name)}`;
  const running = ['running', 'starting', 'unhealthy', 'restarting'].includes(server.state);
  return (
    <div class="actions" hx-target="closest .card" hx-swap="outerHTML">
      <button type="button" hx-post={`${path}/start`} disabled={disabled || running} title={title}>
        Start
      </button>
      <button
        type="button"
        class="danger"
        hx-post={`${path}/stop`}
        hx-confirm={`Stop ${server.name}? Its clients lose it until it is started again.`}
        disabled={disabled || !running}
        title={title}
      >
        Stop
      </button>
      <button type="button" hx-post={`${path}/restart`} disabled={disabled || server.state === 'disabled'} title={title}>
        Restart
      </button>
    </div>
  );
}

/** One server at a glance; the daemon sends it again over the page's event stream when it changes. */
export function ServerCard({ server, sparks, viewer }: { server: AdminServerStatus; sparks: Sparks; viewer: Viewer }) {
  const lastCpu = server.cpuPercent;
  const errorRate = server.errorRate === null ? '–' : formatPercent(server.errorRate * 100, 0);
  return (
    <article
      class={`card s-${server.state}`}
      data-name={server.name}
      data-state={server.state}
      sse-swap={`server:${server.name}`}
      hx-swap="outerHTML"
      aria-label={`server ${server.name}`}
    >
      <div class="row">
        <h3>
          <a href={`/ui/servers/${encodeURIComponent(server.name)}`}>{server.name}</a>
        </h3>
        <StateBadge state={server.state} />
        <span class="muted">{server.era ?? server.type}</span>
      </div>
      <div class="facts">
        <div>
          <span>pid</span>
          {server.pid ?? '–'}
        </div>
        <div>
          <span>uptime</span>
          {formatDuration(server.uptimeSec)}
        </div>
        <div>
          <span>restarts</span>
          {server.restarts}
        </div>
        <div>
          <span>calls/min</span>
          {server.callsPerMinute}
        </div>
        <div>
          <span>errors</span>
          {errorRate}
        </div>
        <div>
          <span>tools</span>
          {server.tools}
        </div>
      </div>
      <div class="spark">
        <Sparkline values={sparks.cpu} label="CPU" text={formatPercent(lastCpu)} />
        <Sparkline values={sparks.memory} label="memory" text={formatBytes(server.memoryBytes)} />
      </div>
      {server.lastError ? (
        <p class="error" title={server.lastError}>
          {server.lastError}
        </p>
      ) : null}
      <Controls server={server} viewer={viewer} />
    </article>
  );
}
