// What the management API added for the web console: `requests_per_second`
// in the model JSON, GET /api/v1/access, and the console served at `/` by
// `modelhost serve`'s fallback.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { copyVersion } from './helpers.js';

const TOKEN = 'console-api-token';
const quiet: Logger = { info() {}, warn() {}, error() {} };

let tmp: string;
let withToken: RunningServer;
let withoutToken: RunningServer;

async function start(adminToken?: string): Promise<RunningServer> {
  const dir = fs.mkdtempSync(path.join(tmp, 'models-'));
  copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(dir, 'hp/1'));
  return startServer({
    models: { kind: 'models_dir', dir, pollSeconds: 0 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    registry: { path: ':memory:', modelsDir: dir, adminToken },
    log: quiet,
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-console-api-'));
  // allSettled, not all: if one start fails, afterAll must still stop the other.
  const [a, b] = await Promise.allSettled([start(TOKEN), start()]);
  if (a.status === 'fulfilled') withToken = a.value;
  if (b.status === 'fulfilled') withoutToken = b.value;
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
});
afterAll(async () => {
  await Promise.all([withToken?.stop(), withoutToken?.stop()]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('requests_per_second', () => {
  it('is 0 before traffic and counts inference requests over the last minute', async () => {
    const api = request(withoutToken.url);
    expect((await api.get('/api/v1/models/hp')).body.requests_per_second).toBe(0);
    for (let i = 0; i < 6; i++) {
      const res = await api.post('/v1/models/hp:predict').send('{"instances": [1.0]}');
      expect(res.status).toBe(200);
    }
    await api.post('/v1/models/hp:predict').send('{"instances": ["not a number"]}'); // refused, still a request
    await api.get('/v1/models/hp'); // status: not inference
    await api.get('/v1/models/hp/metadata');
    const model = (await api.get('/api/v1/models/hp')).body;
    expect(model.requests_per_second).toBeCloseTo(7 / 60, 3);
    const listed = (await api.get('/api/v1/models')).body.models.find((m: { name: string }) => m.name === 'hp');
    expect(listed.requests_per_second).toBe(model.requests_per_second);
  });
});

describe('GET /api/v1/access', () => {
  it('tells whether a token is needed and whether the one sent is right, never refusing', async () => {
    const api = request(withToken.url);
    expect((await api.get('/api/v1/access')).body).toEqual({ admin_token_required: true, changes_allowed: false });
    expect((await api.get('/api/v1/access').set('Authorization', 'Bearer wrong')).body).toEqual({ admin_token_required: true, changes_allowed: false });
    const ok = await api.get('/api/v1/access').set('Authorization', `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.headers['cache-control']).toBe('no-store');
    expect(ok.body).toEqual({ admin_token_required: true, changes_allowed: true });
  });

  it('with no token set, allows changes from loopback', async () => {
    expect((await request(withoutToken.url).get('/api/v1/access')).body).toEqual({ admin_token_required: false, changes_allowed: true });
  });
});

describe('the console at /', () => {
  it('is served by modelhost serve next to the APIs', async () => {
    const res = await request(withToken.url).get('/').set('Accept', 'text/html');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    // Built: the console's index.html; not built: the page saying how to build it.
    if (fs.existsSync(path.resolve(import.meta.dirname, '../../dist/web/index.html'))) {
      expect(res.status).toBe(200);
      expect(res.text).toContain('<div id="app">');
    } else {
      expect(res.status).toBe(503);
      expect(res.text).toContain('npm run build');
    }
    const api = await request(withToken.url).get('/api/v1/nothing');
    expect(api.status).toBe(404);
    expect(api.body.code).toBe('NOT_FOUND');
  });
});
