// The web room's HTTP handler over a real HTTP server: the fixed routes, content types,
// security headers on every answer (errors too), HEAD, 404/405, and 503 before a build.
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONTENT_SECURITY_POLICY, createStaticHandler, defaultWebDir, NOT_BUILT, VIZ_MACHINES } from '../../../src/web/static.js';

const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function webDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-web-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'viz'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>room</title><script type="module" src="/assets/app.js"></script>');
  writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
  writeFileSync(path.join(dir, 'app.css'), 'body{}');
  for (const m of VIZ_MACHINES) writeFileSync(path.join(dir, 'viz', `${m}.svg`), `<svg><title>${m}</title></svg>`);
  // A file beside the assets that no route names: it must never be served.
  writeFileSync(path.join(dir, 'secret.txt'), 'not for the web');
  return dir;
}

async function serve(dir: string): Promise<string> {
  const server: Server = createServer(createStaticHandler({ dir }));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A raw request (fetch would normalize `..` away before sending). */
function raw(base: string, method: string, pathname: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method, path: pathname }, (res) => {
      let body = '';
      res.on('data', (d) => (body += String(d)));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const expectSecurityHeaders = (h: Record<string, string | string[] | undefined>) => {
  expect(h['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(h['x-content-type-options']).toBe('nosniff');
  expect(h['referrer-policy']).toBe('no-referrer');
};

describe('web static handler', () => {
  it('serves the page, the assets and the diagrams with their types and the security headers', async () => {
    const base = await serve(webDir());
    for (const p of ['/', '/index.html', '/?room=lab']) {
      const r = await raw(base, 'GET', p);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-store');
      expect(r.body).toContain('<title>room</title>');
      expectSecurityHeaders(r.headers);
    }
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    const js = await raw(base, 'GET', '/assets/app.js');
    expect([js.status, js.headers['content-type'], js.body]).toEqual([200, 'text/javascript; charset=utf-8', 'console.log(1)']);
    expectSecurityHeaders(js.headers);
    const css = await raw(base, 'GET', '/assets/app.css');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css; charset=utf-8']);
    for (const m of VIZ_MACHINES) {
      const svg = await raw(base, 'GET', `/viz/${m}.svg`);
      expect([svg.status, svg.headers['content-type'], svg.body]).toEqual([200, 'image/svg+xml', `<svg><title>${m}</title></svg>`]);
    }
  });

  it('HEAD answers the headers and the length without a body', async () => {
    const base = await serve(webDir());
    const r = await raw(base, 'HEAD', '/assets/app.js');
    expect(r.status).toBe(200);
    expect(r.body).toBe('');
    expect(r.headers['content-length']).toBe(String('console.log(1)'.length));
    expectSecurityHeaders(r.headers);
  });

  it('anything not in the table is 404 (traversal included); other methods 405; errors carry the headers', async () => {
    const base = await serve(webDir());
    for (const p of ['/secret.txt', '/../secret.txt', '/assets/../secret.txt', '/viz/../../etc/passwd', '/viz/other.svg', '/assets/app.js.map', '/%2e%2e/secret.txt', '/index.html/']) {
      const r = await raw(base, 'GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('not for the web');
      expectSecurityHeaders(r.headers);
    }
    for (const m of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await raw(base, m, '/');
      expect(r.status, m).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
      expectSecurityHeaders(r.headers);
    }
  });

  it('before the web build: 503 with the remedy, same headers', async () => {
    const missing = path.join(tmpdir(), `sb-web-missing-${process.pid}-${Date.now()}`);
    const base = await serve(missing);
    for (const p of ['/', '/assets/app.js', '/viz/turn.svg']) {
      const r = await raw(base, 'GET', p);
      expect(r.status, p).toBe(503);
      expect(r.body).toBe(NOT_BUILT);
      expect(r.body).toBe('web assets are not built: run npm run build\n');
      expectSecurityHeaders(r.headers);
    }
    expect((await raw(base, 'GET', '/nope')).status).toBe(404);
  });

  it('a rebuilt file is served fresh (cached by mtime and size)', async () => {
    const dir = webDir();
    const base = await serve(dir);
    expect((await raw(base, 'GET', '/assets/app.js')).body).toBe('console.log(1)');
    writeFileSync(path.join(dir, 'app.js'), 'console.log("rebuilt")');
    expect((await raw(base, 'GET', '/assets/app.js')).body).toBe('console.log("rebuilt")');
  });

  it('finds dist/web both from src/web (tsx) and from dist/src/web (compiled)', () => {
    const repo = path.resolve('/opt/sb');
    expect(defaultWebDir(pathToFileURL(path.join(repo, 'src/web/static.ts')).href)).toBe(path.join(repo, 'dist/web'));
    expect(defaultWebDir(pathToFileURL(path.join(repo, 'dist/src/web/static.js')).href)).toBe(path.join(repo, 'dist/web'));
  });
});
