import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores on CI: forks isolate native handles and SQLite locks between files.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
