import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.js';

describe('createLogger', () => {
  it("pretty output keeps the pid a line carries (a child server's), and adds none of its own", () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-orch-log-'));
    const file = join(dir, 'pretty.log');
    const fd = openSync(file, 'w');
    try {
      const logger = createLogger({ pretty: true, destination: { fd } as unknown as NodeJS.WritableStream & { fd: number } });
      logger.child({ component: 'supervisor', server: 'memory' }).info({ pid: 4242, command: 'node' }, 'child started');
      logger.info('listening');
      const [started, listening] = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(started).toContain('child started');
      expect(started).toMatch(/INFO \(4242\)/); // pino-pretty's place for a pid
      expect(listening).toMatch(/INFO: listening/);
    } finally {
      closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
