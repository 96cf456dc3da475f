// The registry with a real serving core, runtime and store (the same suite on
// a SQLite file and on a real PostgreSQL database): uploads,
// the default-version rules (pin, unpin, rollback), on-demand loading with
// LRU eviction, retirement, restarts, and refusals that leave nothing behind.
// Versions alternate between half_plus_two (x=1 → 2.5) and half_plus_three
// (x=1 → 3.5), so an answer tells which one served it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelConfig } from '../../serving/model_config.js';
import { FIXTURES, copyVersion, waitFor } from '../server/helpers.js';
import { rawTar, tarGzOf } from './archive_helpers.js';
import { describePostgres } from './postgres_helper.js';
import { errorOf, PLUS_THREE, PLUS_TWO, predict, storeCounts, uploadArchive, uploadDir, type World, worldsPerTest } from './registry_world.js';

const harness = worldsPerTest('modelhost-registry-');
const { start, worlds } = harness;

const kinds = async (w: World, model: string) =>
  (await w.registry.events(model, { limit: 1000 })).reverse().map((e) => `${e.kind}${e.version === null ? '' : ` ${e.version}`}`);

describe('registry on SQLite', () => registrySuite());

describePostgres('registry on PostgreSQL', () => {
  harness.usePostgres();
  registrySuite();
});

