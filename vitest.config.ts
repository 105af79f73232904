import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn real app-servers; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    // Prints the fault & security figures once, after every file has finished.
    globalSetup: ['test/support/fault-global-setup.ts'],
  },
});
