// The management API (/api/v1) over real HTTP with supertest, on a real
// server with a real SQLite file: the whole sequence with
// half_plus_two (x=1 → 2.5) and half_plus_three (x=1 → 3.5) as versions of
// one model, switches under concurrent predict load, a restart, auth, and
// refused uploads that leave nothing behind.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../serving/log.js';
import { startServer, type RunningServer } from '../../server/serve.js';
import { rawTar, tarGzOf } from '../registry/archive_helpers.js';
import { FIXTURES, copyVersion } from './helpers.js';
import { Traffic } from './traffic.js';
import type { SqliteStore } from '../../registry/sqlite_store.js';

const TOKEN = 'test-admin-token';
const PLUS_TWO = path.join(FIXTURES, 'saved_model_half_plus_two_cpu/00000123');
const PLUS_THREE = path.join(FIXTURES, 'saved_model_half_plus_three/00000123');
const quiet: Logger = { info() {}, warn() {}, error() {} };

let tmp: string;
let modelsDir: string;
let dbFile: string;
let server: RunningServer;
let plusTwoTgz: Buffer;

async function start(): Promise<RunningServer> {
  return startServer({
    models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0.2 },
    restApiPort: 0,
    restApiHost: '127.0.0.1',
    fileSystemPollWaitSeconds: 0.2,
    registry: { path: dbFile, modelsDir, adminToken: TOKEN, maxUploadBytes: 64 * 1024 },
    log: quiet,
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-api-'));
  modelsDir = path.join(tmp, 'models');
  dbFile = path.join(tmp, 'data/registry.db');
  fs.mkdirSync(modelsDir);
  plusTwoTgz = fs.readFileSync(await tarGzOf(PLUS_TWO, path.join(tmp, 'plus_two.tgz'), 'half_plus_two'));
  server = await start();
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const api = () => request(server.url);
const auth = { Authorization: `Bearer ${TOKEN}` };

/** The files of a SavedModel folder as "files" parts with relative paths. */
function attachFiles(req: request.Test, dir: string, rel = ''): request.Test {
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const child = rel ? `${rel}/${name}` : name;
    if (fs.statSync(path.join(dir, child)).isDirectory()) attachFiles(req, dir, child);
    else req.attach('files', fs.readFileSync(path.join(dir, child)), { filepath: child, contentType: 'application/octet-stream' });
  }
  return req;
}

async function predict(suffix = ''): Promise<number> {
  const res = await api().post(`/v1/models/hp${suffix}:predict`).send('{"instances": [1.0]}');
  expect(res.status, res.text).toBe(200);
  return JSON.parse(res.text).predictions[0];
}

const model = async () => (await api().get('/api/v1/models/hp')).body;

/** Everything a refused call must leave alone. */
async function snapshot() {
  return {
    folders: fs.readdirSync(modelsDir).sort().map((m) => [m, fs.readdirSync(path.join(modelsDir, m)).sort()]),
    models: (await api().get('/api/v1/models')).body,
    rows: (server.registry!.store as SqliteStore).db.prepare('SELECT (SELECT COUNT(*) FROM versions) v, (SELECT COUNT(*) FROM events) e, (SELECT COUNT(*) FROM models) m').get(),
  };
}

describe('management API', () => {
  it('runs the sequence: upload, take over, pin, upload under a pin, unpin, rollback, address an old version', async () => {
    const v1 = await api().post('/api/v1/models/hp/versions').set(auth).attach('archive', plusTwoTgz, 'half_plus_two.tgz');
    expect(v1.status, v1.text).toBe(201);
    expect(v1.headers.location).toBe('/api/v1/models/hp/versions/1');
    expect(v1.body).toMatchObject({ version: 1, state: 'AVAILABLE', source: 'uploaded', loaded: true, error: null });
    expect(v1.body.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.body.signatures.serving_default).toEqual({
      method: 'tensorflow/serving/predict',
      inputs: { x: { dtype: 'DT_FLOAT', shape: [-1, 1] } },
      outputs: { y: { dtype: 'DT_FLOAT', shape: [-1, 1] } },
      unavailable: null,
    });
    expect(await predict()).toBe(2.5);

    const v2 = await attachFiles(api().post('/api/v1/models/hp/versions').set(auth), PLUS_THREE);
    expect(v2.status, v2.text).toBe(201);
    expect(v2.body.version).toBe(2);
    expect(await predict()).toBe(3.5);
    expect(await model()).toMatchObject({ name: 'hp', active_version: 2, pinned_version: null, previous_version: 1 });

    const pin = await api().post('/api/v1/models/hp/pin').set(auth).send({ version: 1 });
    expect(pin.status, pin.text).toBe(200);
    expect(pin.body).toMatchObject({ active_version: 1, pinned_version: 1 });
    expect(await predict()).toBe(2.5);

    const v3 = await attachFiles(api().post('/api/v1/models/hp/versions').set(auth), PLUS_THREE);
    expect(v3.body.version).toBe(3);
    expect(await predict()).toBe(2.5); // still version 1: it is pinned
    expect(await model()).toMatchObject({ active_version: 1, pinned_version: 1 });

    const unpin = await api().delete('/api/v1/models/hp/pin').set(auth);
    expect(unpin.body).toMatchObject({ active_version: 3, pinned_version: null, previous_version: 1 });
    expect(await predict()).toBe(3.5);

    const rollback = await api().post('/api/v1/models/hp/rollback').set(auth);
    expect(rollback.status, rollback.text).toBe(200);
    expect(rollback.body).toMatchObject({ active_version: 1, pinned_version: 1, previous_version: 3 });
    expect(await predict()).toBe(2.5);

    expect(await predict('/versions/2')).toBe(3.5);
    expect(await predict('/versions/3')).toBe(3.5);

    const label = await api().put('/api/v1/models/hp/labels/canary').set(auth).send({ version: 3 });
    expect(label.body.labels).toEqual({ canary: 3 });
    expect(await predict('/labels/canary')).toBe(3.5);

    const versions = (await api().get('/api/v1/models/hp/versions')).body.versions;
    expect(versions.map((v: { version: number; state: string }) => [v.version, v.state])).toEqual([
      [3, 'AVAILABLE'],
      [2, 'AVAILABLE'],
      [1, 'AVAILABLE'],
    ]);
    const events = (await api().get('/api/v1/models/hp/events?limit=1000')).body.events as { kind: string; version: number; actor: string }[];
    const steps = events
      .reverse()
      .filter((e) => !['loading', 'available', 'unloaded'].includes(e.kind))
      .map((e) => `${e.kind} ${e.version}`);
    expect(steps).toEqual([
      'uploaded 1', 'activated 1',
      'uploaded 2', 'activated 2',
      'pinned 1', 'activated 1',
      'uploaded 3',
      'unpinned 1', 'activated 3',
      'rolled_back 1', 'activated 1',
      'labelled 3',
    ]);
    expect(events.find((e) => e.kind === 'pinned')!.actor).toBe('token@127.0.0.1');
  });

  it('pages events with limit and before', async () => {
    const first = (await api().get('/api/v1/models/hp/events?limit=3')).body;
    expect(first.events).toHaveLength(3);
    const second = (await api().get(`/api/v1/models/hp/events?limit=3&before=${first.next_before}`)).body;
    expect(second.events[0].id).toBeLessThan(first.events[2].id);
    expect((await api().get('/api/v1/models/hp/events?limit=x')).status).toBe(400);
  });

  it('switches versions under concurrent predict load with zero failed requests', async () => {
    const traffic = new Traffic(`${server.url}/v1/models/hp:predict`, [2.5, 3.5]);
    try {
      await traffic.passes(50);
      for (let i = 0; i < 3; i++) {
        expect((await api().post('/api/v1/models/hp/pin').set(auth).send({ version: 2 })).status).toBe(200);
        await traffic.passes(30);
        expect((await api().post('/api/v1/models/hp/rollback').set(auth)).status).toBe(200);
        await traffic.passes(30);
        expect((await api().delete('/api/v1/models/hp/pin').set(auth)).status).toBe(200);
        await traffic.passes(30);
        expect((await api().post('/api/v1/models/hp/pin').set(auth).send({ version: 1 })).status).toBe(200);
        await traffic.passes(30);
      }
    } finally {
      await traffic.stop();
    }
    expect(traffic.failures).toEqual([]);
    expect(traffic.answers.get(2.5)).toBeGreaterThan(0);
    expect(traffic.answers.get(3.5)).toBeGreaterThan(0);
    expect(await model()).toMatchObject({ active_version: 1, pinned_version: 1 });
  });

  it('refuses changes without the token (401) or with a wrong one (403), changing nothing', async () => {
    const before = await snapshot();
    const calls = [
      () => api().post('/api/v1/models/hp/pin').send({ version: 2 }),
      () => api().delete('/api/v1/models/hp/pin'),
      () => api().post('/api/v1/models/hp/rollback'),
      () => api().put('/api/v1/models/hp/labels/x').send({ version: 2 }),
      () => api().delete('/api/v1/models/hp/labels/canary'),
      () => api().delete('/api/v1/models/hp/versions/2?purge=true'),
      () => api().post('/api/v1/models/hp/versions').attach('archive', plusTwoTgz, 'm.tgz'),
      () => api().post('/api/v1/models/newmodel/versions').attach('archive', plusTwoTgz, 'm.tgz'),
    ];
    for (const call of calls) {
      const res = await call();
      expect(res.status).toBe(401);
      expect(res.body.error).toMatch(/Authorization: Bearer <token>/);
      const wrong = await call().set('Authorization', 'Bearer nope');
      expect(wrong.status).toBe(403);
    }
    expect(await snapshot()).toEqual(before);
    // Reads need no token.
    expect((await api().get('/api/v1/models/hp')).status).toBe(200);
  });

  it('refuses a path-traversal archive, a corrupt SavedModel and an oversized upload with a clear 4xx, leaving no folder and no row', async () => {
    const before = await snapshot();
    const corrupt = path.join(tmp, 'corrupt');
    copyVersion('saved_model_half_plus_two_cpu/00000123', corrupt);
    fs.writeFileSync(path.join(corrupt, 'saved_model.pb'), 'garbage');
    const big = Buffer.concat([plusTwoTgz, Buffer.alloc(200 * 1024)]);
    for (const name of ['hp', 'fresh']) {
      const url = `/api/v1/models/${name}/versions`;
      const traversal = await api().post(url).set(auth).attach('archive', rawTar([{ name: '../../../evil.txt', data: 'x' }]), 'evil.tgz');
      expect([traversal.status, traversal.body.code]).toEqual([400, 'INVALID_ARGUMENT']);
      expect(traversal.body.error).toMatch(/Refused archive entry "..\/..\/..\/evil.txt"/);
      const filesTraversal = await api().post(url).set(auth).attach('files', Buffer.from('x'), { filepath: '../evil.txt', contentType: 'application/octet-stream' });
      expect([filesTraversal.status, filesTraversal.body.error]).toEqual([400, expect.stringMatching(/outside the upload folder/)]);
      const bad = await attachFiles(api().post(url).set(auth), corrupt);
      expect([bad.status, bad.body.error]).toEqual([400, expect.stringMatching(/not a SavedModel this server can load/)]);
      const tooBig = await api().post(url).set(auth).attach('archive', big, 'big.tgz');
      expect([tooBig.status, tooBig.body.code]).toEqual([413, 'RESOURCE_EXHAUSTED']);
      expect(tooBig.body.error).toMatch(/larger than 65536 bytes \(--max_upload_bytes\)/);
      const badName = await api().post('/api/v1/models/bad%20name/versions').set(auth).attach('archive', plusTwoTgz, 'm.tgz');
      expect([badName.status, badName.body.error]).toEqual([400, expect.stringMatching(/Invalid model name/)]);
    }
    expect(await snapshot()).toEqual(before);
    expect(fs.readdirSync(tmp).filter((n) => n.includes('evil'))).toEqual([]);
    expect(fs.readdirSync(modelsDir).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('answers 409 with the reason for changes the registry state forbids, 404 for unknown models and versions', async () => {
    const retire = await api().delete('/api/v1/models/hp/versions/1').set(auth);
    expect([retire.status, retire.body.error]).toEqual([409, expect.stringMatching(/pinned; unpin it/)]);
    expect((await api().delete('/api/v1/models/hp/versions/2').set(auth)).body).toMatchObject({ version: 2, retired: true });
    for (const res of [
      await api().post('/api/v1/models/hp/pin').set(auth).send({ version: 2 }),
      await api().put('/api/v1/models/hp/labels/stable').set(auth).send({ version: 2 }),
    ]) {
      expect([res.status, res.body.code, res.body.error]).toEqual([409, 'FAILED_PRECONDITION', expect.stringMatching(/Version 2 of model hp cannot be .*: it is retired/)]);
    }
    const fresh = await api().post('/api/v1/models/solo/versions').set(auth).attach('archive', plusTwoTgz, 'm.tgz');
    expect(fresh.status).toBe(201);
    const rollback = await api().post('/api/v1/models/solo/rollback').set(auth);
    expect([rollback.status, rollback.body.error]).toEqual([409, 'Model solo has no previous version to roll back to: only version 1 has served.']);
    expect((await api().get('/api/v1/models/nope')).status).toBe(404);
    expect((await api().get('/api/v1/models/hp/versions/99')).status).toBe(404);
    expect((await api().post('/api/v1/models/hp/pin').set(auth).send({ version: 'x' })).status).toBe(400);
    expect((await api().post('/api/v1/models/hp/pin').set(auth).set('Content-Type', 'application/json').send('{bad')).status).toBe(400);
    expect((await api().get('/api/v1/nothing')).status).toBe(404);
    // The TF Serving API keeps its own mapping: retired version 2 is simply not found there.
    expect((await api().post('/v1/models/hp/versions/2:predict').send('{"instances": [1.0]}')).status).toBe(404);
    // Restoring makes it addressable again; restoring twice is refused with the reason.
    expect((await api().post('/api/v1/models/hp/versions/2/restore').set(auth)).body).toMatchObject({ version: 2, retired: false });
    const twice = await api().post('/api/v1/models/hp/versions/2/restore').set(auth);
    expect([twice.status, twice.body.error]).toEqual([409, 'Version 2 of model hp is not retired.']);
    expect((await api().post('/v1/models/hp/versions/2:predict').send('{"instances": [1.0]}')).status).toBe(200);
    expect((await api().delete('/api/v1/models/hp/versions/2').set(auth)).body).toMatchObject({ version: 2, retired: true });
  });

  it('keeps pins, labels, retirements and history across a restart', async () => {
    const before = await model();
    const history = (await api().get('/api/v1/models/hp/events?limit=1000')).body.events;
    await server.stop();
    server = await start();
    const after = await model();
    expect(after).toMatchObject({
      active_version: before.active_version,
      pinned_version: before.pinned_version,
      previous_version: before.previous_version,
      labels: before.labels,
    });
    expect(after.versions.map((v: { version: number; retired: boolean }) => [v.version, v.retired])).toEqual([
      [3, false],
      [2, true],
      [1, false],
    ]);
    const historyAfter = (await api().get('/api/v1/models/hp/events?limit=1000')).body.events;
    expect(historyAfter.slice(-history.length)).toEqual(history);
    expect(await predict()).toBe(2.5);
    expect((await api().post('/v1/models/hp/versions/2:predict').send('{"instances": [1.0]}')).status).toBe(404);
    expect((await api().get('/api/v1/models')).body.models.map((m: { name: string }) => m.name)).toEqual(['hp', 'solo']);
  });
});
