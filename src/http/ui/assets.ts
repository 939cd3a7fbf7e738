import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'hono';
import { OrchError } from '../../errors.js';
import { apiErrorResponse } from '../apiError.js';

/**
 * The dashboard's files, all served by the daemon (no CDN, so it works offline): htmx, its SSE
 * extension and uPlot from node_modules as their packages ship them (licences included there), and
 * the dashboard's own stylesheet, script and icon from src/web/static. Read once, kept in memory,
 * revalidated by ETag.
 */

const require = createRequire(import.meta.url);

/** The package's root: the nearest folder above this file whose package.json is mcp-orch's (dist/ or src/ alike). */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'mcp-orch') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('mcp-orch: cannot find the package folder for the dashboard files');
    dir = parent;
  }
}

const own = (file: string) => (): string => path.join(packageRoot(), 'src', 'web', 'static', file);
const installed = (specifier: string) => (): string => require.resolve(specifier);

const FILES: Record<string, { locate: () => string; type: string }> = {
  'app.css': { locate: own('app.css'), type: 'text/css; charset=utf-8' },
  'app.js': { locate: own('app.js'), type: 'text/javascript; charset=utf-8' },
  'icon.svg': { locate: own('icon.svg'), type: 'image/svg+xml' },
  'htmx.min.js': { locate: installed('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'sse.js': { locate: installed('htmx-ext-sse/dist/sse.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.iife.min.js': { locate: installed('uplot/dist/uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { locate: installed('uplot/dist/uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

const loaded = new Map<string, { body: Buffer; etag: string }>();

export function serveAsset(c: Context, name: string): Response {
  const file = FILES[name];
  if (!file) return apiErrorResponse(new OrchError('NOT_FOUND', `no dashboard file "${name}"`));
  let entry = loaded.get(name);
  if (!entry) {
    const body = fs.readFileSync(file.locate());
    entry = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
    loaded.set(name, entry);
  }
  const headers = { 'content-type': file.type, etag: entry.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  if (c.req.header('if-none-match') === entry.etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(entry.body), { headers });
}

/** What every page of the dashboard (and the API reference) is sent with: no inline script, no framing, no other origin. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};
