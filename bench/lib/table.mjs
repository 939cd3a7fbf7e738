// The console table: one row per figure and target, with its ratios to the two references; then the
// speed targets.

const fmt = (v) => (v === null || v === undefined ? '-' : typeof v === 'number' ? String(v) : String(v));
const x = (v) => (v === null || v === undefined ? '-' : `${v}x`);

export function printTable(results) {
  const rows = [['figure', 'target', 'value', 'unit', 'direct', 'floor', 'vs direct', 'vs floor']];
  for (const f of Object.values(results.figures)) {
    for (const [target, r] of Object.entries(f.rows)) {
      rows.push([f.label, target, fmt(r.value), f.unit, fmt(f.direct), fmt(f.floor), x(r.vsDirect), x(r.vsFloor)]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row) => row.map((cell, i) => (i >= 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
  const out = [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  process.stdout.write(
    `\nmcp-orch benchmark (${results.mode}${results.peers ? ', with peers' : ''}; node ${results.node}, ${results.cpus} cpus, load average ${results.loadavg.start[0]} -> ${results.loadavg.end[0]})\n${out.join('\n')}\n\n`,
  );
}

/** The speed targets, one line each, with the relay floor's figure where it bounds the target. */
export function printTargets(targets) {
  const lines = targets.map((t) => {
    const values = Object.entries(t.values)
      .map(([n, v]) => `${n} ${v}`)
      .join(', ');
    const relay = t.relayFloor === undefined ? '' : `; relay floor ${t.relayFloor}`;
    return `${t.met ? 'met    ' : 'NOT MET'}  ${t.goal}: ${values}${relay}`;
  });
  process.stdout.write(`against the targets:\n${lines.join('\n')}\n\n`);
}
