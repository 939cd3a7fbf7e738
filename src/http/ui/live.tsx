import type { Context } from 'hono';
import { mayManageProject, type ApiUser } from '../../auth/adminPolicy.js';
import { EventStream } from '../../eventStream.js';
import type { LogLine } from '../../supervisor/logBuffer.js';
import type { Transition } from '../../supervisor/lifecycle.js';
import type { Upstream, UpstreamState } from '../../upstream/upstream.js';
import { activityOfAudit, activityOfTransition, ActivityLine } from '../../web/activity.js';
import { ServerCard } from '../../web/card.js';
import type { Viewer } from '../../web/layout.js';
import { DaemonHeader, type DaemonStatus } from '../../web/overview.js';
import { AuditRow } from '../../web/projectsPage.js';
import { LogLineView } from '../../web/serverPage.js';
import type { ApiDeps, AuditEntryView } from '../api/deps.js';
import { seesServer } from '../api/routeKit.js';
import { cardsOf } from './cards.js';
import { uiApi, type RestApp } from './uiApi.js';

/** What the hub listens to besides the pool: the metrics sampler's 10 s ticks. */
export interface SampleSource {
  on(event: 'sampled', listener: () => void): void;
  off(event: 'sampled', listener: () => void): void;
}

export interface LiveHubDeps {
  api: ApiDeps;
  rest: RestApp;
  sampler: SampleSource;
  /** How often the audit log is read for new rows while someone follows it. */
  auditPollMs?: number;
}

/** The one event stream of a dashboard page, opened for the topics the page shows. */
export interface LiveHub {
  open(c: Context, user: ApiUser, viewer: Viewer, topics: string): Response;
  /** Ends every stream and stops the audit poller. */
  close(): void;
}

/** Streams one session may hold open at once; a new one past it ends the oldest (a page left open in many tabs). */
const STREAMS_PER_SESSION = 8;
const TOPIC = /^(overview|activity|server:.+|audit:.+)$/;

const render = (node: unknown): string => String(node);

/**
 * Live updates for the dashboard, as htmx's SSE extension swaps them: a server's card when its
 * state changes and every 10 s with fresh figures, the daemon's header line, new servers, log
 * lines, activity and audit rows. Every fragment is rendered from the REST API with the page's
 * own session, so what arrives is what that person may see; a session that ends ends its streams.
 */
