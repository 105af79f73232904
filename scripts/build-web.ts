// `npm run build:web`: bundle the web room's browser app (src/web/app) into dist/web with
// esbuild: one minified ES module, one stylesheet (ours + diff2html's), the page, and the
// machine diagrams from visualizations/. Everything is local: the page loads nothing else.
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const appDir = join(root, 'src/web/app');

/** The diagrams the inspector shows (one per machine), as `visualize` writes them. */
export const VIZ_MACHINES = ['supervisor', 'connection', 'session', 'turn', 'approval'] as const;

export interface BuildWebOptions {
  /** Where the page goes (default: dist/web of the repo). */
  outDir?: string;
  /** Minify the bundle (default true). */
  minify?: boolean;
}

export async function buildWeb(opts: BuildWebOptions = {}): Promise<{ outDir: string; files: string[] }> {
  const outDir = resolve(opts.outDir ?? join(root, 'dist/web'));
  const minify = opts.minify ?? true;
  // Stale files from an older build must not be served next to the new ones.
  await rm(outDir, { recursive: true, force: true });
  await mkdir(join(outDir, 'viz'), { recursive: true });
  const common = { bundle: true, minify, logLevel: 'warning', legalComments: 'eof', absWorkingDir: root } as const;
  await Promise.all([
    build({
      ...common,
      entryPoints: [join(appDir, 'main.tsx')],
      outfile: join(outDir, 'app.js'),
      format: 'esm',
      platform: 'browser',
      target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
      jsx: 'automatic',
      jsxImportSource: 'preact',
      // Written for debugging, not referenced from app.js: the room server serves only the page's own assets.
      sourcemap: 'external',
      define: { 'process.env.NODE_ENV': '"production"' },
    }),
    build({
      ...common,
      entryPoints: [join(appDir, 'styles/app.css')],
      outfile: join(outDir, 'app.css'),
      loader: { '.css': 'css' },
    }),
  ]);
  await copyFile(join(appDir, 'index.html'), join(outDir, 'index.html'));
  for (const m of VIZ_MACHINES) await copyFile(join(root, 'visualizations', `${m}.svg`), join(outDir, 'viz', `${m}.svg`));
  const files = (await readdir(outDir, { recursive: true })).map(String).sort();
  return { outDir, files };
}

// Run when executed (`tsx scripts/build-web.ts`), not when imported by tests.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { outDir, files } = await buildWeb();
  console.log(`web app built into ${outDir}: ${files.join(', ')}`);
}
