// The probe endpoints Kubernetes uses (deploy/): /healthz answers while the
// process serves HTTP; /readyz answers 200 once every configured model has an
// AVAILABLE version, else 503 naming the models that do not and why; a ready
// server leaves service only when a model it served loses its last version
// (a model added later is "pending"), and on a graceful stop.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { MAX_LISTED_MODELS, ReadinessTracker } from '../../server/health.js';
import { createHttpServer } from '../../server/http_server.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { copyVersion, FIXTURES, waitFor } from './helpers.js';

let tmp: string;
let server: RunningServer | undefined;
const log: Logger = { info: () => {}, warn: () => {}, error: () => {} };

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-health-'));
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** True when a new TCP connection to `port` is refused. */
const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });

const config = (models: Record<string, string>) =>
  `model_config_list {\n${Object.entries(models)
    .map(([name, dir]) => `  config { name: "${name}" base_path: "${dir}" model_platform: "tensorflow" }`)
    .join('\n')}\n}\n`;

async function serveConfig(models: Record<string, string>, extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<{ server: RunningServer; file: string }> {
  const file = path.join(tmp, 'models.config');
  fs.writeFileSync(file, config(models));
  server = await startServer({
    models: { kind: 'config_file', file, pollSeconds: 0.1 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.1,
    log,
    ...extra,
  });
  return { server, file };
}

describe('/healthz', () => {
  it('answers 200 {"live":true} to GET, headers only to HEAD, 405 naming the allowed methods otherwise', async () => {
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
    const { server } = await serveConfig({ half: 'half' });
    const get = await request(server.http.server).get('/healthz');
    expect(get.status).toBe(200);
    expect(get.body).toEqual({ live: true });
    expect(get.headers['cache-control']).toBe('no-store');
    const head = await request(server.http.server).head('/healthz');
    expect(head.status).toBe(200);
    expect(head.text ?? '').toBe('');
    const post = await request(server.http.server).post('/healthz').send({});
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.body.error).toContain('POST is not allowed on /healthz');
  });
});

describe('/readyz', () => {
  it('is 200 listing the models when every configured model has an AVAILABLE version', async () => {
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'matrix/7'));
    const { server } = await serveConfig({ half: 'half', matrix: 'matrix' });
    const res = await request(server.http.server).get('/readyz');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ ready: true, models: ['half', 'matrix'] });
  });

  it('is 503 naming each model without an AVAILABLE version and why, and turns 200 once they serve', async () => {
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
    // A legacy SessionBundle: its load fails, so the model has a version in END with the error.
    copyVersion('bad_half_plus_two/00000123', path.join(tmp, 'bad/1'));
    fs.mkdirSync(path.join(tmp, 'empty'));
    const { server, file } = await serveConfig({ half: 'half', bad: 'bad', empty: 'empty' });

    const res = await request(server.http.server).get('/readyz');
    expect(res.status, res.text).toBe(503);
    expect(res.body.ready).toBe(false);
    expect(res.body.error).toBe('2 of 3 configured model(s) have no AVAILABLE version: bad, empty');
    const byName = Object.fromEntries((res.body.models as { name: string; reason: string }[]).map((m) => [m.name, m.reason]));
    expect(Object.keys(byName)).toEqual(['bad', 'empty']);
    expect(byName.bad).toMatch(/^no version AVAILABLE: version 1 END \([A-Z_]+: .+\)$/);
    expect(byName.empty).toBe('no version found under its base path yet');
    // HEAD: the same status, no body.
    expect((await request(server.http.server).head('/readyz')).status).toBe(503);

    // A version appears for "empty"; "bad" is dropped from the config: ready.
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'empty/3'));
    fs.writeFileSync(file, config({ half: 'half', empty: 'empty' }));
    await waitFor('/readyz to turn 200', async () => (await request(server.http.server).get('/readyz')).status === 200);
    expect((await request(server.http.server).get('/readyz')).body).toEqual({ ready: true, models: ['half', 'empty'] });
  });

  it('once ready: a model added to the list later is pending, not gating; a new server waits for it; a served model losing its versions gates', async () => {
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
    copyVersion('matrix_half_plus_two/1', path.join(tmp, 'matrix/1'));
    fs.mkdirSync(path.join(tmp, 'empty'));
    const { server, file } = await serveConfig({ half: 'half', matrix: 'matrix' });
    expect((await request(server.http.server).get('/readyz')).status).toBe(200);

    // Every replica re-reads the list at about the same time: a new model that never loads must not empty the Service.
    fs.writeFileSync(file, config({ half: 'half', matrix: 'matrix', empty: 'empty' }));
    await waitFor('the new model to be configured', () => server.core.hasModel('empty'));
    const res = await request(server.http.server).get('/readyz');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ ready: true, models: ['half', 'matrix', 'empty'], pending: [{ name: 'empty', reason: 'no version found under its base path yet' }] });

    // A replica starting now (a rollout, a scale-up) waits for it.
    const fresh = createHttpServer({ core: server.core, configuredModels: () => ['half', 'matrix', 'empty'] });
    const freshRes = await request(fresh.server).get('/readyz');
    expect(freshRes.status).toBe(503);
    expect(freshRes.body.error).toBe('1 of 3 configured model(s) have no AVAILABLE version: empty');
    await fresh.close();

    // A model this server served loses its only version: out of service, naming it.
    fs.rmSync(path.join(tmp, 'matrix/1'), { recursive: true });
    await waitFor('/readyz to turn 503', async () => (await request(server.http.server).get('/readyz')).status === 503);
    const lost = await request(server.http.server).get('/readyz');
    expect(lost.body.error).toBe('1 of 3 configured model(s) have no AVAILABLE version: matrix');
    expect(lost.body.models).toEqual([{ name: 'matrix', reason: expect.stringMatching(/^no version AVAILABLE: version 1 (UNLOADING|END)/) }]);
  });

  it('is 200 with no configured models (nothing to wait for)', async () => {
    server = await startServer({ models: { kind: 'models_dir', dir: path.join(tmp, 'none'), pollSeconds: 0 }, restApiPort: 0, restApiHost: '127.0.0.1', log });
    const res = await request(server.http.server).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ready: true, models: [] });
  });

  it('bounds the answer: at most MAX_LISTED_MODELS models listed, the error counting the rest', async () => {
    fs.mkdirSync(path.join(tmp, 'x'));
    const { server } = await serveConfig({ x: 'x' });
    const names = Array.from({ length: MAX_LISTED_MODELS + 5 }, (_, i) => `m${i}`);
    expect(new ReadinessTracker(server.core).check(names).notReady).toHaveLength(MAX_LISTED_MODELS + 5);
    // An HTTP server over the same core, told the model list as serve tells it.
    const http = createHttpServer({ core: server.core, configuredModels: () => names });
    const res = await request(http.server).get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.models).toHaveLength(MAX_LISTED_MODELS);
    await http.close();
    expect(res.body.error).toMatch(new RegExp(`^${MAX_LISTED_MODELS + 5} of ${MAX_LISTED_MODELS + 5} configured model\\(s\\) have no AVAILABLE version: m0, m1, .*, and 5 more$`));
  });

  it('is 503 "shutting down" to a request arriving during a graceful stop, while in-flight requests finish', async () => {
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(tmp, 'half/1'));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const { server } = await serveConfig(
      { half: 'half' },
      {
        // A slow non-/v1 request that keeps its connection in flight during the stop.
        fallback: (_req, res) => {
          void released.then(() => {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.end('slow done');
          });
        },
      },
    );
    const socket = net.connect(server.port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const ended = new Promise<void>((r) => socket.on('close', () => r()));
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    const stopped = server.stop(10_000);
    // Once new connections are refused the stop has begun; the open keep-alive connection then asks for readiness.
    await waitFor('new connections to be refused', () => refused(server.port));
    socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => setTimeout(r, 100));
    release();
    await ended;
    await stopped;
    expect(received).toContain('slow done');
    const second = received.slice(received.indexOf('slow done'));
    expect(second).toMatch(/^slow done\r\n0\r\n\r\nHTTP\/1\.1 503 Service Unavailable\r\n/);
    expect(second).toContain('Connection: close');
    expect(second).toContain('"error":"The server is shutting down: finishing in-flight requests, taking no new ones."');
  });
});
