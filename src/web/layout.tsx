import type { Child } from 'hono/jsx';

/**
 * The page frame of the dashboard and the API reference: head (no CDN: every asset comes from
 * /ui/assets), navigation, who is logged in, and the one event stream a page listens to. htmx
 * runs without eval, so the Content-Security-Policy can forbid inline script.
 */

export const ASSETS = '/ui/assets';

/** Who the page is for, as the navigation shows it. */
export interface Viewer {
  label: string;
  role: string;
  operator: boolean;
  /** Sent back in X-CSRF-Token by every change the page makes. */
  csrf: string;
}

export type Section = 'overview' | 'metrics' | 'projects' | 'activity' | 'docs' | 'server';

const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
  historyCacheSize: 0,
});

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'overview', href: '/ui', label: 'Overview' },
  { section: 'metrics', href: '/ui/metrics', label: 'Metrics' },
  { section: 'projects', href: '/ui/projects', label: 'Projects' },
  { section: 'activity', href: '/ui/activity', label: 'Activity' },
  { section: 'docs', href: '/api/docs', label: 'API' },
];

export interface PageProps {
  title: string;
  section?: Section;
  viewer?: Viewer | undefined;
  /** The topics of the page's live event stream; none: no stream. */
  live?: string[];
  /** Extra scripts of this page (uPlot on the metrics page). */
  scripts?: string[];
  styles?: string[];
  children?: Child;
}

export function Page(props: PageProps) {
  const { viewer } = props;
  const live = props.live?.length ? `/ui/events?topics=${encodeURIComponent(props.live.join(','))}` : undefined;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · mcp-orch`}</title>
        <link rel="icon" href={`${ASSETS}/icon.svg`} type="image/svg+xml" />
        <link rel="stylesheet" href={`${ASSETS}/app.css`} />
        {(props.styles ?? []).map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        <script src={`${ASSETS}/htmx.min.js`} defer></script>
        <script src={`${ASSETS}/sse.js`} defer></script>
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer></script>
        ))}
        <script src={`${ASSETS}/app.js`} defer></script>
      </head>
      <body
        hx-headers={viewer ? JSON.stringify({ 'X-CSRF-Token': viewer.csrf }) : undefined}
        hx-ext={live ? 'sse' : undefined}
        sse-connect={live}
        data-role={viewer?.role}
      >
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/ui" aria-label="mcp-orch overview">
            <img src={`${ASSETS}/icon.svg`} alt="" width="22" height="22" />
            mcp-orch
          </a>
          {viewer ? (
            <nav aria-label="Sections">
              {NAV.map((item) => (
                <a href={item.href} aria-current={item.section === props.section ? 'page' : undefined}>
                  {item.label}
                </a>
              ))}
            </nav>
          ) : null}
          {viewer ? (
            <form class="who" method="post" action="/ui/logout">
              <span title={viewer.operator ? 'operator: manages the daemon' : `role in the project: ${viewer.role}`}>
                {viewer.label} · <b>{viewer.operator ? 'operator' : viewer.role}</b>
              </span>
              <input type="hidden" name="csrf" value={viewer.csrf} />
              <button type="submit" class="link">
                Log out
              </button>
            </form>
          ) : null}
        </header>
        <main id="main">{props.children}</main>
        <div id="toasts" class="toasts" role="status" aria-live="polite"></div>
      </body>
    </html>
  );
}
