// Optional vitest globalSetup: prints the fault & security figures once, after every test
// file has finished (each fault/security file also prints the totals so far when it ends).
// Register with `globalSetup: ['test/support/fault-global-setup.ts']` in vitest.config.ts.
// It runs in the vitest main process, whose pid keys the run's report directory.
import { readAll, summary } from './fault-report.js';

export default function setup(): () => void {
  return () => {
    if (readAll(process.pid).length > 0) console.log(`\n${summary(process.pid)}\n`);
  };
}
