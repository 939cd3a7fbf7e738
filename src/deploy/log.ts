import fs from 'node:fs';
import path from 'node:path';

/** A deployment's log: what each step ran and printed, in `<data dir>/deployments/<name>/deploy.log`. */
export interface DeployLog {
  /** The file, once known (see `attach`). */
  readonly file: string;
  /** Appends one stamped line, with any credentials in URLs masked; told to the listener too. */
  line(text: string): void;
  /** The last `count` lines this operation wrote, for error messages. */
  tail(count: number): string[];
  /**
   * Writes to `file` from now on, with the lines so far: a new deployment's name, and so its
   * folder, is known only once its repository has been read.
   */
  attach(file: string): void;
}

const TAIL_KEPT = 50;

/** `https://user:token@host/...` as `https://***@host/...`: a URL may carry credentials, a log must not. */
export function maskCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

export function openDeployLog(file: string | undefined, onLine?: (line: string) => void): DeployLog {
  const pending: string[] = [];
  const recent: string[] = [];
  let target = file;
  const write = (lines: string[]): void => {
    if (!target || lines.length === 0) return;
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.appendFileSync(target, lines.join(''), { mode: 0o600 });
  };
  return {
    get file() {
      return target ?? '(not written yet)';
    },
    line(text) {
      for (const raw of text.split(/\r?\n/)) {
        if (raw.trim() === '') continue;
        const masked = maskCredentials(raw);
        recent.push(masked);
        if (recent.length > TAIL_KEPT) recent.shift();
        const stamped = `${new Date().toISOString()} ${masked}\n`;
        if (target) write([stamped]);
        else pending.push(stamped);
        onLine?.(masked);
      }
    },
    tail: (count) => recent.slice(-count),
    attach(next) {
      target = next;
      write(pending.splice(0));
    },
  };
}
