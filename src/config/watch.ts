import path from 'node:path';
import { watch } from 'chokidar';
import { isOrchError, OrchError } from '../errors.js';
import type { Logger } from '../log.js';
import { parseConfigText, readConfigText, type LoadOptions, type ParsedConfig } from './load.js';

export interface WatchConfigOptions {
  logger: Logger;
  /** A new valid config; the caller diffs it against the one it runs. */
  onChange(result: ParsedConfig): void;
  /** A change that could not be loaded; the caller keeps its last good config. */
  onError(err: OrchError): void;
  debounceMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Fills in `${secret:NAME}` on every reload, as at start. */
  secrets?: LoadOptions['secrets'];
}

export interface ConfigWatcher {
  /** Resolves once the watcher sees the file system; edits before that may go unnoticed. */
  ready: Promise<void>;
  close(): Promise<void>;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readConfigText(file);
  } catch /* Stryker disable next-line BlockStatement: an empty catch returns undefined too */ {
    return undefined;
  }
}

/**
 * Watches one config file and reports each settled edit. The parent directory is watched rather than
 * the file, because editors that save by writing a temp file and renaming it over the original
 * replace the inode a file watch would be attached to.
 */
export function watchConfig(file: string, options: WatchConfigOptions): ConfigWatcher {
  const { onChange, onError, debounceMs = 200, env = process.env } = options;
  // Stryker disable next-line ObjectLiteral,StringLiteral: log fields
  const log = options.logger.child({ component: 'config-watch' });
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const watched = new Set([dir, target]);

  // Saves that leave the text as it was (touch, format-on-save) are not changes.
  let lastText = readOrUndefined(target);
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const reject = (err: unknown): void => {
    // Stryker disable next-line StringLiteral,ObjectLiteral: reached only through a bug elsewhere: reading and parsing report OrchErrors
    const error = isOrchError(err) ? err : new OrchError('INTERNAL', `reloading ${target} failed: ${String(err)}`, { cause: err });
    // Stryker disable next-line all: log wording and fields; onError gets the error itself
    log.warn({ code: error.code, message: error.message }, 'config change not applied; keeping the last good config');
    onError(error);
  };

  const reload = (): void => {
    timer = undefined;
    // Stryker disable next-line ConditionalExpression: close() clears the timer that calls this; a second guard
    if (closed) return;
    let text: string;
    try {
      text = readConfigText(target);
    } catch (err) {
      lastText = undefined;
      reject(err);
      return;
    }
    if (text === lastText) return;
    lastText = text;
    let result: ParsedConfig;
    try {
      result = parseConfigText(text, target, env, { secrets: options.secrets });
    } catch (err) {
      reject(err);
      return;
    }
    // Stryker disable next-line all: log wording and fields
    log.info({ file: target, warnings: result.warnings.length }, 'config changed');
    try {
      onChange(result);
    } catch (err) /* Stryker disable next-line BlockStatement: the block only logs */ {
      // A failing listener must not take the watcher (or the process, from a timer) down with it.
      // Stryker disable next-line all: log wording and fields
      log.error({ err }, 'config change listener failed');
    }
  };

  // These options change only what chokidar watches, never what is reported: the handler below takes
  // the file's own events alone, the debounce merges an unlink and an add as `atomic` does (its 200 ms
  // are longer), and reload drops an event that leaves the text as it was (such as the initial add).
  // Stryker disable next-line ObjectLiteral: see above
  const watcher = watch(dir, {
    // Stryker disable next-line BooleanLiteral: see above
    ignoreInitial: true,
    depth: 0,
    // Stryker disable next-line BooleanLiteral: see above
    atomic: true,
    // Stryker disable next-line ArrowFunction: see above
    ignored: (p: string) => !watched.has(path.resolve(p)),
  });
  watcher.on('all', (_event, p) => {
    // Stryker disable next-line ConditionalExpression,LogicalOperator: reload checks closed again, and ignored lets only the file through
    if (closed || path.resolve(p) !== target) return;
    clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
  });
  // Stryker disable next-line all: log wording and fields; chokidar reports errors a test cannot cause on demand
  watcher.on('error', (err) => log.warn({ err }, 'config watcher error'));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  let closing: Promise<void> | undefined;
  return {
    ready,
    close() {
      closing ??= (async () => {
        // Stryker disable next-line BooleanLiteral: a closed chokidar reports nothing more; this guards the moment before
        closed = true;
        clearTimeout(timer);
        await watcher.close();
      })();
      return closing;
    },
  };
}
