import type { z } from 'zod';
import type { AdminServerStatus, daemonStatusSchema } from '../http/api/schemas.js';
import { LIFECYCLE_STATES } from '../supervisor/lifecycle.js';
import { ServerCard, type Sparks } from './card.js';
import { formatDuration } from './format.js';
import { Page, type Viewer } from './layout.js';

export type DaemonStatus = z.infer<typeof daemonStatusSchema>;
export interface CardData {
  server: AdminServerStatus;
  sparks: Sparks;
}

/** The daemon in one line: version, uptime, sessions by transport, calls per second, servers by state. */
export function DaemonHeader({ status }: { status: DaemonStatus }) {
  const sessions = Object.entries(status.sessions);
  return (
    <section class="panel stats" id="daemon-header" sse-swap="header" hx-swap="outerHTML" aria-label="daemon">
      <div>
        <b>{status.version}</b>
        <span>version</span>
      </div>
      <div>
        <b>{formatDuration(status.uptimeSec)}</b>
        <span>uptime</span>
      </div>
      {sessions.map(([transport, count]) => (
        <div>
          <b>{count}</b>
          <span>{transport} sessions</span>
        </div>
      ))}
      <div>
        <b>{status.callsPerSecond}</b>
        <span>calls/s</span>
      </div>
      {Object.entries(status.servers).map(([state, count]) => (
        <div>
          <b class={`s-${state}`}>{count}</b>
          <span>{state}</span>
        </div>
      ))}
    </section>
  );
}

export function Cards({ cards, viewer }: { cards: CardData[]; viewer: Viewer }) {
  return (
    <>
      {cards.map(({ server, sparks }) => (
        <ServerCard server={server} sparks={sparks} viewer={viewer} />
      ))}
      {cards.length === 0 ? <p class="muted">No servers yet.</p> : null}
    </>
  );
}

export function OverviewPage(props: { status: DaemonStatus; cards: CardData[]; viewer: Viewer }) {
  const { viewer } = props;
  return (
    <Page title="Overview" section="overview" viewer={viewer} live={['overview']}>
      <div class="row">
        <h1>Servers</h1>
        {viewer.operator ? (
          <a class="button" href="/ui/servers/new">
            Add server
          </a>
        ) : null}
      </div>
      <DaemonHeader status={props.status} />
      <form class="filters" role="search" aria-label="filter servers">
        <label>
          State
          <select id="filter-state" name="state">
            <option value="">all</option>
            {LIFECYCLE_STATES.map((state) => (
              <option value={state}>{state}</option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input id="filter-name" name="name" type="search" placeholder="filter by name" autocomplete="off" />
        </label>
        <span id="filter-count" class="muted" aria-live="polite"></span>
      </form>
      <div id="cards" class="cards" hx-get="/ui/cards" hx-trigger="sse:servers" hx-swap="innerHTML">
        <Cards cards={props.cards} viewer={viewer} />
      </div>
    </Page>
  );
}
