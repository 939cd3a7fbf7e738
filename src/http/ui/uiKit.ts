import type { Context } from 'hono';
import type { ApiUser } from '../../auth/adminPolicy.js';
import type { DashboardSession } from '../../auth/sessions.js';
import type { Viewer } from '../../web/layout.js';
import type { ApiDeps } from '../api/deps.js';
import { PAGE_HEADERS } from './assets.js';
import type { LiveHub } from './live.js';
import type { RestApp } from './uiApi.js';

/** What the dashboard's route files share: their dependencies, their context, how a page is sent. */

export interface DashboardDeps {
  api: ApiDeps;
  /** The REST API, which every page and action calls in process. */
  rest: RestApp;
  live: LiveHub;
}

/** What the dashboard's routes find on their context: the user, their session, and how the page shows them. */
export type UiEnv = { Variables: { user: ApiUser; session: DashboardSession; viewer: Viewer } };

export function viewerOf(user: ApiUser, session: DashboardSession): Viewer {
  const { principal } = user;
  return { label: principal.member ?? 'admin token', role: principal.role, operator: user.operator, csrf: session.csrf };
}

/** A rendered page, with the headers every page is sent with. */
export function page(c: Context, node: unknown, status = 200): Response {
  return c.html(`<!doctype html>${String(node)}`, status as 200, PAGE_HEADERS);
}
