import pc from 'picocolors';
import type { LifecycleState } from '../supervisor/lifecycle.js';

export type Colors = ReturnType<typeof pc.createColors>;

/**
 * Colours for what goes to `stream`: only on a terminal, never with NO_COLOR set (no-color.org);
 * FORCE_COLOR (not "0") turns them on anywhere. Pipes and files get plain text.
 */
export function colorsFor(stream: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): Colors {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return pc.createColors(false);
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return pc.createColors(true);
  return pc.createColors(Boolean(stream.isTTY) && env.TERM !== 'dumb');
}

/** A server state in its colour: green running; yellow on its way; red crashed; grey stopped or disabled. */
export function paintState(colors: Colors, state: LifecycleState | string): string {
  switch (state) {
    case 'running':
      return colors.green(state);
    case 'starting':
    case 'restarting':
    case 'unhealthy':
    case 'stopping':
      return colors.yellow(state);
    case 'crashed':
      return colors.red(state);
    default:
      return colors.gray(state);
  }
}
