// The web room's HTTP side: the built page and its assets (dist/web), served from a fixed
// list of names (a request path is looked up in a table, never joined to a directory, so no
// traversal is possible), with the same security headers on every answer, errors included.
import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const NOT_BUILT = 'web assets are not built: run npm run build\n';

/** The machines with a diagram under /viz/ (visualizations/*.svg, copied by the web build). */
export const VIZ_MACHINES = ['supervisor', 'connection', 'session', 'turn', 'approval'] as const;

interface Asset {
  file: string;
  type: string;
  cache: string;
}

const page: Asset = { file: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-store' };
// Asset names carry no content hash: revalidate every time rather than serve a stale app.
const ROUTES: ReadonlyMap<string, Asset> = new Map<string, Asset>([
  ['/', page],
  ['/index.html', page],
  ['/assets/app.js', { file: 'app.js', type: 'text/javascript; charset=utf-8', cache: 'no-cache' }],
  ['/assets/app.css', { file: 'app.css', type: 'text/css; charset=utf-8', cache: 'no-cache' }],
  ...VIZ_MACHINES.map((m): [string, Asset] => [`/viz/${m}.svg`, { file: `viz/${m}.svg`, type: 'image/svg+xml', cache: 'no-cache' }]),
]);

/**
 * Where the build puts the page: `dist/web` of the package. This module runs from
 * `src/web/` (tsx) or from `dist/src/web/` (compiled); both lead to the same directory.
 */
export function defaultWebDir(moduleUrl: string = import.meta.url): string {
  const root = path.resolve(path.dirname(fileURLToPath(moduleUrl)), '..', '..');
  return path.basename(root) === 'dist' ? path.join(root, 'web') : path.join(root, 'dist', 'web');
}

export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface StaticOptions {
  /** Default: `defaultWebDir()`. */
  dir?: string;
  log?: Logger;
}

/** The request handler for the room server's HTTP port (WebSocket upgrades never reach it). */
export function createStaticHandler(o: StaticOptions = {}): StaticHandler {
  const dir = o.dir ?? defaultWebDir();
  // One entry per fixed file name: bounded by construction. Re-read when the file changes.
  const cache = new Map<string, { mtimeMs: number; size: number; body: Buffer }>();

  const load = async (file: string): Promise<Buffer | undefined> => {
    const full = path.join(dir, file);
    try {
      const s = await stat(full);
      if (!s.isFile()) return undefined;
      const hit = cache.get(file);
      if (hit && hit.mtimeMs === s.mtimeMs && hit.size === s.size) return hit.body;
      const body = await readFile(full);
      cache.set(file, { mtimeMs: s.mtimeMs, size: s.size, body });
      return body;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const built = async (): Promise<boolean> => (await load(page.file)) !== undefined;

  const answer = (req: IncomingMessage, res: ServerResponse, status: number, headers: Record<string, string>, body: Buffer | string): void => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-length': String(buf.length) });
    res.end(req.method === 'HEAD' ? undefined : buf);
  };
  const text = (req: IncomingMessage, res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}) =>
    answer(req, res, status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra }, body);

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(req, res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    const url = req.url ?? '/';
    const pathname = url.split(/[?#]/, 1)[0]!;
    const asset = ROUTES.get(pathname);
    if (!asset) return text(req, res, 404, 'not found\n');
    const body = await load(asset.file);
    if (body) return answer(req, res, 200, { 'content-type': asset.type, 'cache-control': asset.cache }, body);
    if (!(await built())) return text(req, res, 503, NOT_BUILT);
    return text(req, res, 404, 'not found\n');
  };

  return (req, res) => {
    serve(req, res).catch((err: unknown) => {
      o.log?.error({ err: (err as Error).message }, 'web asset could not be served');
      if (!res.headersSent) text(req, res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}
