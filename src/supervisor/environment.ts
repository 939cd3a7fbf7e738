/**
 * Variables a child inherits from us; everything else must be given in the server's `env`, so that our
 * own secrets (MCP_ORCH_SECRET_KEY, tokens) do not leak into every server. The list follows the MCP SDK's
 * getDefaultEnvironment, plus locale, temp dir and proxy/CA settings that npx and uvx need.
 */
// Stryker disable ArrayDeclaration,StringLiteral: the tests run on Linux, where this list is not used
const WINDOWS_ENV_VARS = [
  'APPDATA',
  'HOMEDRIVE',
  'HOMEPATH',
  'LOCALAPPDATA',
  'PATH',
  'PROCESSOR_ARCHITECTURE',
  'SYSTEMDRIVE',
  'SYSTEMROOT',
  'TEMP',
  'TMP',
  'USERNAME',
  'USERPROFILE',
  'PROGRAMFILES',
];
// Stryker restore ArrayDeclaration,StringLiteral
const POSIX_ENV_VARS = [
  'HOME',
  'LOGNAME',
  'PATH',
  'SHELL',
  'TERM',
  'USER',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TMPDIR',
  'TZ',
  'XDG_RUNTIME_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];
// Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: the tests run on Linux
const INHERITED_ENV_VARS = process.platform === 'win32' ? WINDOWS_ENV_VARS : POSIX_ENV_VARS;

export function defaultEnvironment(source: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV_VARS) {
    const value = source[key];
    // Values starting with "()" are exported shell functions, a known injection vector.
    if (value !== undefined && !value.startsWith('()')) env[key] = value;
  }
  return env;
}
