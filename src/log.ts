import pino, { type Logger, type LevelWithSilent } from 'pino';
import { build as prettyStream } from 'pino-pretty';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = LevelWithSilent;

export interface LoggerOptions {
  level?: LogLevel;
  /** Where JSON lines go; defaults to stderr so that `mcp-orch stdio` keeps stdout for the protocol. */
  destination?: NodeJS.WritableStream & { fd?: number };
  /** Pretty-print for people; defaults to whether the destination is a TTY. */
  pretty?: boolean;
}

/**
 * The root logger. Every module receives a Logger and calls `child({ component })`.
 * Pretty output only on a TTY: log collectors and tests read JSON lines.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stderr;
  const isTty = Boolean((destination as { isTTY?: boolean }).isTTY);
  const pretty = options.pretty ?? isTty;
  const base = {
    level: options.level ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.headers.authorization', '*.headers.Authorization', '*.env'], censor: '[redacted]' },
  };
  if (pretty) {
    // In-process stream rather than a worker transport: it survives bundling and keeps ordering.
    // `base: undefined` leaves pino's own pid and hostname out, so the pid pretty output shows
    // (`INFO (4242): child started`) is a child server's: nothing is ignored.
    return pino(
      base,
      prettyStream({ destination: destination.fd ?? 2, translateTime: 'HH:MM:ss', ignore: '', singleLine: true, sync: true }),
    );
  }
  return pino(base, destination);
}
