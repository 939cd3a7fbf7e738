import { readFileSync } from 'node:fs';

/**
 * Alive and not a zombie. Orphans are reparented to PID 1, which in a container may reap them late
 * or never; a zombie holds nothing, so it counts as gone.
 */
export function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}
