import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests talk to a real Redis and real HTTP servers; outage and crash tests wait on reconnects.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The CI machine has two cores; more forks only fight over them.
    maxWorkers: 2,
    env: { LOG_LEVEL: 'silent' },
    // `npm run test:coverage` (and CI on the newest Node line). Counts only code run inside the test
    // processes: the service processes that the e2e tests start are not measured, so the floor sits
    // a little under the in-process figure (78 % of lines, December 2026) to catch a real drop.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary'],
      thresholds: { lines: 75, statements: 72, functions: 72, branches: 66 },
    },
  },
});
