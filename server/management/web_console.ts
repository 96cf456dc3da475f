/**
 * Serves the built web console (web/, built by `npm run build` into
 * dist/web) at `/` from the management app, the HTTP server's fallback:
 *
 *  - files of the build as they are (hashed `/assets/*` cached for a year,
 *    everything else revalidated);
 *  - `index.html` for `/` and for the console's own client-side routes
 *    (`/models`, `/models/f_mnist`), which never collide with /api, /v1 or
 *    /monitoring; other paths fall through (the management app's JSON 404);
 *  - a 503 page saying to run `npm run build` when there is no build.
 *
 * The console talks to the server only through /api/v1 and /v1, so the
 * Content-Security-Policy allows nothing but this origin (no CDN, no inline
 * script).
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { packageRoot } from '../../runtime/package_root.js';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's client-side routes (web/src/router.ts): `/`, `/models`, `/models/{name}`, `/models/{name}/versions/{n}`. */
const CONSOLE_ROUTE = /^\/(?:index\.html|models(?:\/[^/]*(?:\/versions\/\d+)?)?\/?)?$/;

/** Where `npm run build` writes the console: {package root}/dist/web. */
export function defaultConsoleDir(): string {
  let root: string;
  try {
    root = packageRoot();
  } catch {
    root = process.cwd(); // no modelhost package.json above this file
  }
  return path.join(root, 'dist', 'web');
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>modelhost: console not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The web console is not built</h1>
<p>Run <code>npm run build</code> (or <code>npm install</code> / <code>npm start</code>, which build it) in the modelhost folder, then reload this page.</p>
<p>The APIs work without it: TensorFlow Serving's REST API under <a href="/v1/models">/v1/</a>, the management API under <a href="/api/v1/models">/api/v1/</a>.</p>
</body></html>
`;

function isConsoleRoute(req: Request): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && CONSOLE_ROUTE.test(req.path);
}

const INDEX_HEADERS = {
  'Cache-Control': 'no-cache',
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
};

/** The console's routes; `dir` is the vite build (default: dist/web of this package). */
export function webConsole(dir: string = defaultConsoleDir()): Router {
  const router = Router();
  const index = path.join(dir, 'index.html');

  router.use(
    express.static(dir, {
      index: false,
      redirect: false,
      setHeaders(res, file) {
        const rel = path.relative(dir, file).split(path.sep).join('/');
        if (rel.endsWith('.html')) {
          // Pages (/index.html) get exactly the headers of `/` and the console routes.
          for (const [name, value] of Object.entries(INDEX_HEADERS)) res.setHeader(name, value);
          return;
        }
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Cache-Control', rel.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );

  router.use((req: Request, res: Response, next: NextFunction) => {
    if (!isConsoleRoute(req)) return next();
    fs.readFile(index, (err, html) => {
      if (err) {
        res.status(503).type('html').set('Cache-Control', 'no-store').send(NOT_BUILT);
        return;
      }
      res.status(200).type('html').set(INDEX_HEADERS).send(html);
    });
  });
  return router;
}
