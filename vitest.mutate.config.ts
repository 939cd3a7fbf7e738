import { defineConfig } from 'vitest/config';

/** The unit tests alone, for mutation testing (stryker.config.mjs): no built CLI, no child daemons. */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
