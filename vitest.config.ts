import { defineConfig } from 'vitest/config';

export default defineConfig({
  // One copy of graphql for our code, Pothos and Yoga alike (otherwise errors get masked and
  // schema utilities throw "from another module or realm").
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    // Migrates one database per run; each test file's harness starts from a copy of it.
    globalSetup: ['test/migrated-database.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
