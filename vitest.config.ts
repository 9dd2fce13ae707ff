import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (for its one-line summary) through the environment, so that the
// same `npm run check` runs locally and in CI.
const jsonReport = process.env.VITEST_JSON_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real processes and servers; two cores are all we have.
    pool: 'forks',
    maxWorkers: 2,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
