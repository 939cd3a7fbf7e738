import { readFile, readdir } from 'node:fs/promises';
import pidusage from 'pidusage';

/**
 * CPU and memory of a server's whole process tree: for `npx foo` the leader is a small npm process and
 * the real server is a grandchild, so sampling the leader alone would report almost nothing.
 */

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** One letter from /proc/<pid>/stat: R, S, D, Z (zombie), T... */
  state: string;
}

export interface TreeSample {
  /** Sum over the tree; 100 is one core. */
  cpuPercent: number;
  memoryBytes: number;
  pids: number[];
}

/** Parses /proc/<pid>/stat. The command name is in parentheses and may itself hold spaces and ')'. */
export function parseProcStat(text: string): ProcEntry | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  // Stryker disable next-line all: text without "(...)" in order fails the integer checks below anyway; a stat line starts with its pid
  if (open < 0 || close < open) return undefined;
  const [state, ppid, pgid] = text.slice(close + 2).split(' ');
  // Stryker disable next-line StringLiteral: split() yields at least one string, so state is never undefined here
  const entry = { pid: Number(text.slice(0, open)), ppid: Number(ppid), pgid: Number(pgid), state: state ?? '' };
  return Number.isInteger(entry.pid) && Number.isInteger(entry.ppid) && Number.isInteger(entry.pgid) ? entry : undefined;
}

/** Every process in /proc, or undefined where there is no /proc (macOS, Windows). */
export async function readProcessTable(procRoot = '/proc'): Promise<ProcEntry[] | undefined> {
  let names: string[];
  try {
    names = await readdir(procRoot);
  } catch {
    return undefined;
  }
  const entries = await Promise.all(
    names
      .filter((n) => /^\d+$/.test(n))
      // A process that exited between readdir and readFile is left out.
      .map((n) => readFile(`${procRoot}/${n}/stat`, 'utf8').then(parseProcStat, () => undefined)),
  );
  return entries.filter((e): e is ProcEntry => e !== undefined);
}

/**
 * `pid`, its live descendants, and the live members of the process group it leads (orphans that were
 * reparented to init but still belong to the server). Undefined if `pid` is not a live process.
 */
export function processTree(table: ProcEntry[], pid: number): number[] | undefined {
  const liveEntries = table.filter((e) => e.state !== 'Z');
  if (!liveEntries.some((e) => e.pid === pid)) return undefined;
  const children = new Map<number, number[]>();
  for (const e of liveEntries) {
    const list = children.get(e.ppid);
    if (list) list.push(e.pid);
    else children.set(e.ppid, [e.pid]);
  }
  const found = new Set<number>([pid]);
  for (const e of liveEntries) if (e.pgid === pid) found.add(e.pid);
  const queue = [...found];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      // Stryker disable next-line ConditionalExpression: a process tree has no cycles; queueing a pid again only repeats work on a set
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return [...found].sort((a, b) => a - b);
}

/** How long one scan of /proc serves the samples that follow it. */
const TABLE_REUSE_MS = 100;
let lastTable: { at: number; table: Promise<ProcEntry[] | undefined> } | undefined;

/**
 * The process table, scanned at most once per TABLE_REUSE_MS: a status of every server samples each
 * tree at once, and fifty servers would otherwise read all of /proc fifty times over.
 */
function recentProcessTable(fresh = false): Promise<ProcEntry[] | undefined> {
  const now = Date.now();
  if (fresh || !lastTable || now - lastTable.at >= TABLE_REUSE_MS) lastTable = { at: now, table: readProcessTable() };
  return lastTable.table;
}

/** One sample of the tree rooted at `pid`; undefined if that process is gone. */
export async function sampleProcessTree(pid: number): Promise<TreeSample | undefined> {
  let table = await recentProcessTable();
  // A process started after the reused scan is not gone: scan again for it (a server just spawned).
  if (table && !table.some((entry) => entry.pid === pid)) table = await recentProcessTable(true);
  // Stryker disable next-line ArrayDeclaration: only where there is no /proc (macOS, Windows)
  const pids = table ? processTree(table, pid) : [pid];
  // Stryker disable next-line ConditionalExpression: pidusage rejects a missing pid too; this saves the call
  if (!pids) return undefined;
  // With a single pid, pidusage rejects when it is gone.
  const stats: Record<string, pidusage.Status | null | undefined> | undefined = await pidusage(pids).catch(() => undefined);
  // Stryker disable next-line ConditionalExpression,OptionalChaining: the root exiting between the /proc scan and pidusage, a race no test can arrange
  if (!stats?.[pid]) return undefined;
  const sample: TreeSample = { cpuPercent: 0, memoryBytes: 0, pids: [] };
  for (const p of pids) {
    // A descendant may exit between the /proc scan and pidusage; it then has no entry.
    const s = stats[p];
    // Stryker disable next-line ConditionalExpression: a race between the /proc scan and pidusage that no test can arrange
    if (!s) continue;
    sample.cpuPercent += s.cpu;
    sample.memoryBytes += s.memory;
    sample.pids.push(p);
  }
  return sample;
}
