// The dashboard in a real browser (headless Chromium from the system, driven by playwright-core)
// against a live daemon with keys on: log in, watch cards change without a reload, see a crash in
// the activity feed, run a tool from its try-it form, add a server through the form and see it
// start, create a key and see it once, filter the audit log, and find a viewer's controls disabled
// and refused by the API as well. Screenshots at laptop and phone width go to test-artifacts/.
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleErrors, launchChromium, screenshot } from '../helpers/browser.js';
import { startDaemon, type DaemonHandle } from '../helpers/daemon.js';
import { fixturePath, fixtureServer } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const LAPTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Browser waits: generous for a loaded machine, and each ends as soon as its condition holds. */
const UI_TIMEOUT = 15_000;

let daemon: DaemonHandle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
let token: string;

async function api<T>(method: string, path: string, body?: unknown, credential = token): Promise<T> {
  const response = await fetch(`${daemon.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${credential}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  expect(response.ok, `${method} ${path}: ${response.status}`).toBe(true);
  return (await response.json()) as T;
}

async function logIn(target: Page, key: string): Promise<void> {
  await target.goto(`${daemon.url}/ui`);
  await target.waitForURL(/\/ui\/login/);
  await target.fill('input[name=key]', key);
  await target.click('button[type=submit]');
  await target.waitForURL(`${daemon.url}/ui`);
}

const card = (target: Page, name: string) => target.locator(`.card[data-name="${name}"]`);

beforeAll(async () => {
  daemon = await startDaemon({
    config: {
      mcpServers: {
        echo: fixtureServer('echo'),
        // Gives up at its first crash: what the activity feed should show as one.
        crashy: { ...fixtureServer('echo', { FIXTURE_ID: 'crashy' }), maxRestarts: 0 },
      },
    },
    auth: true,
  });
  token = (await readFile(`${daemon.dataDir}/admin-token`, 'utf8')).trim();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: LAPTOP });
  page = await context.newPage();
  errors = consoleErrors(page);
  // "Stop" asks first.
  page.on('dialog', (dialog) => void dialog.accept());
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await daemon?.stop();
});

describe('the dashboard', () => {
  it('logs in with the first run key and shows a card per server, at laptop and phone width', async () => {
    await logIn(page, await daemon.firstRunKey());
    await expect.poll(() => card(page, 'echo').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('running');
    await expect.poll(() => card(page, 'crashy').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('running');
    expect(await page.locator('#daemon-header').textContent()).toContain('calls/s');
    const cookie = (await context.cookies()).find((c) => c.name === `mcpo_session_${daemon.port}`);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    await screenshot(page, 'overview-laptop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'overview-phone');
    await page.setViewportSize(LAPTOP);
    // Filters hide what does not match, on the page itself.
    await page.fill('#filter-name', 'cra');
    expect(await card(page, 'echo').isHidden()).toBe(true);
    await page.fill('#filter-name', '');
    expect(await card(page, 'echo').isVisible()).toBe(true);
  });

  it('stops and starts a server from its card, and changes the card live when it changes elsewhere, without a reload', async () => {
    await page.evaluate('window.marker = 1');
    await card(page, 'echo').getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => card(page, 'echo').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('stopped');
    await card(page, 'echo').getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => card(page, 'echo').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('running');
    // A change made through the API reaches the open page over its event stream.
    await api('POST', '/api/servers/echo/stop');
    await expect.poll(() => card(page, 'echo').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('stopped');
    await api('POST', '/api/servers/echo/start');
    await expect.poll(() => card(page, 'echo').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('running');
    expect(await page.evaluate('window.marker')).toBe(1);
  });

  it('shows a crash in the activity feed as it happens', async () => {
    await page.goto(`${daemon.url}/ui/activity`);
    await page.evaluate('window.marker = 2');
    const { pid } = await api<{ pid: number }>('GET', '/api/servers/crashy');
    process.kill(pid, 'SIGKILL');
    const crash = page.locator('#activity li', { hasText: 'crashy: running → crashed' });
    await crash.first().waitFor({ timeout: UI_TIMEOUT });
    expect(await crash.first().locator('.kind').textContent()).toBe('crash');
    expect(await page.evaluate('window.marker')).toBe(2);
    await screenshot(page, 'activity-laptop');
  });

  it('runs a tool from the try-it form made from its input schema', async () => {
    await page.goto(`${daemon.url}/ui/servers/echo`);
    const add = page.locator('details', { has: page.locator('summary code', { hasText: /^add$/ }) });
    await add.locator('summary').click();
    await add.locator('input[name="n:a"]').fill('2');
    await add.locator('input[name="n:b"]').fill('40');
    await add.getByRole('button', { name: 'Call add' }).click();
    const result = add.locator('[data-result]');
    await result.waitFor({ timeout: UI_TIMEOUT });
    expect(await result.getAttribute('data-result')).toBe('ok');
    expect(await result.textContent()).toContain('"sum": 42');
    const fail = page.locator('details', { has: page.locator('summary code', { hasText: /^fail$/ }) });
    await fail.locator('summary').click();
    await fail.getByRole('button', { name: 'Call fail' }).click();
    await fail.locator('[data-result="error"]').waitFor({ timeout: UI_TIMEOUT });
    await screenshot(page, 'server-laptop');
  });

  it('adds a server through the form, as the config file gets it, shows it starting, edits and removes it', async () => {
    await page.goto(`${daemon.url}/ui/servers/new`);
    await page.fill('input[name=name]', 'added');
    await page.fill('input[name=command]', process.execPath);
    await page.fill('textarea[name=args]', fixturePath('echo'));
    await page.fill('textarea[name=secretEnv]', 'FIXTURE_ID=from-the-form');
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.waitForURL(`${daemon.url}/ui/servers/added`, { timeout: UI_TIMEOUT });
    await expect.poll(() => card(page, 'added').getAttribute('data-state'), { timeout: UI_TIMEOUT }).toBe('running');
    const config = JSON.parse(await readFile(daemon.configPath, 'utf8')) as { mcpServers: Record<string, { env: object }> };
    expect(config.mcpServers.added!.env).toEqual({ FIXTURE_ID: '${secret:ADDED_FIXTURE_ID}' });
    // Its config entry, the secret masked, edited and then removed from its page.
    const entry = page.locator('textarea[name=config]');
    expect(JSON.parse(await entry.inputValue())).toMatchObject({ env: { FIXTURE_ID: '${secret:ADDED_FIXTURE_ID}' } });
    await entry.fill(JSON.stringify({ ...(JSON.parse(await entry.inputValue()) as object), timeout: 15 }));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#config-result .notice.good').waitFor({ timeout: UI_TIMEOUT });
    expect(
      (JSON.parse(await readFile(daemon.configPath, 'utf8')) as { mcpServers: Record<string, { timeout?: number }> }).mcpServers.added!
        .timeout,
    ).toBe(15);
    await page.getByRole('button', { name: 'Remove server' }).click();
    await page.waitForURL(`${daemon.url}/ui`, { timeout: UI_TIMEOUT });
    expect(await card(page, 'added').count()).toBe(0);
    // An entry the config would refuse is refused with the file's own message.
    await page.goto(`${daemon.url}/ui/servers/new`);
    await page.fill('input[name=name]', 'broken');
    await page.selectOption('select[name=kind]', 'remote');
    await page.fill('input[name=url]', 'ftp://example.com');
    await page.getByRole('button', { name: 'Add server' }).click();
    await page.locator('#add-result .notice.bad').waitFor({ timeout: UI_TIMEOUT });
    expect(await page.locator('#add-result').textContent()).toContain('mcpServers.broken.url: expected an http:// or https:// URL');
  });

  it('creates a key and shows it once, with what each client needs', async () => {
    await page.goto(`${daemon.url}/ui/projects/default`);
    await page.fill('form[aria-label="create a key"] input[name=name]', 'laptop');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.locator('#new-key');
    await secret.waitFor({ timeout: UI_TIMEOUT });
    const key = (await secret.textContent())!.trim();
    expect(key).toMatch(/^mcpo_[0-9A-Za-z]{40}$/);
    expect(await page.locator('.clients summary').allTextContents()).toEqual([
      'Cursor',
      'Cline',
      'Claude Code',
      'Claude Desktop',
      'VS Code',
    ]);
    expect(await page.locator('#client-cursor').textContent()).toContain(key);
    // The new key is in the table by its prefix; after a reload the key itself is nowhere.
    await page.locator('#keys', { hasText: key.slice(0, 13) }).waitFor({ timeout: UI_TIMEOUT });
    await page.reload();
    expect(await page.content()).not.toContain(key);
    expect((await api<{ you: { project: string } }>('GET', '/api/status', undefined, key)).you.project).toBe('default');
  });

  it('filters the audit log', async () => {
    await api('POST', '/api/tools/echo/echo', { text: 'audited' });
    await api('POST', '/api/tools/echo/fail', {});
    await page.goto(`${daemon.url}/ui/projects/default`);
    const rows = page.locator('#audit-rows tr');
    await page.fill('form[aria-label="filter the audit log"] input[name=tool]', 'fail');
    await page.selectOption('form[aria-label="filter the audit log"] select[name=outcome]', 'error');
    await waitFor(async () => {
      const texts = await rows.allTextContents();
      return texts.length > 0 && texts.every((text) => text.includes('fail') && text.includes('error'));
    });
    await screenshot(page, 'project-laptop');
  });

  it('shows a viewer every control disabled, and the API refuses the viewer too', async () => {
    await api('POST', '/api/projects/default/members', { name: 'vera', role: 'viewer' });
    const { key } = await api<{ key: string }>('POST', '/api/projects/default/keys', { member: 'vera', name: 'vera' });
    const viewerContext = await browser.newContext({ viewport: LAPTOP });
    const viewer = await viewerContext.newPage();
    const viewerErrors = consoleErrors(viewer);
    try {
      await logIn(viewer, key);
      await card(viewer, 'echo').waitFor({ timeout: UI_TIMEOUT });
      for (const name of ['Start', 'Stop', 'Restart'])
        expect(await card(viewer, 'echo').getByRole('button', { name, exact: true }).isDisabled()).toBe(true);
      expect(await viewer.getByRole('link', { name: 'Add server' }).count()).toBe(0);
      await viewer.goto(`${daemon.url}/ui/servers/echo`);
      expect(await viewer.locator('form.try-it button[type=submit]').first().isDisabled()).toBe(true);
      await viewer.goto(`${daemon.url}/ui/projects/default`);
      expect(await viewer.getByRole('button', { name: 'Turn off' }).first().isDisabled()).toBe(true);
      // Sent anyway, with the page's own session and CSRF token: refused.
      // (Strings: this file is compiled without the DOM's types.)
      const refused = await viewer.evaluate(`(async () => {
        const csrf = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token'];
        const response = await fetch('/api/servers/echo/stop', { method: 'POST', headers: { 'X-CSRF-Token': csrf } });
        return { status: response.status, body: await response.json() };
      })()`);
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
      const noCsrf = await viewer.evaluate(`fetch('/api/tools/echo/echo', { method: 'POST' }).then((r) => r.status)`);
      expect(noCsrf).toBe(403);
      expect((await api<{ state: string }>('GET', '/api/servers/echo')).state).toBe('running');
      await screenshot(viewer, 'overview-viewer');
      // The two refusals above are the only console errors the viewer's page may have.
      expect(viewerErrors.filter((e) => !e.includes('403'))).toEqual([]);
    } finally {
      await viewerContext.close();
    }
  });

  it('logged no console errors on any page of the operator', () => {
    expect(errors, errors.join('\n')).toEqual([]);
  });

  it('rate-limits the login form', async () => {
    const attempt = () =>
      fetch(`${daemon.url}/ui/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'key=mcpo_wrong&next=/ui',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await attempt()).status);
    expect(statuses).toContain(401);
    expect(statuses.at(-1)).toBe(429);
  });
});
