import { defineConfig } from 'vitest/config';

// One project per kind of test, so a developer can run one group:
//   npx vitest run --project unit | integration | fault | security
// `npm test` runs them all.
const kinds = ['unit', 'integration', 'fault', 'security'] as const;

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn real app-servers; two cores, so keep parallelism modest.
    pool: 'forks',
    maxWorkers: 2,
    // Prints the fault & security figures once, after every file has finished.
    globalSetup: ['test/support/fault-global-setup.ts'],
    projects: kinds.map((name) => ({ extends: true, test: { name, include: [`test/${name}/**/*.test.ts`] } })),
  },
});
