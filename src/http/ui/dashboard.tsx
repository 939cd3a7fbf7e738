import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { keyUser, tokenUser, type ApiUser } from '../../auth/adminPolicy.js';
import { sameSecret } from '../../auth/keys.js';
import { DEFAULT_SESSION_TTL_MS, sessionCookie, type SessionSubject } from '../../auth/sessions.js';
import { isOrchError, OrchError } from '../../errors.js';
import { LoginPage } from '../../web/login.js';
import { addressOf, apiErrorResponse, portOf } from '../apiError.js';
import { identifyApiUser } from '../api/apiAuth.js';
import { recordChange } from '../api/routeKit.js';
import { actionRoutes } from './actions.js';
import { serveAsset } from './assets.js';
import { pageRoutes } from './pages.js';
import { page, viewerOf, type DashboardDeps, type UiEnv } from './uiKit.js';

/** Where a login may send the browser next: a dashboard page, never another site. */
function nextOf(value: string | undefined): string {
  return value !== undefined && /^\/ui(\/|$|\?)/.test(value) && !value.startsWith('//') ? value : '/ui';
}

/**
 * The dashboard at /ui: a login with a key (or the admin token) into an HttpOnly, SameSite=Strict
 * session cookie; pages and actions that go through the REST API with that session (so a viewer's
 * controls, disabled on the page, are refused by the API too); one live event stream per page;
 * its files from the daemon itself.
 */
export function createDashboard(deps: DashboardDeps): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const { api } = deps;
  app.onError((error) => apiErrorResponse(error));

  app.get('/ui/assets/:file', (c) => serveAsset(c, c.req.param('file')));

  app.get('/ui/login', (c) => page(c, <LoginPage next={nextOf(c.req.query('next'))} />));

  app.post('/ui/login', async (c) => {
    const form = await c.req.parseBody();
    const key = typeof form.key === 'string' ? form.key.trim() : '';
    const next = nextOf(typeof form.next === 'string' ? form.next : undefined);
    const address = addressOf(c);
    try {
      api.auth.limitLogin(address);
    } catch (error) {
      const orch = error as OrchError;
      c.header('retry-after', String(orch.retryAfterSec ?? 1));
      return page(c, <LoginPage next={next} error={orch.message} hint={orch.hint} />, 429);
    }
    let subject: SessionSubject;
    let user: ApiUser;
    if (key !== '' && sameSecret(key, api.auth.token)) {
      subject = { kind: 'token' };
      user = tokenUser('session');
    } else {
      const result = api.auth.authenticate(`Bearer ${key}`, address);
      if (!result.ok)
        return page(
          c,
          <LoginPage next={next} error={result.error.message} hint="check the key, or create one with `mcp-orch keys create`" />,
          401,
        );
      subject = { kind: 'key', principal: result.principal };
      user = keyUser(result.principal, 'session');
    }
    const { token } = api.auth.sessions.create(subject);
    recordChange(api, user, 'dashboard.login', { detail: { address } });
    setCookie(c, sessionCookie(portOf(c)), token, {
      httpOnly: true,
      sameSite: 'Strict',
      path: '/',
      maxAge: Math.floor(DEFAULT_SESSION_TTL_MS / 1000),
      secure: new URL(c.req.url).protocol === 'https:',
    });
    return c.redirect(next, 303);
  });

  app.post('/ui/logout', async (c) => {
    const token = getCookie(c, sessionCookie(portOf(c)));
    const session = api.auth.sessions.get(token);
    const form = await c.req.parseBody();
    if (session && typeof form.csrf === 'string' && sameSecret(form.csrf, session.csrf)) api.auth.sessions.delete(token);
    deleteCookie(c, sessionCookie(portOf(c)), { path: '/' });
    return c.redirect('/ui/login', 303);
  });

  // Everything else needs a session (a bearer header is the API's, not the dashboard's).
  app.use('/ui', guard(deps));
  app.use('/ui/*', guard(deps));
  app.get('/ui/events', (c) => deps.live.open(c, c.get('user'), c.get('viewer'), c.req.query('topics') ?? ''));
  app.route('/', pageRoutes(deps));
  app.route('/', actionRoutes(deps));
  return app;
}

/** The session's user, or the way to the login page: a redirect for a page, HX-Redirect for an htmx request. */
function guard(deps: DashboardDeps) {
  return async (c: Context<UiEnv>, next: () => Promise<void>) => {
    const identified = getCookie(c, sessionCookie(portOf(c))) === undefined ? undefined : identifyApiUser(c, deps.api);
    if (identified && 'user' in identified && identified.session) {
      c.set('user', identified.user);
      c.set('session', identified.session);
      c.set('viewer', viewerOf(identified.user, identified.session));
      return next();
    }
    if (identified && 'error' in identified && isOrchError(identified.error) && identified.error.code === 'FORBIDDEN') {
      return apiErrorResponse(identified.error);
    }
    const login = `/ui/login?next=${encodeURIComponent(c.req.path)}`;
    if (c.req.header('hx-request')) return c.body(null, 200, { 'hx-redirect': login });
    return c.redirect(login, 303);
  };
}
