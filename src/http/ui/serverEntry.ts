import { OrchError } from '../../errors.js';

/** The add-server form's fields, as the browser sends them. */
export type ServerForm = Record<string, string | undefined>;

const lines = (text: string | undefined): string[] =>
  (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/** `NAME=value` (env) or `Name: value` (headers) lines as pairs; a line without the separator is named in the error. */
function pairs(text: string | undefined, separator: '=' | ':', field: string): [string, string][] {
  return lines(text).map((line) => {
    const at = line.indexOf(separator);
    if (at <= 0) {
      throw new OrchError('BAD_REQUEST', `${field}: "${line}" is not ${separator === '=' ? 'NAME=value' : 'Name: value'}`, {
        hint: 'one per line',
      });
    }
    return [line.slice(0, at).trim(), line.slice(at + 1).trim()];
  });
}

/** The secret's name for a server's env variable or header: SERVER_KEY in upper case, letters, digits and "_". */
export function secretName(server: string, key: string): string {
  return `${server}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

const number = (text: string | undefined): number | undefined => (text === undefined || text.trim() === '' ? undefined : Number(text));

/**
 * The config entry the add-server form describes, and the secrets to store first: secret env
 * variables and headers go to the store and the entry gets `${secret:NAME}` in their place. Only
 * what was filled in is written; the daemon checks the result as it checks the file.
 */
export function serverEntryOf(form: ServerForm): { name: string; config: Record<string, unknown>; secrets: Record<string, string> } {
  const name = (form.name ?? '').trim();
  const secrets: Record<string, string> = {};
  const withSecrets = (plain: [string, string][], secret: [string, string][]): Record<string, string> | undefined => {
    const all: Record<string, string> = Object.fromEntries(plain);
    for (const [key, value] of secret) {
      const secretKey = secretName(name, key);
      secrets[secretKey] = value;
      all[key] = `\${secret:${secretKey}}`;
    }
    return Object.keys(all).length ? all : undefined;
  };
  const config: Record<string, unknown> =
    form.kind === 'remote'
      ? {
          url: (form.url ?? '').trim(),
          ...(form.type ? { type: form.type } : {}),
          headers: withSecrets(pairs(form.headers, ':', 'headers'), pairs(form.secretHeaders, ':', 'secret headers')),
        }
      : {
          command: (form.command ?? '').trim(),
          args: lines(form.args),
          ...(form.cwd?.trim() ? { cwd: form.cwd.trim() } : {}),
          env: withSecrets(pairs(form.env, '=', 'env'), pairs(form.secretEnv, '=', 'secret env')),
        };
  const optional: Record<string, unknown> = {
    restart: form.restart || undefined,
    maxRestarts: number(form.maxRestarts),
    timeout: number(form.timeout),
    idleTimeoutSec: number(form.idleTimeoutSec),
    isolation: form.isolation || undefined,
    lazy: form.lazy === 'true' || undefined,
    logFile: form.logFile === 'true' || undefined,
    disabled: form.disabled === 'true' || undefined,
  };
  for (const [key, value] of Object.entries({ ...config, ...optional })) {
    if (value === undefined) delete config[key];
    else config[key] = value;
  }
  return { name, config, secrets };
}
