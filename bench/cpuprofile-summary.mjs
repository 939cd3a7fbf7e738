#!/usr/bin/env node
// Summarises a V8 .cpuprofile (from node --cpu-prof): self time per function and per area (our
// src/ files through dist/cli.js's source map, each node_modules package, node internals, GC,
// idle), as shares of the busy (non-idle) time.
// Usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--json]
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

export function summarizeProfile(profile, { top = 25 } = {}) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map(); // node id -> µs
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const maps = new Map();
  const sourceMapFor = (url) => {
    if (!maps.has(url)) {
      let map = null;
      if (url.startsWith('file://') && url.endsWith('/dist/cli.js')) {
        try {
          map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
        } catch {
          map = null;
        }
      }
      maps.set(url, map);
    }
    return maps.get(url);
  };
  const describe = (frame) => {
    const { functionName, url, lineNumber, columnNumber } = frame;
    const name = functionName || '(anonymous)';
    if (!url) return { name, where: '', area: name.startsWith('(') ? name : '(native)' };
    const map = sourceMapFor(url);
    if (map) {
      const entry = map.findEntry(lineNumber, columnNumber);
      if (entry?.originalSource) {
        const src = entry.originalSource.replace(/^.*?(src\/)/, '$1');
        return { name, where: `${src}:${entry.originalLine + 1}`, area: src };
      }
    }
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const short = url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\//, '');
    const area = pkg ? pkg[1] : url.startsWith('node:') ? 'node internals' : short;
    return { name, where: `${short}:${lineNumber + 1}`, area };
  };
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** The JavaScript callers of a node: the nearest frame, then the nearest three outside node internals. */
  const callers = (id) => {
    const out = [];
    let outside = 0;
    for (let p = parent.get(id); p !== undefined && outside < 3; p = parent.get(p)) {
      const d = describe(byId.get(p).callFrame);
      if (!d.where) continue;
      const internal = d.where.startsWith('node:');
      if (out.length === 0 || !internal) out.push(`${d.name} ${d.where}`);
      if (!internal) outside++;
    }
    return out.join(' < ');
  };
  const fns = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const d = describe(byId.get(id).callFrame);
    total += us;
    if (d.area === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${d.name} ${d.where}`;
    const f = fns.get(key) ?? { ...d, us: 0, via: new Map() };
    f.us += us;
    if (!d.where) {
      const via = callers(id);
      f.via.set(via, (f.via.get(via) ?? 0) + us);
    }
    fns.set(key, f);
    areas.set(d.area, (areas.get(d.area) ?? 0) + us);
  }
  const busy = total - idle;
  const pct = (us) => Math.round((us / busy) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    idleMs: Math.round(idle / 1000),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({
        selfPct: pct(f.us),
        selfMs: Math.round(f.us / 1000),
        name: f.name,
        where: f.where,
        // For native frames: the JavaScript stacks that spent the time, largest first.
        ...(f.via.size
          ? {
              via: [...f.via.entries()]
                .sort((a, b) => b[1] - a[1])
                .slice(0, 3)
                .map(([stack, us]) => ({ pct: pct(us), stack })),
            }
          : {}),
      })),
    areas: [...areas.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ selfPct: pct(us), selfMs: Math.round(us / 1000), area })),
  };
}

export function formatSummary(s) {
  const lines = [`busy ${s.busyMs} ms of ${s.totalMs} ms sampled (idle ${s.idleMs} ms); shares are of busy time`, '', 'self time by area:'];
  for (const a of s.areas) lines.push(`  ${String(a.selfPct).padStart(5)}%  ${String(a.selfMs).padStart(6)} ms  ${a.area}`);
  lines.push('', 'top functions by self time:');
  for (const f of s.functions) {
    lines.push(`  ${String(f.selfPct).padStart(5)}%  ${String(f.selfMs).padStart(6)} ms  ${f.name}  ${f.where}`);
    for (const v of f.via ?? []) if (v.stack && v.pct >= 0.5) lines.push(`           ${String(v.pct).padStart(5)}%  via ${v.stack}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) {
    process.stderr.write('usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile [--top N] [--json]\n');
    process.exit(2);
  }
  const topIndex = args.indexOf('--top');
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), { top: topIndex >= 0 ? Number(args[topIndex + 1]) : 25 });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(summary, null, 2)}\n` : `${formatSummary(summary)}\n`);
}
