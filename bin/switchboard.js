#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run by `npm ci` via prepare).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('switchboard: dist/ is missing; run `npm run build` (npm ci does it for you).');
  process.exit(70);
}
const { main } = await import(compiled.href);
process.exitCode = await main(process.argv);
