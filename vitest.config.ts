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
    // @actions/workflow-parser imports its JSON schema without an import attribute (it is built
    // for bundlers); inlined, vite's transform loads it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
