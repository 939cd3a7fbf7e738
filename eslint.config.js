// ESLint flat config. Besides the recommended rules it holds the design's import direction
// (cli -> daemon -> {http -> gateway, auth, audit} -> {upstream, supervisor, store} -> {config, errors, log})
// and keeps the console and process.exit inside src/cli.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Node's globals, for the plain JavaScript files (fixtures, bench, bin). */
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'globalThis',
    'performance',
    'process',
    'queueMicrotask',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

/** Patterns for imports of a sibling room of src/, from any depth (`../http/app.js`, `../../daemon/index.js`). */
const room = (name) => [`**/${name}`, `**/${name}.js`, `**/${name}/**`];

/** A browser's globals, for the dashboard's one script (src/web/static/app.js) and the libraries it uses. */
const browserGlobals = Object.fromEntries(
  ['window', 'document', 'navigator', 'getComputedStyle', 'setTimeout', 'clearTimeout', 'console', 'uPlot', 'htmx'].map((name) => [
    name,
    'readonly',
  ]),
);

/** `_`-prefixed names mark what is unused on purpose (positional parameters, destructured leftovers). */
const unusedVars = {
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
  ignoreRestSiblings: true,
};

const sdk = ['@modelcontextprotocol/sdk', '@modelcontextprotocol/sdk/**'];

const noDaemon = {
  group: room('daemon'),
  message: 'daemon/ is the composition root; only src/cli and src/main.ts import it.',
};

/** Co-located unit tests set up what their module needs (a store, a fixture): the layers bind the product only. */
const TESTS = ['src/**/*.test.{ts,tsx}'];

/** One `no-restricted-imports` entry; the daemon rule is always part of it, since a later config replaces an earlier one. */
const restrictImports = (...groups) => ['error', { patterns: [noDaemon, ...groups] }];

export default defineConfig(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'bench/results/',
      '.mcp-orch/',
      '.stryker-tmp*/',
      'reports/',
      'test/conformance/conformance-server*.mjs',
    ],
  },

  js.configs.recommended,

  {
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { ecmaVersion: 'latest', sourceType: 'module', globals: nodeGlobals },
  },

  {
    files: ['src/web/static/**/*.js'],
    languageOptions: { ecmaVersion: 2020, sourceType: 'script', globals: browserGlobals },
  },

  // TypeScript: src/, test/, bench/ and the root's *.ts (tsup.config.ts); the dashboard's pages are .tsx.
  ...tseslint.configs.recommended.map((config) => ({ ...config, files: ['**/*.{ts,tsx,mts,cts}'] })),

  {
    files: ['**/*.{ts,tsx,mts,cts}'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', unusedVars],
    },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    rules: {
      'no-unused-vars': ['error', unusedVars],
    },
  },

  // Import direction. Everything in src/ except cli/ and main.ts stays away from daemon/.
  {
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/cli/**', 'src/main.ts'],
    rules: { 'no-restricted-imports': restrictImports() },
  },
  {
    files: ['src/supervisor/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports(
        {
          group: [...room('http'), ...room('gateway'), ...room('cli'), ...room('store')],
          message: 'the supervisor manages processes only: no HTTP, gateway, store or CLI.',
        },
        { group: sdk, message: 'the supervisor does not speak MCP; upstream/ owns the SDK clients.' },
      ),
    },
  },
  {
    files: ['src/gateway/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports(
        { group: ['hono', 'hono/**', '@hono/**'], message: 'the gateway takes web-standard Request/Response; only http/ imports Hono.' },
        { group: [...room('http'), ...room('cli')], message: 'the gateway sits below http/ and cli/.' },
      ),
    },
  },
  {
    files: ['src/upstream/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('gateway'), ...room('http'), ...room('cli')],
        message: 'upstream/ sits below gateway/, http/ and cli/.',
      }),
    },
  },
  {
    files: ['src/http/**/*.{ts,tsx}'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('cli'), ...room('store')],
        message: 'http/ sits below cli/; it reaches the store through interfaces the daemon passes in.',
      }),
    },
  },
  {
    files: ['src/metrics/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('http'), ...room('cli'), ...room('store')],
        message: 'metrics/ reads the pool and hears the gateway; it serves no HTTP and keeps nothing.',
      }),
    },
  },
  {
    // The rooms that know nothing of MCP or of the layers above them.
    files: ['src/store/**/*.ts', 'src/auth/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports(
        {
          group: [
            ...room('http'),
            ...room('gateway'),
            ...room('upstream'),
            ...room('supervisor'),
            ...room('cli'),
            ...room('web'),
            ...room('batch'),
          ],
          message: 'store/ and auth/ sit below everything that speaks MCP or HTTP.',
        },
        { group: sdk, message: 'store/ and auth/ know nothing of MCP.' },
      ),
    },
  },
  {
    files: ['src/pinning/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('http'), ...room('gateway'), ...room('cli')],
        message: 'pinning/ compares what servers list with the store; the daemon wires it to the gateway.',
      }),
    },
  },
  {
    files: ['src/alerts/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('http'), ...room('gateway'), ...room('cli'), ...room('store')],
        message: 'alerts/ hears the pool and the audit and posts to webhooks; it serves nothing and keeps nothing.',
      }),
    },
  },
  {
    files: ['src/deploy/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports(
        {
          group: [...room('http'), ...room('gateway'), ...room('upstream'), ...room('supervisor'), ...room('store'), ...room('cli')],
          message: 'deploy/ builds and records deployments; the daemon gives it what runs them (DeployHost) and the store (DeploySecrets).',
        },
        { group: sdk, message: 'deploy/ knows nothing of MCP.' },
      ),
    },
  },
  {
    files: ['src/audit/**/*.ts', 'src/web/**/*.{ts,tsx}', 'src/batch/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        group: [...room('cli')],
        message: 'only the daemon wires the rooms together; cli/ is above them all.',
      }),
    },
  },
  {
    files: ['src/config/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': restrictImports({
        // Any relative import leaving config/, except ../errors.js and ../log.js.
        regex: '^(\\.\\./)+(?!\\.\\./)(?!(errors|log)(\\.js)?$)',
        message: 'config/ depends only on errors.ts, log.ts and libraries.',
      }),
    },
  },

  // No import cycles: the rooms import one way.
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },

  // The console and process.exit belong to the CLI.
  {
    files: ['src/**/*.{ts,tsx}'],
    ignores: ['src/cli/**', 'src/web/static/**'],
    rules: {
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'only src/cli ends the process; throw an OrchError or return.' },
      ],
    },
  },
);
