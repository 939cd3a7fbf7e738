/** A logger whose lines are kept as parsed JSON objects, to check what was said and at which level. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';

export function captureLogger(): { logger: ReturnType<typeof createLogger>; entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) entries.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination, pretty: false }), entries };
}
