import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Finds the executable as the kernel would, to explain a failure better than spawn's bare ENOENT (which
 * also stands for a missing cwd). Synchronous like spawn itself; it runs once per (re)start.
 */
export function resolveCommand(command: string, env: Record<string, string>, cwd: string): { file: string } | { error: string } {
  // Stryker disable next-line all: the tests run on Linux
  if (process.platform === 'win32') return { file: command }; // spawn's own lookup; PATHEXT is its business
  const isExecutableFile = (file: string): 'ok' | 'missing' | 'not-executable' => {
    try {
      if (!statSync(file).isFile()) return 'not-executable';
      accessSync(file, fsConstants.X_OK);
      return 'ok';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EACCES' ? 'not-executable' : 'missing';
    }
  };
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    const state = isExecutableFile(file);
    if (state === 'ok') return { file };
    return { error: state === 'missing' ? `no such file: ${file}` : `permission denied: ${file} is not an executable file` };
  }
  let notExecutable: string | undefined;
  // Empty PATH entries are skipped: treating them as "." would run whatever sits in the cwd.
  // Stryker disable next-line StringLiteral: without a PATH any stand-in finds nothing either
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.resolve(cwd, dir, command);
    const state = isExecutableFile(file);
    if (state === 'ok') return { file };
    if (state === 'not-executable') notExecutable ??= file;
  }
  if (notExecutable) return { error: `permission denied: ${notExecutable} is not an executable file` };
  return { error: `command not found: ${command} (looked in PATH)` };
}

export function describeSpawnError(err: NodeJS.ErrnoException, command: string): string {
  if (err.code === 'ENOENT') return `command not found: ${command} (looked in PATH)`;
  if (err.code === 'EACCES') return `permission denied: ${command}`;
  return `failed to start ${command}: ${err.message}`;
}
