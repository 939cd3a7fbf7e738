import type { z } from 'zod';
import type { auditEntrySchema, transitionSchema } from '../http/api/schemas.js';
import { formatTime } from './format.js';
import { Page, type Viewer } from './layout.js';

type AuditEntry = z.infer<typeof auditEntrySchema>;
type Transition = z.infer<typeof transitionSchema>;

/** One line of the activity feed: what happened, to what, when. */
export interface ActivityItem {
  at: number;
  kind: 'call' | 'error' | 'denied' | 'rate-limited' | 'crash' | 'restart' | 'state' | 'key' | 'manage' | 'auth';
  text: string;
}

/** A row of the audit log as a feed item; sessions opening and closing are left out (they are many and say little). */
export function activityOfAudit(entry: AuditEntry): ActivityItem | undefined {
  const detail = entry.detail ? (JSON.parse(entry.detail) as { error?: string; user?: string }) : {};
  const owner =
    detail.user === 'admin-token' ? 'the admin token' : detail.user ? `${detail.user} (the data dir's owner)` : "the data dir's owner";
  const who = entry.member ?? entry.keyPrefix ?? owner;
  switch (entry.type) {
    case 'tools/call':
    case 'prompts/get':
    case 'resources/read': {
      const outcome = entry.outcome ?? 'ok';
      const kind = outcome === 'ok' ? 'call' : (outcome as ActivityItem['kind']);
      const verb = entry.type === 'tools/call' ? 'called' : entry.type === 'prompts/get' ? 'got prompt' : 'read';
      return {
        at: entry.at,
        kind,
        text: `${who} ${verb} ${entry.server ?? ''} ${entry.name ?? ''} over ${entry.transport ?? '?'}: ${outcome}${detail.error ? ` (${detail.error})` : ''}`,
      };
    }
    case 'auth.failed':
      return { at: entry.at, kind: 'auth', text: `a request with ${entry.keyPrefix ?? 'no valid key'} was refused` };
    case 'manage': {
      const action = entry.method ?? 'a change';
      return {
        at: entry.at,
        kind: action.startsWith('keys.') ? 'key' : 'manage',
        text: `${who} (${entry.transport ?? '?'}): ${action}${entry.name ? ` ${entry.name}` : ''}${entry.project ? ` in ${entry.project}` : ''}`,
      };
    }
    default:
      return undefined;
  }
}

export function activityOfTransition(server: string, t: Transition): ActivityItem {
  const kind = t.to === 'crashed' ? 'crash' : t.to === 'restarting' ? 'restart' : 'state';
  return { at: t.at, kind, text: `${server}: ${t.from} → ${t.to} (${t.cause})` };
}

export function ActivityLine({ item }: { item: ActivityItem }) {
  return (
    <li>
      <time>{formatTime(item.at)}</time>
      <span class={`kind k-${item.kind}`}>{item.kind}</span>
      <span>{item.text}</span>
    </li>
  );
}

export function ActivityPage({ items, viewer }: { items: ActivityItem[]; viewer: Viewer }) {
  return (
    <Page title="Activity" section="activity" viewer={viewer} live={['activity']}>
      <h1>Activity</h1>
      <p class="muted">
        What happens as it happens: calls, refusals, crashes and restarts, key and project changes
        {viewer.operator ? '' : ' (the audit log of your project if you are its admin; server changes otherwise)'}.
      </p>
      <section class="panel">
        <ul class="feed" id="activity" sse-swap="activity" hx-swap="afterbegin">
          {items.map((item) => (
            <ActivityLine item={item} />
          ))}
        </ul>
      </section>
    </Page>
  );
}
