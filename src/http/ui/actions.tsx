import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { isOrchError, OrchError } from '../../errors.js';
import { ServerCard } from '../../web/card.js';
import { ErrorNotice, Notice, Toast } from '../../web/notice.js';
import { KeyCreated, KeysTable, MembersTable, ServersTable } from '../../web/projectsPage.js';
import { argumentsOf, ToolResultView } from '../../web/tryIt.js';
import type { issuedKeySchema, keySchema, membershipSchema, projectSchema, serverChangeSchema, toolResultSchema } from '../api/schemas.js';
import { cardsOf } from './cards.js';
import type { DashboardDeps, UiEnv } from './uiKit.js';
import { serverEntryOf } from './serverEntry.js';
import { uiApi, type UiApi } from './uiApi.js';

type Form = Record<string, string>;

/** A form's fields as text (files are not part of any dashboard form). */
async function formOf(c: Context): Promise<Form> {
  const body = await c.req.parseBody();
  return Object.fromEntries(Object.entries(body).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

const fragment = (c: Context, node: unknown, headers: Record<string, string> = {}): Response => c.html(String(node), 200, headers);

/**
 * An action's outcome: its fragment, or the API's refusal as a toast in the corner (200, so that
 * htmx swaps it and the browser logs no failed request; the page's own element stays as it was).
 */
async function act(c: Context, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (!isOrchError(error)) throw error;
    return fragment(c, <Toast text={error.hint ? `${error.message} (${error.hint})` : error.message} bad />, {
      'hx-retarget': '#toasts',
      'hx-reswap': 'beforeend',
    });
  }
}

/** The same, for a form with a place of its own for errors: the message with its hint, in that place. */
async function actInPlace(c: Context, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (!isOrchError(error)) throw error;
    return fragment(c, <ErrorNotice error={error} />);
  }
}

