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
  },
});
