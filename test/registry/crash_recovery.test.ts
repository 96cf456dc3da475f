// Crash consistency of the registry (issue 13, finding 8): an upload or a
// purge stopped at each of its crash points, as kill -9 stops it (the crash
// hook never returns, and the server is abandoned without finishing), then a
// restart on the same folders and registry file. After every restart the
// registry and the folders agree, no staging folder is left, the version that
// served before still serves (or the new one, when its move was recorded as
// done), and no version whose files are on disk is REMOVED.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CrashPoint } from '../../registry/crash_points.js';
import { modelConfig } from '../../serving/model_config.js';
import { recoverRegistry } from '../../registry/recovery.js';
import { SqliteStore } from '../../registry/sqlite_store.js';
import { silentLogger } from '../../serving/log.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { startServer } from '../../server/serve.js';
import { copyVersion } from '../server/helpers.js';
import { PLUS_THREE, PLUS_TWO, predict, startWorld, uploadDir, type World } from './registry_world.js';

let tmp: string;
let dbFile: string;
let modelsDir: string;
const worlds: World[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-crash-'));
  dbFile = path.join(tmp, 'data/registry.db');
  modelsDir = path.join(tmp, 'models');
});
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(options: Partial<Parameters<typeof startWorld>[0]> = {}): Promise<World> {
  const w = await startWorld({ dbFile, modelsDir, ...options });
  worlds.push(w);
  return w;
}

/** A world whose uploads and purges stop for good at `point`; `reached` resolves when one gets there. */
async function startCrashing(point: CrashPoint, options: Partial<Parameters<typeof startWorld>[0]> = {}) {
  let reached!: () => void;
  const atPoint = new Promise<void>((r) => (reached = r));
  const w = await start({
    ...options,
    crashHook: (p) => {
      if (p !== point) return;
      reached();
      return new Promise<never>(() => {}); // never returns, like a killed process
    },
  });
  return { w, atPoint };
}

/** Waits until `op` stops at the crash point; fails at once if it finishes (or fails) without getting there. */
function stopped(atPoint: Promise<void>, op: Promise<unknown>): Promise<void> {
  const ended = op.then(
    () => Promise.reject(new Error('the operation finished without stopping at its crash point')),
    (e: Error) => Promise.reject(new Error(`the operation failed before its crash point: ${e.message}`)),
  );
  ended.catch(() => {});
  return Promise.race([atPoint, ended]);
}

/** Abandons `w` as kill -9 would: nothing of the stopped operation runs any more. */
async function crash(w: World): Promise<void> {
  worlds.splice(worlds.indexOf(w), 1);
  await w.stop();
}

/** Every staging folder left anywhere under the models folder (and `extra` folders). */
function stagingFolders(...extra: string[]): string[] {
  const out: string[] = [];
  for (const dir of [modelsDir, ...extra]) {
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith('.')) out.push(path.join(dir, name));
      const sub = path.join(dir, name);
      if (!name.startsWith('.') && fs.statSync(sub).isDirectory()) {
        for (const inner of fs.readdirSync(sub)) if (inner.startsWith('.')) out.push(path.join(sub, inner));
      }
    }
  }
  return out;
}

/** Registry rows and version folders agree: a row is REMOVED exactly when its folder is missing; every folder has a row. */
async function expectAgreement(w: World): Promise<void> {
  for (const model of w.registry.listModels()) {
    for (const v of model.versions) {
      expect({ model: model.name, version: v.version, onDisk: fs.existsSync(v.path) }).toEqual({
        model: model.name,
        version: v.version,
        onDisk: v.state !== 'REMOVED',
      });
    }
    const folders = fs.existsSync(model.basePath) ? fs.readdirSync(model.basePath).filter((n) => /^\d+$/.test(n)).map(Number) : [];
    const live = model.versions.filter((v) => v.state !== 'REMOVED').map((v) => v.version);
    expect(folders.sort()).toEqual(live.sort());
  }
  expect(await w.store.listPendingMoves()).toEqual([]);
  expect(stagingFolders()).toEqual([]);
}

const kinds = async (w: World, model: string) =>
  (await w.registry.events(model, { limit: 1000 })).reverse().map((e) => `${e.kind}${e.version === null ? '' : ` ${e.version}`}`);

