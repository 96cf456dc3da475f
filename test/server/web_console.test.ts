// Serving the built web console from the management app's fallback
// (server/management/web_console.ts): files, client-side routes, caching,
// CSP, and a clear answer when the console is not built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConsoleDir, webConsole } from '../../server/management/web_console.js';

let tmp: string;

function appFor(dir: string) {
  const app = express();
  app.use(webConsole(dir));
  app.use((_req, res) => {
    res.status(404).json({ error: 'fell through' });
  });
  return app;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-console-static-'));
  fs.mkdirSync(path.join(tmp, 'build/assets'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'build/index.html'), '<!doctype html><title>console</title><script type="module" src="/assets/index-abc123.js"></script>');
  fs.writeFileSync(path.join(tmp, 'build/assets/index-abc123.js'), 'console.log("hi")');
  fs.writeFileSync(path.join(tmp, 'build/assets/index-abc123.css'), 'body{}');
  fs.writeFileSync(path.join(tmp, 'build/favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('web console static files', () => {
  it('answers index.html for / and the console routes, with a strict CSP and no caching', async () => {
    const app = appFor(path.join(tmp, 'build'));
    for (const p of ['/', '/models', '/models/', '/models/f_mnist', '/models/my.model-2/', '/models/f_mnist/versions/3', '/models/f_mnist/versions/12/', '/index.html']) {
      const res = await request(app).get(p).set('Accept', 'text/html');
      expect(res.status, p).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<title>console</title>');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('gives /index.html the same page headers as /', async () => {
    const app = appFor(path.join(tmp, 'build'));
    const root = await request(app).get('/');
    const file = await request(app).get('/index.html');
    expect(file.status).toBe(200);
    for (const name of ['cache-control', 'content-security-policy', 'x-content-type-options', 'referrer-policy']) {
      expect(root.headers[name], name).toBeDefined();
      expect(file.headers[name], name).toBe(root.headers[name]);
    }
    expect(file.headers['referrer-policy']).toBe('same-origin');
  });

  it('serves hashed assets for a year, with their content types', async () => {
    const app = appFor(path.join(tmp, 'build'));
    const js = await request(app).get('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^(text|application)\/javascript/);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(js.headers['x-content-type-options']).toBe('nosniff');
    const css = await request(app).get('/assets/index-abc123.css');
    expect(css.headers['content-type']).toMatch(/^text\/css/);
    const icon = await request(app).get('/favicon.svg');
    expect(icon.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(icon.headers['cache-control']).toBe('no-cache');
  });

  it('leaves API paths, unknown paths, missing assets and writes to the next handler', async () => {
    const app = appFor(path.join(tmp, 'build'));
    for (const p of ['/api', '/api/v2/models', '/monitoring/prometheus/metrics', '/assets/missing.js', '/models/a/b', '/models/a/versions/x', '/models/a/versions/1/diff', '/../package.json', '/other']) {
      const res = await request(app).get(p).set('Accept', 'text/html');
      expect(res.status, p).toBe(404);
      expect(res.body, p).toEqual({ error: 'fell through' });
    }
    expect((await request(app).post('/models/f_mnist')).status).toBe(404);
  });

  it('says to run npm run build when the console is not built', async () => {
    const app = appFor(path.join(tmp, 'missing'));
    const res = await request(app).get('/');
    expect(res.status).toBe(503);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.text).toContain('npm run build');
    expect((await request(app).get('/models/f_mnist')).status).toBe(503);
    expect((await request(app).get('/api/v1/models')).status).toBe(404);
  });

  it('finds the build at dist/web of the package, from the sources or from dist/', () => {
    expect(defaultConsoleDir()).toBe(path.resolve(import.meta.dirname, '../../dist/web'));
  });
});
