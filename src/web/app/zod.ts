// zod for the browser: the tree-shakable `zod/mini` build (the classic build drags every
// locale into the bundle), with jitless set before any schema is built — the page's CSP has
// no 'unsafe-eval', and a probing `new Function` would be reported as a violation.
// Modules with schemas import this first: `import './zod.js'; import * as z from 'zod/mini';`
// (a namespace re-exported from here would defeat tree shaking).
import { config } from 'zod/mini';

config({ jitless: true });