function registrySuite() {
  it('uploads take over, a pin holds through new uploads, unpin follows the newest, rollback pins the previous', async () => {
    const w = await start();
    const v1 = await uploadDir(w, 'hp', PLUS_TWO);
    expect(v1).toMatchObject({ version: 1, state: 'AVAILABLE', source: 'uploaded', loaded: true, retired: false });
    expect(v1.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.sizeBytes).toBeGreaterThan(0);
    expect(v1.signatures.map((s) => s.name)).toContain('serving_default');
    expect(v1.signatures.find((s) => s.name === 'serving_default')!.inputs.x).toEqual({ dtype: 'DT_FLOAT', shape: [-1, 1] });
    expect(fs.existsSync(path.join(harness.modelsDir, 'hp/1/saved_model.pb'))).toBe(true);
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });

    await uploadDir(w, 'hp', PLUS_THREE);
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 2, y: 3.5 });

    await w.registry.pin('hp', 1, 'test');
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    await uploadDir(w, 'hp', PLUS_THREE);
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    expect(w.registry.getModel('hp')).toMatchObject({ activeVersion: 1, pinnedVersion: 1, previousVersion: 2 });

    await w.registry.unpin('hp', 'test');
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 3, y: 3.5 });

    const rolled = await w.registry.rollback('hp', 'test');
    expect(rolled).toMatchObject({ activeVersion: 1, pinnedVersion: 1, previousVersion: 3 });
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });

    // Version 2 is not the default, but still answers when asked for.
    expect(await predict(w, { name: 'hp', version: 2 })).toEqual({ version: 2, y: 3.5 });

    expect(await kinds(w, 'hp')).toEqual([
      'uploaded 1', 'loading 1', 'available 1', 'activated 1',
      'uploaded 2', 'loading 2', 'available 2', 'activated 2',
      'pinned 1', 'activated 1',
      'uploaded 3', 'loading 3', 'available 3',
      'unpinned 1', 'activated 3',
      'rolled_back 1', 'activated 1',
    ]);
    // Four versions fit (--max_loaded_versions); 2 was used recently, so it stayed loaded.
    expect([...w.core.manager.availableVersions('hp')]).toEqual([1, 2, 3]);
  });

  it('keeps pins, labels, retirements, history and the previous version across a restart', async () => {
    const w = await start();
    for (const dir of [PLUS_TWO, PLUS_THREE, PLUS_TWO]) await uploadDir(w, 'hp', dir);
    await w.registry.pin('hp', 2, 'test');
    await w.registry.setLabel('hp', 'stable', 2, 'test');
    await w.registry.setLabel('hp', 'canary', 3, 'test');
    await w.registry.retire('hp', 1, {}, 'test');
    const before = w.registry.getModel('hp');
    const history = await w.registry.events('hp', { limit: 1000 });
    await w.stop();
    worlds.splice(worlds.indexOf(w), 1);

    const again = await start();
    const after = again.registry.getModel('hp');
    expect(after).toMatchObject({ activeVersion: 2, pinnedVersion: 2, previousVersion: 3, labels: { canary: 3, stable: 2 } });
    expect(after.versions.map((v) => [v.version, v.retired, v.state])).toEqual([
      [3, false, 'AVAILABLE'],
      [2, false, 'AVAILABLE'],
      [1, true, 'AVAILABLE'],
    ]);
    expect(after.versions.map((v) => v.sha256)).toEqual(before.versions.map((v) => v.sha256));
    // The pinned and the previous version are loaded at start, so a rollback is instant; retired 1 is not.
    expect([...again.core.manager.availableVersions('hp')]).toEqual([2, 3]);
    expect(await predict(again, { name: 'hp' })).toEqual({ version: 2, y: 3.5 });
    expect(await predict(again, { name: 'hp', label: 'canary' })).toEqual({ version: 3, y: 2.5 });
    expect((await errorOf(predict(again, { name: 'hp', version: 1 }))).code).toBe('NOT_FOUND');
    // History is kept, and the restart added no activation.
    const historyAfter = await again.registry.events('hp', { limit: 1000 });
    expect(historyAfter.slice(-history.length)).toEqual(history);
    expect(historyAfter.slice(0, historyAfter.length - history.length).map((e) => e.kind)).not.toContain('activated');
  });

  it('refuses a traversal archive, a corrupt SavedModel, an oversized upload and a bad name, leaving no folder and no row', async () => {
    const w = await start({ maxUploadBytes: 64 * 1024 });
    await uploadDir(w, 'hp', PLUS_TWO);
    const snapshot = async () => {
      await w.registry.settled(); // the history of what did happen (loading, activated...) is written in the background
      return { models: fs.readdirSync(harness.modelsDir).sort(), hp: fs.readdirSync(path.join(harness.modelsDir, 'hp')).sort(), rows: await storeCounts(w.store) };
    };
    const before = await snapshot();
    expect(before.hp).toEqual(['1']);

    const corrupt = path.join(harness.tmp, 'corrupt');
    copyVersion('saved_model_half_plus_two_cpu/00000123', corrupt);
    fs.writeFileSync(path.join(corrupt, 'saved_model.pb'), 'not a protobuf at all');
    const big = path.join(harness.tmp, 'big');
    copyVersion('saved_model_half_plus_two_cpu/00000123', big);
    fs.writeFileSync(path.join(big, 'assets/padding.bin'), Buffer.alloc(100 * 1024));

    for (const model of ['hp', 'newmodel']) {
      const traversal = await errorOf(uploadArchive(w, model, rawTar([{ name: 'saved_model.pb', data: 'x' }, { name: '../../escape.txt', data: 'owned' }])));
      expect([traversal.code, traversal.message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/Refused archive entry "..\/..\/escape.txt"/)]);
      const bad = await errorOf(uploadDir(w, model, corrupt));
      expect(bad.code).toBe('INVALID_ARGUMENT');
      expect(bad.message).toMatch(/not a SavedModel this server can load/);
      const sessionBundle = await errorOf(uploadDir(w, model, path.join(FIXTURES, 'bad_half_plus_two/00000123')));
      expect(sessionBundle.message).toMatch(/No SavedModel found in the upload/);
      const tooBig = await errorOf(uploadDir(w, model, big));
      expect([tooBig.code, tooBig.message]).toEqual(['RESOURCE_EXHAUSTED', 'The upload is larger than 65536 bytes (--max_upload_bytes).']);
      expect(await snapshot()).toEqual(before);
    }
    const name = await errorOf(w.intake.begin('../etc'));
    expect(name.message).toMatch(/Invalid model name/);
    expect(fs.existsSync(path.join(harness.tmp, 'escape.txt'))).toBe(false);
    expect(await snapshot()).toEqual(before);
  });

  it('accepts archives with the SavedModel at the root or in one top-level folder, and an explicit version number', async () => {
    const w = await start();
    await uploadArchive(w, 'hp', fs.readFileSync(await tarGzOf(PLUS_TWO, path.join(harness.tmp, 'root.tgz'))));
    const v7 = await uploadArchive(w, 'hp', fs.readFileSync(await tarGzOf(PLUS_THREE, path.join(harness.tmp, 'top.tgz'), 'my_model')), { version: 7 });
    expect(v7.version).toBe(7);
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 7, y: 3.5 });
    const dup = await errorOf(uploadDir(w, 'hp', PLUS_TWO, { version: 7 }));
    expect([dup.code, dup.message]).toEqual(['ALREADY_EXISTS', expect.stringMatching(/already has a version 7.*next one \(8\)/)]);
    expect((await uploadDir(w, 'hp', PLUS_TWO)).version).toBe(8);
  });

  it('with activate=false keeps the serving version by pinning it', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_TWO);
    const v2 = await uploadDir(w, 'hp', PLUS_THREE, { activate: false });
    expect(v2).toMatchObject({ version: 2, state: 'AVAILABLE' });
    expect(w.registry.getModel('hp')).toMatchObject({ activeVersion: 1, pinnedVersion: 1 });
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    expect(await predict(w, { name: 'hp', version: 2 })).toEqual({ version: 2, y: 3.5 });
  });

  it('records versions found on disk with size, sha256 and signatures, and refuses to pin one that failed, saying why', async () => {
    const base = path.join(harness.tmp, 'disk');
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(base, '1'));
    copyVersion('saved_model_half_plus_three/00000123', path.join(base, '2'));
    // One version loaded at a time, so version 1 is found but not loaded.
    const w = await start({ configs: [modelConfig('disk', base)], maxLoadedVersions: 1 });
    const v1 = w.registry.getVersion('disk', 1);
    expect(v1).toMatchObject({ source: 'discovered', state: 'DISCOVERED', loaded: false });
    expect(v1.sha256).toBe((await uploadDir(w, 'other', PLUS_TWO)).sha256);
    expect(w.registry.getVersion('disk', 2)).toMatchObject({ state: 'AVAILABLE', loaded: true });
    expect(w.registry.getVersion('disk', 2).signatures.length).toBeGreaterThan(0);

    // A version whose files are broken fails when loaded; pinning it is refused with the load error.
    copyVersion('saved_model_counter/00000123', path.join(base, '3'));
    const shard = path.join(base, '3/variables/variables.data-00000-of-00001');
    fs.writeFileSync(shard, Buffer.alloc(fs.statSync(shard).size, 0xff));
    // A new folder is taken once complete and unchanged across two polls.
    await w.core.pollNow();
    await w.core.pollNow();
    await w.registry.settled();
    expect(w.registry.getVersion('disk', 3)).toMatchObject({ state: 'FAILED', error: expect.stringMatching(/^DATA_LOSS/) });
    expect(await predict(w, { name: 'disk' })).toEqual({ version: 2, y: 3.5 });
    const pin = await errorOf(w.registry.pin('disk', 3, 'test'));
    expect([pin.code, pin.message]).toEqual(['FAILED_PRECONDITION', expect.stringMatching(/^Version 3 of model disk cannot be pinned: it failed to load: DATA_LOSS/)]);
    expect((await errorOf(w.registry.pin('disk', 9, 'test'))).code).toBe('NOT_FOUND');

    // Pinning a version never loaded loads it first.
    await w.registry.pin('disk', 1, 'test');
    expect(await predict(w, { name: 'disk' })).toEqual({ version: 1, y: 2.5 });
  });

  it('refuses a rollback with no previous version, and pins, labels or rollbacks to retired versions', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_TWO);
    const none = await errorOf(w.registry.rollback('hp', 'test'));
    expect([none.code, none.message]).toEqual(['FAILED_PRECONDITION', 'Model hp has no previous version to roll back to: only version 1 has served.']);
    await uploadDir(w, 'hp', PLUS_THREE);
    await w.registry.retire('hp', 1, {}, 'test');
    for (const p of [w.registry.pin('hp', 1, 'test'), w.registry.setLabel('hp', 'stable', 1, 'test'), w.registry.rollback('hp', 'test')]) {
      const e = await errorOf(p);
      expect([e.code, e.message]).toEqual(['FAILED_PRECONDITION', expect.stringMatching(/^Version 1 of model hp cannot be .*: it is retired\.$/)]);
    }
    await w.registry.pin('hp', 2, 'test');
    const pinned = await errorOf(w.registry.retire('hp', 2, {}, 'test'));
    expect(pinned.message).toMatch(/is pinned; unpin it/);
  });

  it('restores a retired version (it serves again as the newest), but not one whose files were purged', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_TWO);
    await uploadDir(w, 'hp', PLUS_THREE);
    await w.registry.retire('hp', 2, {}, 'test');
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    const restored = await w.registry.restore('hp', 2, 'test');
    expect(restored).toMatchObject({ version: 2, retired: false });
    await waitFor('version 2 to answer again', async () => (await predict(w, { name: 'hp' })).version === 2);
    expect(await kinds(w, 'hp')).toContain('restored 2');
    const again = await errorOf(w.registry.restore('hp', 2, 'test'));
    expect([again.code, again.message]).toEqual(['FAILED_PRECONDITION', 'Version 2 of model hp is not retired.']);
    await w.registry.retire('hp', 1, { purge: true }, 'test');
    const purged = await errorOf(w.registry.restore('hp', 1, 'test'));
    expect(purged.message).toMatch(/^Version 1 of model hp cannot be restored: its files are gone/);
  });

  it('retiring the serving version switches to the next newest first; purge deletes its folder', async () => {
    const w = await start();
    await uploadDir(w, 'hp', PLUS_TWO);
    await uploadDir(w, 'hp', PLUS_THREE);
    await w.registry.setLabel('hp', 'canary', 2, 'test');
    const retired = await w.registry.retire('hp', 2, { purge: true }, 'test');
    expect(retired).toMatchObject({ retired: true, state: 'REMOVED', labels: [] });
    expect(await predict(w, { name: 'hp' })).toEqual({ version: 1, y: 2.5 });
    expect(fs.readdirSync(path.join(harness.modelsDir, 'hp'))).toEqual(['1']);
    expect(w.registry.getModel('hp').labels).toEqual({});
    await w.core.pollNow();
    const steps = (await kinds(w, 'hp')).filter((k) => !/^(loading|available|unloaded)/.test(k));
    expect(steps.slice(-5)).toEqual(['labelled 2', 'unlabelled 2', 'retired 2', 'activated 1', 'purged 2']);
    // Version numbers are never reused.
    expect((await uploadDir(w, 'hp', PLUS_THREE)).version).toBe(3);
  });

  it('keeps at most max_loaded_versions loaded, evicting the least recently used, and reloads on demand', async () => {
    const base = path.join(harness.tmp, 'many');
    for (let v = 1; v <= 6; v++) copyVersion(v % 2 ? 'saved_model_half_plus_two_cpu/00000123' : 'saved_model_half_plus_three/00000123', path.join(base, String(v)));
    const w = await start({ configs: [modelConfig('many', base)], maxLoadedVersions: 3 });
    const loaded = () => [...w.core.manager.availableVersions('many')];
    expect(loaded()).toEqual([4, 5, 6]); // the newest fill the room
    expect(await predict(w, { name: 'many', version: 1 })).toEqual({ version: 1, y: 2.5 });
    expect(await predict(w, { name: 'many', version: 2 })).toEqual({ version: 2, y: 3.5 });
    await w.registry.settled();
    expect(loaded()).toEqual([1, 2, 6]);
    expect(await predict(w, { name: 'many', version: 1 })).toEqual({ version: 1, y: 2.5 }); // 1 is now more recent than 2
    expect(await predict(w, { name: 'many', version: 3 })).toEqual({ version: 3, y: 2.5 });
    await w.registry.settled();
    expect(loaded()).toEqual([1, 3, 6]);
    expect(await predict(w, { name: 'many', version: 2 })).toEqual({ version: 2, y: 3.5 });
    expect(await predict(w, { name: 'many' })).toEqual({ version: 6, y: 3.5 });
  });

  it('never evicts a version with a request in flight; on-demand waits are bounded (UNAVAILABLE naming the limit)', async () => {
    const base = path.join(harness.tmp, 'od');
    for (let v = 1; v <= 3; v++) copyVersion(v % 2 ? 'saved_model_half_plus_two_cpu/00000123' : 'saved_model_half_plus_three/00000123', path.join(base, String(v)));
    const w = await start({ configs: [modelConfig('od', base)], maxLoadedVersions: 1, onDemandMaxWaitingRequests: 1, onDemandMaxWaitMs: 300 });
    const loaded = () => [...w.core.manager.availableVersions('od')];
    expect(loaded()).toEqual([3]);
    // A request on version 1, loaded on demand into the one free slot, is still running.
    const reservation = (await w.core.loadOnDemand({ name: 'od', version: 1 }))!;
    const running = w.core.getHandle({ name: 'od', version: 1 });
    reservation();
    // Version 2 must wait for the slot; a second waiter is over the bound and refused at once.
    const waiting = errorOf(w.core.loadOnDemand({ name: 'od', version: 2 }));
    const refused = await errorOf(w.core.loadOnDemand({ name: 'od', version: 2 }));
    expect([refused.code, refused.message]).toEqual(['UNAVAILABLE', expect.stringMatching(/^Version 2 of model od is not loaded and 1 requests already wait .*--on_demand_max_waiting_requests=1/)]);
    const timedOut = await waiting;
    expect([timedOut.code, timedOut.message]).toEqual(['UNAVAILABLE', expect.stringMatching(/^Version 2 of model od could not be loaded within 300 ms \(limit --on_demand_max_wait_ms=300\)/)]);
    expect(loaded()).toEqual([1, 3]);
    // Once the request on version 1 is done, version 2 gets the slot.
    running.release();
    expect(await predict(w, { name: 'od', version: 2 })).toEqual({ version: 2, y: 3.5 });
    // Idle again, version 2 goes: one slot, held by the active version 3.
    await expect.poll(loaded, { timeout: 5000 }).toEqual([3]);
  });

  it('turns config version_labels into registry labels, and keeps a label the API changed', async () => {
    const base = path.join(harness.tmp, 'cfg');
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(base, '1'));
    copyVersion('saved_model_half_plus_three/00000123', path.join(base, '2'));
    const configs = [modelConfig('cfg', base, { versionLabels: { stable: 1, canary: 2 } })];
    const w = await start({ configs });
    expect(w.registry.getModel('cfg').labels).toEqual({ canary: 2, stable: 1 });
    expect(await predict(w, { name: 'cfg', label: 'stable' })).toEqual({ version: 1, y: 2.5 });
    await w.registry.setLabel('cfg', 'stable', 2, 'test');
    await w.stop();
    worlds.splice(worlds.indexOf(w), 1);
    const again = await start({ configs });
    expect(again.registry.getModel('cfg').labels).toEqual({ canary: 2, stable: 2 });
  });

  it('serves an upload to a model dropped from the config from --models_dir, also after a restart', async () => {
    const base = path.join(harness.tmp, 'old');
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(base, '1'));
    const w = await start({ configs: [modelConfig('old', base)] });
    expect(await predict(w, { name: 'old' })).toEqual({ version: 1, y: 2.5 });
    await w.stop();
    worlds.splice(worlds.indexOf(w), 1);
    const dropped = await start({ configs: [] });
    expect(dropped.registry.hasModel('old')).toBe(false);
    expect((await uploadDir(dropped, 'old', PLUS_THREE)).version).toBe(2);
    expect(await predict(dropped, { name: 'old' })).toEqual({ version: 2, y: 3.5 });
    expect(fs.existsSync(path.join(harness.modelsDir, 'old/2/saved_model.pb'))).toBe(true);
    await dropped.stop();
    worlds.splice(worlds.indexOf(dropped), 1);
    const again = await start({ configs: [] });
    expect(again.registry.getModel('old')).toMatchObject({ basePath: path.join(harness.modelsDir, 'old'), origin: 'uploaded', activeVersion: 2 });
    // Version 1 lives in the old base path, which this model no longer reads.
    expect(again.registry.getVersion('old', 1).state).toBe('REMOVED');
  });

  it('serves only what an explicit version policy allows, and says so when asked for more', async () => {
    const base = path.join(harness.tmp, 'pol');
    copyVersion('saved_model_half_plus_two_cpu/00000123', path.join(base, '1'));
    copyVersion('saved_model_half_plus_three/00000123', path.join(base, '2'));
    const w = await start({ configs: [modelConfig('pol', base, { versionPolicy: { kind: 'latest', numVersions: 1 }, versionPolicyExplicit: true })] });
    const e = await errorOf(w.registry.pin('pol', 1, 'test'));
    expect([e.code, e.message]).toEqual(['FAILED_PRECONDITION', "Version 1 of model pol cannot be pinned: the model's version policy (latest 1) does not serve it."]);
    expect((await errorOf(predict(w, { name: 'pol', version: 1 }))).code).toBe('NOT_FOUND');
    // Retiring the newest lets the policy pick the next one.
    await w.registry.retire('pol', 2, {}, 'test');
    await w.registry.settled();
    expect(await predict(w, { name: 'pol' })).toEqual({ version: 1, y: 2.5 });
  });
}
