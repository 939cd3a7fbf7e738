// Process helpers: free ports, RSS and CPU time from /proc, waiting for a line or a URL, stopping children.
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port that was free a moment ago (for peers that cannot listen on port 0 and report it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** VmRSS of one process in KiB, or null once it has gone. */
export function rssKiB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Every descendant pid of `pid` (children, grandchildren, ...), read from /proc. */
export function descendants(pid) {
  const out = [];
  const visit = (p) => {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const task of tasks) {
      let children;
      try {
        children = readFileSync(`/proc/${p}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(/\s+/).filter(Boolean).map(Number)) {
        out.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return out;
}

/** RSS of a process and of its whole tree, in KiB. */
export function treeRss(pid) {
  const own = rssKiB(pid) ?? 0;
  const children = descendants(pid).reduce((sum, p) => sum + (rssKiB(p) ?? 0), 0);
  return { own, children, total: own + children, childCount: descendants(pid).length };
}

/** CPU time (user + system) used so far by a process and its whole tree, in ms; gone processes count 0. */
export function treeCpuMs(pid) {
  const msPerTick = 10; // USER_HZ is 100 on Linux
  const cpu = (p) => {
    try {
      // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
      return (Number(fields[11]) + Number(fields[12])) * msPerTick;
    } catch {
      return 0;
    }
  };
  return [pid, ...descendants(pid)].reduce((sum, p) => sum + cpu(p), 0);
}

/** Resolves with the first value `match(line)` returns (not undefined) on `stream`; rejects on timeout or exit. */
export function waitForLine(child, stream, match, timeoutMs = 20_000) {
  const seen = [];
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream });
    const timer = setTimeout(() => done(new Error(`no ready line within ${timeoutMs} ms:\n${seen.slice(-20).join('\n')}`)), timeoutMs);
    const onExit = (code) => setImmediate(() => done(new Error(`exited (code ${code}) before ready:\n${seen.slice(-20).join('\n')}`)));
    const done = (error, value) => {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.removeAllListeners('line');
      lines.on('line', () => {}); // keep draining so the child never blocks on a full pipe
      if (error) reject(error);
      else resolve(value);
    };
    lines.on('line', (line) => {
      seen.push(line);
      const value = match(line);
      if (value !== undefined) done(undefined, value);
    });
    child.once('exit', onExit);
  });
}

/** Polls `url` until it answers `ok(response)`; returns ms since `t0` (performance.now()). */
export async function pollUntil(url, t0, { init, ok = (r) => r.status === 200, timeoutMs = 20_000, everyMs = 5 } = {}) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, init);
      const body = await response.text();
      if (ok(response, body)) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(everyMs);
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