describe('crash recovery of uploads', () => {
  for (const [point, lands] of [
    ['upload:staged', false],
    ['upload:recorded', false],
    ['upload:moved', true],
    ['upload:committed', true],
  ] as const) {
    it(`killed at ${point}: ${lands ? 'the new version is kept and serves' : 'the upload is undone and version 1 still serves'}`, async () => {
      const first = await start();
      await uploadDir(first, 'hp', PLUS_TWO);
      await crash(first);

      const { w, atPoint } = await startCrashing(point);
      await stopped(atPoint, uploadDir(w, 'hp', PLUS_THREE));
      await crash(w);
      if (point === 'upload:staged' || point === 'upload:committed') expect(stagingFolders().length).toBe(1);

      const again = await start();
      await expectAgreement(again);
      const model = again.registry.getModel('hp');
      if (lands) {
        expect(model.versions.map((v) => [v.version, v.state])).toEqual([[2, 'AVAILABLE'], [1, 'AVAILABLE']]);
        expect(await predict(again, { name: 'hp' })).toEqual({ version: 2, y: 3.5 });
        expect((await kinds(again, 'hp')).filter((k) => k.startsWith('uploaded'))).toEqual(['uploaded 1', 'uploaded 2']);
      } else {
        expect(model.versions.map((v) => [v.version, v.state])).toEqual([[1, 'AVAILABLE']]);
        expect(await predict(again, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
        expect(await kinds(again, 'hp')).not.toContain('removed 2');
        // The number was never acknowledged: the next upload gets it.
        expect((await uploadDir(again, 'hp', PLUS_THREE)).version).toBe(2);
      }
    });
  }

  it('killed between recording and moving the first upload of a new model: no ghost model, no REMOVED version, no empty model folder', async () => {
    const { w, atPoint } = await startCrashing('upload:recorded');
    await stopped(atPoint, uploadDir(w, 'fresh', PLUS_TWO));
    await crash(w);

    const again = await start();
    await expectAgreement(again);
    expect(again.registry.listModels().map((m) => m.name)).toEqual([]);
    expect(fs.existsSync(path.join(modelsDir, 'fresh'))).toBe(false);
    // Uploading again works and gets version 1.
    expect(await uploadDir(again, 'fresh', PLUS_TWO)).toMatchObject({ version: 1, state: 'AVAILABLE' });
  });

  it('modelhost serve on --models_dir recovers before listing models: a new model folder left empty by the crash is no ghost', async () => {
    const first = await start();
    await uploadDir(first, 'hp', PLUS_TWO);
    await crash(first);
    const { w, atPoint } = await startCrashing('upload:recorded');
    await stopped(atPoint, uploadDir(w, 'fresh', PLUS_TWO));
    await crash(w);
    fs.mkdirSync(path.join(modelsDir, 'fresh')); // the next step the upload took: create its base path

    const server = await startServer({
      models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
      restApiPort: 0,
      restApiHost: '127.0.0.1',
      engine: inlineEngine(),
      registry: { path: dbFile, modelsDir },
      log: silentLogger,
    });
    try {
      expect(server.registry!.listModels().map((m) => m.name)).toEqual(['hp']);
      expect(fs.readdirSync(modelsDir)).toEqual(['hp']);
      const res = await fetch(`${server.url}/v1/models/hp:predict`, { method: 'POST', body: JSON.stringify({ instances: [1.0] }) });
      expect(await res.json()).toEqual({ predictions: [2.5] });
    } finally {
      await server.stop();
    }
  });

  it('killed after moving the first upload of a new model: the model is served from it, version 1 AVAILABLE', async () => {
    const { w, atPoint } = await startCrashing('upload:moved');
    await stopped(atPoint, uploadDir(w, 'fresh', PLUS_TWO));
    await crash(w);

    const again = await start();
    await expectAgreement(again);
    expect(again.registry.getModel('fresh')).toMatchObject({ origin: 'uploaded', activeVersion: 1 });
    expect(again.registry.getVersion('fresh', 1)).toMatchObject({ state: 'AVAILABLE', source: 'uploaded' });
    expect(await predict(again, { name: 'fresh' })).toEqual({ version: 1, y: 2.5 });
  });

  it('killed after moving an activate=false upload: the version that served keeps serving, pinned', async () => {
    const first = await start();
    await uploadDir(first, 'hp', PLUS_TWO);
    await crash(first);

    const { w, atPoint } = await startCrashing('upload:moved');
    await stopped(atPoint, uploadDir(w, 'hp', PLUS_THREE, { activate: false }));
    await crash(w);

    const again = await start();
    await expectAgreement(again);
    expect(again.registry.getModel('hp')).toMatchObject({ activeVersion: 1, pinnedVersion: 1 });
    expect(await predict(again, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    expect(await predict(again, { name: 'hp', version: 2 })).toEqual({ version: 2, y: 3.5 });
  });

  it('killed mid-upload into a configured model: the staging folder in its base path is deleted at the next start', async () => {
    const base = path.join(tmp, 'configured');
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(base, '1'));
    const configs = [modelConfig('cfg', base)];
    const { w, atPoint } = await startCrashing('upload:staged', { configs });
    await stopped(atPoint, uploadDir(w, 'cfg', PLUS_THREE));
    await crash(w);
    expect(stagingFolders(base).length).toBe(1);

    const again = await start({ configs });
    expect(stagingFolders(base)).toEqual([]);
    expect(fs.readdirSync(base)).toEqual(['1']);
    expect(again.registry.listVersions('cfg').map((v) => [v.version, v.state])).toEqual([[1, 'AVAILABLE']]);
    expect(await predict(again, { name: 'cfg' })).toEqual({ version: 1, y: 2.5 });
  });
});

describe('a live upload between its steps', () => {
  for (const point of ['upload:recorded', 'upload:moved'] as const) {
    it(`paused at ${point}: a poll neither offers the version nor calls it missing, so activate=false keeps what serves`, async () => {
      const first = await start();
      await uploadDir(first, 'hp', PLUS_TWO);
      await crash(first);

      let reached!: () => void;
      let release!: () => void;
      const atPoint = new Promise<void>((r) => (reached = r));
      const w = await start({
        crashHook: (p) => {
          if (p !== point) return;
          reached();
          return new Promise<void>((r) => (release = r));
        },
      });
      const upload = uploadDir(w, 'hp', PLUS_THREE, { activate: false });
      await stopped(atPoint, upload);
      await w.core.pollNow();
      await w.registry.settled();
      const v2 = w.registry.getVersion('hp', 2);
      expect([v2.state, v2.loaded]).toEqual(['DISCOVERED', false]);
      release();
      expect(await upload).toMatchObject({ version: 2, state: 'AVAILABLE' });
      expect(w.registry.getModel('hp')).toMatchObject({ activeVersion: 1, pinnedVersion: 1 });
      expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
      expect((await kinds(w, 'hp')).filter((k) => k.endsWith(' 2')).slice(0, 2)).toEqual(['uploaded 2', 'loading 2']);
    });
  }
});

describe('crash recovery of purges', () => {
  for (const [point, gone] of [
    ['purge:recorded', false],
    ['purge:moved', true],
    ['purge:committed', true],
  ] as const) {
    it(`killed at ${point}: ${gone ? 'the purge is finished' : 'the purge is undone: version 1 stays retired with its files'}`, async () => {
      const first = await start();
      await uploadDir(first, 'hp', PLUS_TWO);
      await uploadDir(first, 'hp', PLUS_THREE);
      await crash(first);

      const { w, atPoint } = await startCrashing(point);
      await stopped(atPoint, w.registry.retire('hp', 1, { purge: true }, 'test'));
      await crash(w);

      const again = await start();
      await expectAgreement(again);
      expect(again.registry.getVersion('hp', 1)).toMatchObject({ retired: true, state: gone ? 'REMOVED' : 'AVAILABLE' });
      expect(fs.existsSync(path.join(modelsDir, 'hp/1'))).toBe(!gone);
      expect((await kinds(again, 'hp')).filter((k) => k === 'purged 1' || k === 'removed 1')).toEqual(gone ? ['purged 1'] : []);
      expect(await predict(again, { name: 'hp' })).toEqual({ version: 2, y: 3.5 });
    });
  }
});

describe('startup recovery', () => {
  it('deletes staging folders left by older runs (.upload-*, .purged-*), in the models folder and in base paths', async () => {
    const first = await start();
    await uploadDir(first, 'hp', PLUS_TWO);
    await crash(first);
    const leftovers = [
      path.join(modelsDir, '.upload-new-0123456789ab/savedmodel'),
      path.join(modelsDir, 'hp/.upload-ba9876543210/savedmodel/variables'),
      path.join(modelsDir, 'hp/.purged-7-deadbeef'),
    ];
    for (const dir of leftovers) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'saved_model.pb'), 'x');
    }
    // Someone else's hidden folder is not the registry's to delete.
    fs.mkdirSync(path.join(modelsDir, 'hp/.keep'));

    const again = await start();
    expect(stagingFolders()).toEqual([path.join(modelsDir, 'hp/.keep')]);
    expect(again.registry.listVersions('hp').map((v) => [v.version, v.state])).toEqual([[1, 'AVAILABLE']]);
  });

  it('recovers a registry file whose pending move names folders that are both gone (undone, nothing left pointing at them)', async () => {
    const store = SqliteStore.open(dbFile);
    await store.transaction(async (tx) => {
      await tx.upsertModel({ name: 'gone', basePath: path.join(modelsDir, 'gone'), origin: 'uploaded' });
      await tx.insertVersion({ model: 'gone', version: 1, path: path.join(modelsDir, 'gone/1'), source: 'uploaded' });
      await tx.addPendingMove({
        kind: 'upload',
        model: 'gone',
        version: 1,
        source: path.join(modelsDir, '.upload-gone-000000000000/savedmodel'),
        target: path.join(modelsDir, 'gone/1'),
        detail: { actor: 'test', activate: true, createdBasePath: true, previousOrigin: null, eventDetail: 'uploaded version 1' },
      });
    });
    const report = await recoverRegistry(store, modelsDir, silentLogger);
    expect(report.undone).toEqual(['gone/1']);
    expect(await store.listModels()).toEqual([]);
    expect(await store.listPendingMoves()).toEqual([]);
    await store.close();
  });
});

