// `npm run build`: the postgres migrations are plain SQL files read at run time next to the
// compiled module (src/storage/postgres/migrate.ts); tsc does not copy them, so this does.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const from = fileURLToPath(new URL('../src/storage/postgres/migrations/', import.meta.url));
const to = fileURLToPath(new URL('../dist/src/storage/postgres/migrations/', import.meta.url));
// A migration removed from the source must not linger in dist.
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