/** The dashboard's changes, each a call to the REST API with the session and its CSRF token. */
export function actionRoutes(deps: DashboardDeps): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const api = (c: Context<UiEnv>): UiApi => uiApi(deps.rest, c);
  const project = (c: Context) => `/api/projects/${encodeURIComponent(c.req.param('project') ?? '')}`;

  app.post('/ui/servers/:name/:action{start|stop|restart}', (c) =>
    act(c, async () => {
      const name = c.req.param('name');
      await api(c).send('POST', `/api/servers/${encodeURIComponent(name)}/${c.req.param('action')}`);
      const [card] = await cardsOf(api(c), name);
      if (!card) return c.body(null, 200);
      return fragment(c, <ServerCard server={card.server} sparks={card.sparks} viewer={c.get('viewer')} />);
    }),
  );

  app.post('/ui/servers/:name/tools/:tool', (c) =>
    actInPlace(c, async () => {
      const { args, errors } = argumentsOf(await formOf(c));
      if (errors.length)
        throw new OrchError('INVALID_PARAMS', errors.join('; '), { hint: 'JSON fields take JSON, such as {"a": 1} or [1, 2]' });
      const path = `/api/tools/${encodeURIComponent(c.req.param('name'))}/${encodeURIComponent(c.req.param('tool'))}`;
      const result = await api(c).send<z.infer<typeof toolResultSchema>>('POST', path, args);
      return fragment(c, <ToolResultView result={result} />);
    }),
  );

  app.post('/ui/servers', (c) =>
    actInPlace(c, async () => {
      const entry = serverEntryOf(await formOf(c));
      const change = await api(c).send<z.infer<typeof serverChangeSchema>>('POST', '/api/servers', entry);
      return c.body(null, 200, { 'hx-redirect': `/ui/servers/${encodeURIComponent(change.name)}` });
    }),
  );

  app.put('/ui/servers/:name/config', (c) =>
    actInPlace(c, async () => {
      const form = await formOf(c);
      let config: unknown;
      try {
        config = JSON.parse(form.config ?? '');
      } catch (error) {
        throw new OrchError('CONFIG_PARSE', `the entry is not JSON: ${(error as Error).message}`, {
          hint: 'an object such as {"command": "npx", "args": []}',
        });
      }
      const change = await api(c).send<z.infer<typeof serverChangeSchema>>(
        'PUT',
        `/api/servers/${encodeURIComponent(c.req.param('name'))}/config`,
        { config },
      );
      return fragment(
        c,
        <Notice good>
          Saved to {change.file}; the daemon restarts {change.name} with it.{change.warnings.length ? ` ${change.warnings.join(' ')}` : ''}
        </Notice>,
      );
    }),
  );

  app.delete('/ui/servers/:name', (c) =>
    actInPlace(c, async () => {
      await api(c).send('DELETE', `/api/servers/${encodeURIComponent(c.req.param('name'))}`);
      return c.body(null, 200, { 'hx-redirect': '/ui' });
    }),
  );

  app.post('/ui/projects', (c) =>
    actInPlace(c, async () => {
      const form = await formOf(c);
      const servers = form.servers?.trim()
        ? form.servers
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined;
      const created = await api(c).send<z.infer<typeof projectSchema>>('POST', '/api/projects', {
        slug: form.slug,
        ...(servers ? { servers } : {}),
      });
      return c.body(null, 200, { 'hx-redirect': `/ui/projects/${encodeURIComponent(created.slug)}` });
    }),
  );

  app.post('/ui/projects/:project/servers/:server/:state{on|off}', (c) =>
    act(c, async () => {
      const path = `${project(c)}/servers/${encodeURIComponent(c.req.param('server'))}`;
      const updated = await api(c).send<z.infer<typeof projectSchema>>('PUT', path, { enabled: c.req.param('state') === 'on' });
      return fragment(c, <ServersTable project={updated} servers={deps.api.pool.names()} manage />);
    }),
  );

  const membersTable = async (c: Context<UiEnv>): Promise<Response> => {
    const { members } = await api(c).get<{ members: z.infer<typeof membershipSchema>[] }>(`${project(c)}/members`);
    return fragment(c, <MembersTable project={c.req.param('project') ?? ''} members={members} manage />);
  };

  app.post('/ui/projects/:project/members', (c) =>
    act(c, async () => {
      const form = await formOf(c);
      await api(c).send('POST', `${project(c)}/members`, {
        name: form.name,
        role: form.role,
        ...(form.email ? { email: form.email } : {}),
      });
      return membersTable(c);
    }),
  );

  app.post('/ui/projects/:project/members/:member/role', (c) =>
    act(c, async () => {
      const { role } = await formOf(c);
      await api(c).send('PATCH', `${project(c)}/members/${encodeURIComponent(c.req.param('member'))}`, { role });
      return membersTable(c);
    }),
  );

  app.post('/ui/projects/:project/members/:member/remove', (c) =>
    act(c, async () => {
      await api(c).send('DELETE', `${project(c)}/members/${encodeURIComponent(c.req.param('member'))}`);
      return membersTable(c);
    }),
  );

  /** The keys table again, swapped out of band beside what an action shows in the key panel. */
  const keysTable = async (c: Context<UiEnv>) => {
    const { keys } = await api(c).get<{ keys: z.infer<typeof keySchema>[] }>(`${project(c)}/keys`);
    return String(<KeysTable project={c.req.param('project') ?? ''} keys={keys} manage />).replace(
      '<table id="keys"',
      '<table id="keys" hx-swap-oob="true"',
    );
  };

  app.post('/ui/projects/:project/keys', (c) =>
    act(c, async () => {
      const form = await formOf(c);
      const issued = await api(c).send<z.infer<typeof issuedKeySchema>>('POST', `${project(c)}/keys`, {
        name: form.name,
        ...(form.member ? { member: form.member } : {}),
        ...(form.expiresInDays ? { expiresInDays: Number(form.expiresInDays) } : {}),
        readOnly: form.readOnly === 'true',
      });
      return c.html(`${String(<KeyCreated issued={issued} />)}${await keysTable(c)}`);
    }),
  );

  app.post('/ui/projects/:project/keys/:key/rotate', (c) =>
    act(c, async () => {
      const issued = await api(c).send<z.infer<typeof issuedKeySchema>>(
        'POST',
        `${project(c)}/keys/${encodeURIComponent(c.req.param('key'))}/rotate`,
        {},
      );
      return c.html(`${String(<KeyCreated issued={issued} />)}${await keysTable(c)}`);
    }),
  );

  app.post('/ui/projects/:project/keys/:key/revoke', (c) =>
    act(c, async () => {
      const revoked = await api(c).send<z.infer<typeof keySchema>>(
        'POST',
        `${project(c)}/keys/${encodeURIComponent(c.req.param('key'))}/revoke`,
      );
      return c.html(
        `${String(<Notice>Key {revoked.prefix} is revoked: clients using it are refused from now on.</Notice>)}${await keysTable(c)}`,
      );
    }),
  );

  return app;
}
