// mcp-orch's speed targets (bench/README.md), checked against one run's figures. Each line carries the relay floor's
// figure beside mcp-orch's: the cheapest possible gateway of the same shape, measured in the same
// run, which bounds what any gateway can reach on this machine.
import { round } from './stats.mjs';

const ORCH = ['orch server mcp', 'orch server sse', 'orch unified mcp', 'orch unified sse'];
const PEERS = ['supergateway mcp', 'mcp-proxy mcp', 'mcp-proxy sse'];
const RELAY = 'relay floor mcp';

/** One target: what it asks, each target's figure, and whether every mcp-orch figure meets it. */
function line(goal, values, meets, relay) {
  const shown = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== null && v !== undefined));
  return { goal, values: shown, met: Object.values(shown).every(meets), ...(relay === undefined ? {} : { relayFloor: relay }) };
}

export function againstTargets(figures) {
  const out = [];
  const seq = figures['seq.p50'];
  const pick = (f, names) => Object.fromEntries(names.filter((n) => f?.rows[n] !== undefined).map((n) => [n, f.rows[n]]));
  if (seq?.floor) {
    const over = Object.fromEntries(Object.entries(pick(seq, ORCH)).map(([n, v]) => [n, round(v - seq.floor)]));
    out.push(
      line('tools/call p50 within 0.3 ms of the HTTP floor (ms over it)', over, (v) => v <= 0.3, round(seq.rows[RELAY] - seq.floor)),
    );
    const r = (a, b) => (seq.rows[a] && seq.rows[b] ? round(seq.rows[a] / seq.rows[b]) : null);
    out.push(
      line(
        'unified within 5% of per-server (unified / per-server p50)',
        { mcp: r('orch unified mcp', 'orch server mcp'), sse: r('orch unified sse', 'orch server sse') },
        (v) => v <= 1.05,
      ),
    );
  }
  const bestPeerP50 = Math.min(...Object.values(pick(seq, PEERS)));
  if (Number.isFinite(bestPeerP50)) {
    const ratios = Object.fromEntries(Object.entries(pick(seq, ORCH)).map(([n, v]) => [n, round(v / bestPeerP50)]));
    out.push(
      line(
        `p50 at most 2/3 of the best peer's (${bestPeerP50} ms): ratio`,
        ratios,
        (v) => v <= 2 / 3,
        round(seq.rows[RELAY] / bestPeerP50),
      ),
    );
  }
  const tput = figures['tput.64'];
  const bestPeerTput = Math.max(...Object.values(pick(tput, PEERS)));
  if (Number.isFinite(bestPeerTput)) {
    const ratios = Object.fromEntries(Object.entries(pick(tput, ORCH)).map(([n, v]) => [n, round(v / bestPeerTput)]));
    out.push(
      line(
        `calls/s at 64 sessions at least 2x the best peer's (${bestPeerTput}): ratio`,
        ratios,
        (v) => v >= 2,
        round(tput.rows[RELAY] / bestPeerTput),
      ),
    );
  }
  const pages = figures['ui.p99'];
  if (pages) {
    const { floor, rows } = pages;
    out.push(line(`dashboard and API pages under 200 ms to first byte with 50 servers (p99, ms; /health: ${floor})`, rows, (v) => v < 200));
  }
  const loaded = figures['mem.loaded']?.rows['mcp-orch'];
  if (loaded !== undefined) {
    out.push(line(`${figures['mem.loaded'].label} under 300 MB (MB)`, { 'mcp-orch': round(loaded * 1.048576, 1) }, (v) => v < 300));
  }
  return out;
}
