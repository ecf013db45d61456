import { availableParallelism } from 'node:os';
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
    // A worker process imports the app once and runs file after file, rather than a new process per file
    // (that import was ~1.4 s of CPU per file). Safe while no module keeps state a file could leave behind:
    // every harness has its own database copy, key ring and app; no mocks, no fake timers, and a test
    // that changes process.env restores it.
    isolate: false,
    // One worker per core: vitest's default leaves a core to its main process, which has next to nothing
    // to do here (on two cores that meant a single worker).
    maxWorkers: availableParallelism(),
  },
});
