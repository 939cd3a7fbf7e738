// The dashboard's and the REST API's time to first byte with many servers: each page requested in
// turn with a logged-in session, beside /health of the same daemon as the reference (the cheapest
// answer it gives, measured in the same rounds, so load on the machine weighs on both alike).
import { summarize } from './stats.mjs';

export const PAGES = ['/ui', '/ui/servers/s1', '/ui/projects/default', '/ui/activity', '/ui/metrics', '/api/servers', '/api/docs'];
export const REFERENCE = '/health';

/** Logs in with the key and returns the session cookie. */
export async function logIn(url, key) {
  const response = await fetch(`${url}/ui/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ key, next: '/ui' }),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (response.status !== 303 || !cookie) throw new Error(`login failed: ${response.status}`);
  return cookie;
}

/** Milliseconds from sending a GET to its response's headers (fetch resolves there); the body is read after. */
async function ttfb(url, headers) {
  const t0 = performance.now();
  const response = await fetch(url, { headers });
  const ms = performance.now() - t0;
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  await response.arrayBuffer();
  return ms;
}

/** `rounds` rounds, each requesting the reference and every page once; p50/p90/p99 per path. */
export async function measurePages(url, cookie, { warmup = 3, rounds = 30 } = {}) {
  const paths = [REFERENCE, ...PAGES];
  const samples = Object.fromEntries(paths.map((p) => [p, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (const path of paths) {
      const ms = await ttfb(`${url}${path}`, { cookie });
      if (round >= warmup) samples[path].push(ms);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([path, values]) => [path, summarize(values)]));
}