describe('undoing an upload', () => {
  it('gives a model that had a row back its origin and base path', async () => {
    const store = SqliteStore.open(dbFile);
    const oldBase = path.join(tmp, 'elsewhere/kept');
    await store.transaction(async (tx) => {
      await tx.upsertModel({ name: 'kept', basePath: oldBase, origin: 'config' });
      await tx.upsertModel({ name: 'kept', basePath: path.join(modelsDir, 'kept'), origin: 'config' });
      await tx.setModelOrigin('kept', 'uploaded');
      await tx.insertVersion({ model: 'kept', version: 4, path: path.join(modelsDir, 'kept/4'), source: 'uploaded' });
      await tx.addPendingMove({
        kind: 'upload',
        model: 'kept',
        version: 4,
        source: path.join(modelsDir, '.upload-kept-000000000000/savedmodel'),
        target: path.join(modelsDir, 'kept/4'),
        detail: { actor: 'test', activate: true, createdBasePath: false, previousOrigin: 'config', previousBasePath: oldBase, eventDetail: 'uploaded version 4' },
      });
    });
    await recoverRegistry(store, modelsDir, silentLogger);
    expect(await store.getModel('kept')).toMatchObject({ basePath: oldBase, origin: 'config' });
    expect(await store.listVersions('kept')).toEqual([]);
    await store.close();
  });
});

describe('durability settings', () => {
  it('commits with synchronous=FULL by default, NORMAL only when asked', async () => {
    const full = SqliteStore.open(path.join(tmp, 'full.db'));
    const normal = SqliteStore.open(path.join(tmp, 'normal.db'), { synchronous: 'normal' });
    try {
      expect(full.db.pragma('synchronous', { simple: true })).toBe(2);
      expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    } finally {
      await full.close();
      await normal.close();
    }
  });

  it('modelhost serve passes --registry_synchronous through (full unless relaxed)', async () => {
    for (const [synchronous, pragma] of [[undefined, 2], ['normal', 1]] as const) {
      const server = await startServer({
        models: { kind: 'models_dir', dir: modelsDir, pollSeconds: 0 },
        restApiPort: 0,
        restApiHost: '127.0.0.1',
        engine: inlineEngine(),
        registry: { path: dbFile, modelsDir, synchronous },
        log: silentLogger,
      });
      try {
        expect((server.registry!.store as SqliteStore).db.pragma('synchronous', { simple: true })).toBe(pragma);
      } finally {
        await server.stop();
      }
    }
  });
});
