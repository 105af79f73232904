// Builds the browser app (dist/web) before a browser test when it is missing or older than
// its sources, with the build script itself (scripts/build-web.ts). Two test workers may
// ask at once: a lock directory makes the second wait for the first instead of racing it.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const WEB_DIST = path.join(ROOT, 'dist', 'web');
const SOURCES = [path.join(ROOT, 'src', 'web', 'app'), path.join(ROOT, 'scripts', 'build-web.ts'), path.join(ROOT, 'visualizations')];
const OUTPUTS = ['index.html', 'app.js', 'app.css'];
const LOCK = path.join(ROOT, 'dist', '.web-build.lock');
const STALE_LOCK_MS = 120_000;

function newestMtime(p: string): number {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

/** Missing outputs, or sources changed after the oldest output was written. */
export function webBuildStale(): boolean {
  const outputs = OUTPUTS.map((f) => path.join(WEB_DIST, f));
  if (!outputs.every((f) => existsSync(f))) return true;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return SOURCES.some((s) => newestMtime(s) > built);
}

function tryLock(): boolean {
  mkdirSync(path.dirname(LOCK), { recursive: true });
  try {
    mkdirSync(LOCK);
    return true;
  } catch {
    // A lock left by a killed run is taken over after a while.
    const held = statSync(LOCK, { throwIfNoEntry: false });
    if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
    return false;
  }
}

export async function ensureWebBuilt(): Promise<void> {
  const deadline = Date.now() + STALE_LOCK_MS + 30_000;
  while (webBuildStale()) {
    if (tryLock()) {
      try {
        if (webBuildStale()) {
          const { buildWeb } = await import('../../scripts/build-web.js');
          await buildWeb();
        }
      } finally {
        rmSync(LOCK, { recursive: true, force: true });
      }
      if (webBuildStale()) throw new Error(`buildWeb() ran but ${WEB_DIST} is still missing files or older than src/web/app`);
      return;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for another web build (lock ${LOCK})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
