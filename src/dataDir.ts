import fs from 'node:fs';
import { OrchError } from './errors.js';

/**
 * The data dir holds what opens the daemon to whoever can read it: the admin token, the key that
 * signs 2026 requestStates, daemon.json and the servers' stderr logs. So it is the owner's alone:
 * created 0700 (files in it are written 0600, logs/ 0700). One that already exists must be a
 * directory of this user without group or other access, or the daemon refuses to start and says
 * how to fix it. It refuses rather than chmod: the directory may be shared on purpose (a project
 * folder, a home directory), and changing its mode behind the user's back would break what else
 * uses it.
 */
export function ensurePrivateDataDir(dir: string, uid: number | undefined = process.getuid?.()): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : (error as Error).message;
    throw new OrchError('BAD_REQUEST', `cannot use ${dir} as the data dir: ${why}`, {
      hint: 'give --data-dir (or orch.dataDir, or $MCP_ORCH_DATA_DIR) a directory mcp-orch can create or owns',
      cause: error,
    });
  }
  // Windows has no mode bits to check; its ACLs are inherited from the user's profile.
  if (process.platform === 'win32') return;
  const stat = fs.statSync(dir);
  if (uid !== undefined && stat.uid !== uid) {
    throw new OrchError('BAD_REQUEST', `data dir ${dir} belongs to another user (uid ${stat.uid}), who could read the admin token`, {
      hint: 'give --data-dir (or orch.dataDir) a directory of your own, such as the default ~/.mcp-orch',
    });
  }
  const open = stat.mode & 0o077;
  if (open !== 0) {
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    throw new OrchError(
      'BAD_REQUEST',
      `data dir ${dir} is open to other users (mode ${mode}): they could read the admin token and the logs`,
      {
        hint: `make it yours alone with \`chmod 700 ${dir}\`, or give --data-dir a new directory (mcp-orch creates it 0700)`,
      },
    );
  }
}
