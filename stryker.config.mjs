// Mutation testing (`npm run mutate`, on demand, not in CI): how many small changes to the code the
// tests notice. Only the unit tests (src/**/*.test.ts) run against mutants: the end-to-end tests
// spawn the built CLI from dist/, which a mutant in src/ does not reach, so they can kill nothing
// here. One folder at a time: `npm run mutate -- --mutate 'src/config/**/*.ts,!src/**/*.test.ts'`.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  plugins: ['@stryker-mutator/vitest-runner'],
  mutate: ['src/gateway/**/*.ts', 'src/upstream/**/*.ts', 'src/supervisor/**/*.ts', 'src/config/**/*.ts', '!src/**/*.test.ts'],
  checkers: [],
  coverageAnalysis: 'perTest',
  // Two shared cores: one mutant at a time per core at most.
  concurrency: 2,
  timeoutMS: 10_000,
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
