import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { mayManageProject } from '../../auth/adminPolicy.js';
import { isOrchError } from '../../errors.js';
import { activityOfAudit, activityOfTransition, ActivityPage, type ActivityItem } from '../../web/activity.js';
import { Page } from '../../web/layout.js';
import { MetricsPage, RANGE_CHOICES } from '../../web/metricsPage.js';
import { ErrorNotice } from '../../web/notice.js';
import { Cards, OverviewPage, type DaemonStatus } from '../../web/overview.js';
import { AuditRows, KeyExplanation, ProjectPage, ProjectsPage } from '../../web/projectsPage.js';
import { AddServerPage } from '../../web/serverForm.js';
import { ServerPage, type ServerConfigView, type ServerDetail } from '../../web/serverPage.js';
import type {
  adminServerSchema,
  auditEntrySchema,
  explanationSchema,
  keySchema,
  membershipSchema,
  metricSampleSchema,
  projectSchema,
} from '../api/schemas.js';
import { seesServer } from '../api/routeKit.js';
import { cardsOf } from './cards.js';
import { page, type DashboardDeps, type UiEnv } from './uiKit.js';
import { uiApi } from './uiApi.js';

type Project = z.infer<typeof projectSchema>;
type AuditEntry = z.infer<typeof auditEntrySchema>;

/** An error the API gave a page: the page frame with the message in it, and the API's status. */
function failedPage(c: Context<UiEnv>, title: string, error: unknown): Response {
  if (!isOrchError(error)) throw error;
  const status =
    ({ UNKNOWN_SERVER: 404, UNKNOWN_PROJECT: 404, NOT_FOUND: 404, FORBIDDEN: 403 } as Record<string, number>)[error.code] ?? 400;
  return page(
    c,
    <Page title={title} viewer={c.get('viewer')}>
      <h1>{title}</h1>
      <ErrorNotice error={error} />
    </Page>,
    status,
  );
}

/** The query of an audit filter form, as /api/audit takes it. */
export function auditQuery(project: string, form: Record<string, string | undefined>): string {
  const query = new URLSearchParams({ project, limit: '100' });
  for (const key of ['server', 'member', 'tool', 'outcome', 'type']) {
    const value = form[key];
    if (value) query.set(key, value);
  }
  return query.toString();
}

/** The dashboard's pages: each reads the REST API with the session of whoever asks. */
export function pageRoutes(deps: DashboardDeps): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const api = (c: Context<UiEnv>) => uiApi(deps.rest, c);

  app.get('/ui', async (c) => {
    const [status, cards] = await Promise.all([api(c).get<DaemonStatus>('/api/status'), cardsOf(api(c))]);
    return page(c, <OverviewPage status={status} cards={cards} viewer={c.get('viewer')} />);
  });

  app.get('/ui/cards', async (c) => c.html(String(<Cards cards={await cardsOf(api(c))} viewer={c.get('viewer')} />)));

  app.get('/ui/servers/new', (c) => {
    if (!c.get('viewer').operator) return failedPage(c, 'Add a server', new Error('only an operator may add servers'));
    return page(c, <AddServerPage viewer={c.get('viewer')} />);
  });

  app.get('/ui/servers/:name', async (c) => {
    const name = c.req.param('name');
    const viewer = c.get('viewer');
    try {
      const path = `/api/servers/${encodeURIComponent(name)}`;
      const [server, cards, config] = await Promise.all([
        api(c).get<ServerDetail>(path),
        cardsOf(api(c), name),
        viewer.operator
          ? api(c)
              .get<ServerConfigView>(`${path}/config`)
              .catch(() => undefined)
          : undefined,
      ]);
      const { principal } = c.get('user');
      const mayCall = principal.role !== 'viewer' && !principal.readOnly;
      const sparks = cards[0]?.sparks ?? { cpu: [], memory: [] };
      return page(c, <ServerPage server={server} sparks={sparks} config={config} viewer={{ ...viewer, mayCall }} />);
    } catch (error) {
      return failedPage(c, name, error);
    }
  });

  app.get('/ui/metrics', async (c) => {
    const server = c.req.query('server') || undefined;
    const range = (RANGE_CHOICES as readonly string[]).includes(c.req.query('range') ?? '') ? c.req.query('range')! : '1h';
    const query = new URLSearchParams({ range, ...(server ? { server } : {}) });
    const [history, { servers }] = await Promise.all([
      api(c).get<{ resolution: number; samples: z.infer<typeof metricSampleSchema>[] }>(`/api/metrics/history?${query.toString()}`),
      api(c).get<{ servers: z.infer<typeof adminServerSchema>[] }>('/api/servers'),
    ]);
    return page(
      c,
      <MetricsPage
        samples={history.samples}
        servers={servers.map((s) => s.name)}
        server={server}
        range={range}
        resolution={history.resolution}
        viewer={c.get('viewer')}
      />,
    );
  });

  app.get('/ui/projects', async (c) => {
    const { projects } = await api(c).get<{ projects: Project[] }>('/api/projects');
    return page(c, <ProjectsPage projects={projects} viewer={c.get('viewer')} />);
  });

  app.get('/ui/projects/:project', async (c) => {
    const slug = c.req.param('project');
    const base = `/api/projects/${encodeURIComponent(slug)}`;
    const manage = mayManageProject(c.get('user'), slug);
    try {
      const [project, members, keys, audit] = await Promise.all([
        api(c).get<Project>(base),
        manage ? api(c).get<{ members: z.infer<typeof membershipSchema>[] }>(`${base}/members`) : undefined,
        manage ? api(c).get<{ keys: z.infer<typeof keySchema>[] }>(`${base}/keys`) : undefined,
        manage ? api(c).get<{ entries: AuditEntry[] }>(`/api/audit?${auditQuery(slug, {})}`) : undefined,
      ]);
      return page(
        c,
        <ProjectPage
          project={project}
          servers={deps.api.pool.names()}
          members={members?.members}
          keys={keys?.keys}
          audit={audit?.entries}
          viewer={c.get('viewer')}
          manage={manage}
        />,
      );
    } catch (error) {
      return failedPage(c, slug, error);
    }
  });

  app.get('/ui/projects/:project/audit', async (c) => {
    const { entries } = await api(c).get<{ entries: AuditEntry[] }>(`/api/audit?${auditQuery(c.req.param('project'), c.req.query())}`);
    return c.html(String(<AuditRows entries={entries} />));
  });

  app.get('/ui/projects/:project/keys/:key/explain', async (c) => {
    const path = `/api/projects/${encodeURIComponent(c.req.param('project'))}/keys/${encodeURIComponent(c.req.param('key'))}/explain`;
    const explanation = await api(c).get<z.infer<typeof explanationSchema>>(path);
    return c.html(String(<KeyExplanation explanation={explanation} />));
  });

  app.get('/ui/activity', async (c) => {
    const user = c.get('user');
    const transitions: ActivityItem[] = deps.api.pool
      .all()
      .filter((u) => seesServer(deps.api, user, u.name))
      .flatMap((u) => u.lifecycle.history.map((t) => activityOfTransition(u.name, t)));
    let audited: ActivityItem[] = [];
    if (user.operator || mayManageProject(user, user.principal.project)) {
      const { entries } = await api(c).get<{ entries: AuditEntry[] }>('/api/audit?limit=100');
      audited = entries.map(activityOfAudit).filter((item): item is ActivityItem => item !== undefined);
    }
    const items = [...transitions, ...audited].sort((a, b) => b.at - a.at).slice(0, 100);
    return page(c, <ActivityPage items={items} viewer={c.get('viewer')} />);
  });

  return app;
}