export function createLiveHub(deps: LiveHubDeps): LiveHub {
  const { api } = deps;
  const { pool } = api;
  const streams = new Set<EventStream>();
  const bySession = new Map<string, EventStream[]>();
  /** Followers of the audit log, and the poll that feeds them while there are any. */
  const auditFollowers = new Set<(entries: AuditEntryView[]) => void>();
  let auditTimer: NodeJS.Timeout | undefined;
  let lastAuditId = 0;

  const pollAudit = (): void => {
    const entries = api.store.audit.query({ afterId: lastAuditId, limit: 500 });
    if (entries.length === 0) return;
    lastAuditId = entries.at(-1)!.id;
    for (const follower of auditFollowers) follower(entries);
  };
  const followAudit = (follower: (entries: AuditEntryView[]) => void): (() => void) => {
    if (auditFollowers.size === 0) {
      lastAuditId = api.store.audit.query({ limit: 1 })[0]?.id ?? 0;
      auditTimer = setInterval(pollAudit, deps.auditPollMs ?? 1000);
      auditTimer.unref();
    }
    auditFollowers.add(follower);
    return () => {
      auditFollowers.delete(follower);
      if (auditFollowers.size === 0) clearInterval(auditTimer);
    };
  };

  return {
    open(c, user, viewer, topicList) {
      const topics = new Set(topicList.split(',').filter((topic) => TOPIC.test(topic)));
      const ui = uiApi(deps.rest, c);
      const cleanups: (() => void)[] = [];
      const stream: EventStream = new EventStream({
        onend: () => {
          streams.delete(stream);
          for (const cleanup of cleanups) cleanup();
        },
      });
      streams.add(stream);
      const mine = bySession.get(viewer.csrf) ?? [];
      mine.push(stream);
      while (mine.length > STREAMS_PER_SESSION) mine.shift()!.end();
      bySession.set(viewer.csrf, mine);
      cleanups.push(() => {
        const left = (bySession.get(viewer.csrf) ?? []).filter((s) => s !== stream);
        if (left.length === 0) bySession.delete(viewer.csrf);
        else bySession.set(viewer.csrf, left);
      });
      c.req.raw.signal.addEventListener('abort', () => stream.end(), { once: true });

      /** A fetch from the API with this page's session; a session that no longer works ends the stream. */
      const safely = (work: () => Promise<void>): void => {
        work().catch(() => stream.end());
      };
      const servers = [...topics].filter((t) => t.startsWith('server:')).map((t) => t.slice('server:'.length));
      const overview = topics.has('overview');
      const wantsCard = (name: string): boolean => overview || servers.includes(name);
      const sendCards = (only?: string): void =>
        safely(async () => {
          for (const card of await cardsOf(ui, only)) {
            if (wantsCard(card.server.name))
              stream.event(render(<ServerCard server={card.server} sparks={card.sparks} viewer={viewer} />), `server:${card.server.name}`);
          }
        });

      // A state change: that card at once; the activity feed hears of it too.
      const pending = new Map<string, NodeJS.Timeout>();
      const onState = (upstream: Upstream, _state: UpstreamState): void => {
        if (upstream.owner !== undefined || !seesServer(api, user, upstream.name)) return;
        const transition = upstream.lifecycle.history.at(-1) as Transition | undefined;
        if (topics.has('activity') && transition)
          stream.event(render(<ActivityLine item={activityOfTransition(upstream.name, transition)} />), 'activity');
        if (!wantsCard(upstream.name) || pending.has(upstream.name)) return;
        // Transitions come in bursts (stopping, stopped, starting, running): one card for each burst.
        const timer = setTimeout(() => {
          pending.delete(upstream.name);
          sendCards(upstream.name);
        }, 100);
        pending.set(upstream.name, timer);
      };
      pool.on('state', onState);
      cleanups.push(() => {
        pool.off('state', onState);
        for (const timer of pending.values()) clearTimeout(timer);
      });

      // Every 10 s sample: fresh figures on every card shown, and the header.
      const onSampled = (): void => {
        if (overview) {
          sendCards();
          safely(async () => void stream.event(render(<DaemonHeader status={await ui.get<DaemonStatus>('/api/status')} />), 'header'));
        } else for (const name of servers) sendCards(name);
      };
      deps.sampler.on('sampled', onSampled);
      cleanups.push(() => deps.sampler.off('sampled', onSampled));

      // Servers added or removed: the overview fetches its cards again.
      if (overview) {
        let names = pool.names().join('\n');
        const onChanged = (): void => {
          const now = pool.names().join('\n');
          if (now === names) return;
          names = now;
          stream.event('', 'servers');
        };
        pool.on('changed', onChanged);
        cleanups.push(() => pool.off('changed', onChanged));
      }

      // A server's log lines, for operators (the server's page); followed across restarts and reloads.
      if (viewer.operator) {
        for (const name of servers) {
          let detach: (() => void) | undefined;
          let current: Upstream | undefined;
          const attach = (): void => {
            const upstream = pool.get(name);
            if (upstream === current) return;
            detach?.();
            current = upstream;
            detach = upstream?.logs.onLine((line: LogLine) => stream.event(render(<LogLineView line={line} />), `log:${name}`));
          };
          attach();
          pool.on('changed', attach);
          cleanups.push(() => {
            pool.off('changed', attach);
            detach?.();
          });
        }
      }

      // Audit rows: the activity feed (operators everything, a project's admin their project) and a project's audit tail.
      const auditProjects = [...topics].filter((t) => t.startsWith('audit:')).map((t) => t.slice('audit:'.length));
      const activityScope = user.operator ? 'all' : mayManageProject(user, user.principal.project) ? user.principal.project : undefined;
      if ((topics.has('activity') && activityScope) || auditProjects.some((p) => mayManageProject(user, p))) {
        cleanups.push(
          followAudit((entries) => {
            for (const entry of entries) {
              if (topics.has('activity') && (activityScope === 'all' || entry.project === activityScope)) {
                const item = activityOfAudit(entry);
                if (item) stream.event(render(<ActivityLine item={item} />), 'activity');
              }
              if (entry.project && auditProjects.includes(entry.project) && mayManageProject(user, entry.project)) {
                stream.event(render(<AuditRow entry={entry} />), `audit:${entry.project}`);
              }
            }
          }),
        );
      }
      return stream.response();
    },
    close() {
      for (const stream of streams) stream.end();
      clearInterval(auditTimer);
      auditFollowers.clear();
    },
  };
}
