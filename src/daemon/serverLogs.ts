import path from 'node:path';
import type { Logger } from '../log.js';
import { attachLogFile, type LogFile } from '../supervisor/logFile.js';
import type { Upstream } from '../upstream/upstream.js';

/** Each server's stderr appended to `<data dir>/logs/<name>.log`, when its supervision says so. */
export interface ServerLogs {
  /** Starts appending the server's log (a no-op when its supervision keeps no file). */
  attach(name: string, upstream: Upstream): void;
  /** Stops appending it and closes the file. */
  close(name: string): Promise<void>;
  closeAll(): Promise<void>;
}

export function createServerLogs(dataDir: string, logger: Logger): ServerLogs {
  const files = new Map<string, LogFile>();
  const close = async (name: string): Promise<void> => {
    const file = files.get(name);
    files.delete(name);
    await file?.close();
  };
  return {
    attach(name, upstream) {
      const { supervision } = upstream;
      if (!supervision.logFile) return;
      const file = path.join(dataDir, 'logs', `${name}.log`);
      const log = logger.child({ component: 'log-file', server: name });
      files.set(
        name,
        attachLogFile(upstream.logs, file, {
          maxBytes: supervision.logFileMaxBytes,
          onError: (error) => log.warn({ file, err: error.message }, 'could not write the server log file'),
        }),
      );
    },
    close,
    closeAll: async () => {
      await Promise.all([...files.keys()].map(close));
    },
  };
}
