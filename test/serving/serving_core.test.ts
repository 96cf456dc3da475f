// The serving core with the real runtime and real SavedModels: the watcher's
// folder rules, ref-counted handles across a swap, retries of failed loads,
// version policies, labels and config reloads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { modelConfig, type ModelConfig } from '../../serving/model_config.js';
import { ServingCore } from '../../serving/serving_core.js';
import { StatusError } from '../../runtime/errors.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { Tensor } from '../../runtime/tensor.js';
import { copyVersion, FIXTURES, waitFor } from '../server/helpers.js';

const MATRIX = 'matrix_half_plus_two/1'; // no variables: y = 0.5x + 2
const COUNTER = 'saved_model_counter/00000123'; // variables: signatures mutate a counter

let tmp: string;
let core: ServingCore | undefined;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-core-'));
});
afterEach(async () => {
  await core?.stop();
  core = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function start(models: ModelConfig[], pollSeconds = 0.1): Promise<ServingCore> {
  core = new ServingCore({ engine: inlineEngine(), fileSystemPollWaitSeconds: pollSeconds, log: silentLogger });
  await core.start(models);
  return core;
}

function errorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('did not throw');
}

const states = (c: ServingCore, name: string) => c.monitor.getVersionStates(name).map((s) => [s.version, s.state]);

describe('serving core', () => {
  it('starts with a base path that does not exist yet and serves the first version once it appears', async () => {
    const base = path.join(tmp, 'later');
    const c = await start([modelConfig('m', base)]);
    expect(errorOf(() => c.getHandle({ name: 'm' })).message).toBe('Servable not found for request: Latest(m)');
    expect(c.monitor.getVersionStates('m')).toEqual([]);
    fs.mkdirSync(base);
    copyVersion(MATRIX, path.join(base, '3'));
    await waitFor('version 3', () => c.manager.availableVersions('m').includes(3));
    const h = c.getHandle({ name: 'm' });
    expect(h.version).toBe(3);
    h.release();
  });

  it('takes only all-digit folders as versions (00000007 is 7) and ignores files, dot and temp folders', async () => {
    const base = path.join(tmp, 'm');
    for (const name of ['tmp', '.9', '9.tmp', '00000007']) copyVersion(MATRIX, path.join(base, name));
    fs.writeFileSync(path.join(base, '8'), 'not a folder');
    const c = await start([modelConfig('m', base, { versionPolicy: { kind: 'all' } })]);
    expect(states(c, 'm')).toEqual([[7, 'AVAILABLE']]);
  });

  it('lets a request holding the old version finish on it while the new version takes over', async () => {
    const base = path.join(tmp, 'm');
    copyVersion(MATRIX, path.join(base, '1'));
    const c = await start([modelConfig('m', base)]);
    const held = c.getHandle({ name: 'm' });
    copyVersion(MATRIX, path.join(base, '2'));
    await c.pollNow();
    await waitFor('version 2', () => c.monitor.getState('m', 2)?.state === 'AVAILABLE');
    await waitFor('version 1 to leave traffic', () => c.monitor.getState('m', 1)?.state === 'UNLOADING');
    // New requests go to version 2; the held request still runs on version 1.
    const fresh = c.getHandle({ name: 'm' });
    expect(fresh.version).toBe(2);
    fresh.release();
    expect(errorOf(() => c.getHandle({ name: 'm', version: 1 })).code).toBe('NOT_FOUND');
    const { y } = await held.model.run('serving_default', { x: Tensor.from('float32', [1, 2], [2, 4]) });
    expect(y.numbers()).toEqual([3, 4]);
    expect(c.monitor.getState('m', 1)?.state).toBe('UNLOADING');
    held.release();
    await waitFor('version 1 to end', () => c.monitor.getState('m', 1)?.state === 'END');
  });

  it('keeps serving when a new version fails to load, and retries it only once its files change', async () => {
    const base = path.join(tmp, 'c');
    copyVersion(COUNTER, path.join(base, '1'));
    const c = await start([modelConfig('c', base)]);
    let loads = 0;
    c.monitor.subscribe((s) => {
      if (s.version === 2 && s.state === 'LOADING') loads++;
    });
    copyVersion(COUNTER, path.join(base, '2'));
    const shard = path.join(base, '2/variables/variables.data-00000-of-00001');
    const good = fs.readFileSync(shard);
    fs.writeFileSync(shard, Buffer.alloc(good.length, 0xff));
    await c.pollNow();
    await waitFor('version 2 to fail', () => c.monitor.getState('c', 2)?.state === 'END');
    expect(c.monitor.getState('c', 2)?.status.code).toBe('DATA_LOSS');
    expect(c.monitor.getState('c', 1)?.state).toBe('AVAILABLE');
    const h = c.getHandle({ name: 'c' });
    expect(h.version).toBe(1);
    h.release();
    await c.pollNow();
    await c.pollNow();
    await c.manager.settled();
    expect(loads).toBe(1);
    fs.writeFileSync(shard, good);
    await c.pollNow();
    await waitFor('version 2 to load after the fix', () => c.monitor.getState('c', 2)?.state === 'AVAILABLE');
    expect(loads).toBe(2);
    await waitFor('version 1 to end', () => c.monitor.getState('c', 1)?.state === 'END');
  });

  it('does not load a version folder until its saved_model.pb and variables are completely written', async () => {
    const base = path.join(tmp, 'c');
    copyVersion(COUNTER, path.join(base, '1'));
    const c = await start([modelConfig('c', base)]);
    const source = path.join(FIXTURES, COUNTER);
    const v2 = path.join(base, '2');
    fs.mkdirSync(path.join(v2, 'variables'), { recursive: true });
    const pb = fs.readFileSync(path.join(source, 'saved_model.pb'));
    const steps: [string, () => void][] = [
      ['half of saved_model.pb', () => fs.writeFileSync(path.join(v2, 'saved_model.pb'), pb.subarray(0, pb.length >> 1))],
      ['saved_model.pb, no variables', () => fs.writeFileSync(path.join(v2, 'saved_model.pb'), pb)],
      ['the index, no data shard', () => fs.copyFileSync(path.join(source, 'variables/variables.index'), path.join(v2, 'variables/variables.index'))],
      ['an empty data shard', () => fs.writeFileSync(path.join(v2, 'variables/variables.data-00000-of-00001'), '')],
    ];
    for (const [what, write] of steps) {
      write();
      await c.pollNow();
      await c.manager.settled();
      expect(c.monitor.getState('c', 2), what).toBeUndefined();
      expect(c.manager.availableVersions('c'), what).toEqual([1]);
    }
    fs.copyFileSync(path.join(source, 'variables/variables.data-00000-of-00001'), path.join(v2, 'variables/variables.data-00000-of-00001'));
    await c.pollNow();
    await waitFor('version 2 to load once complete', () => c.monitor.getState('c', 2)?.state === 'AVAILABLE');
  });

  it('loads a new complete folder only once it is unchanged across two polls', async () => {
    const base = path.join(tmp, 'm');
    copyVersion(MATRIX, path.join(base, '1'));
    const c = await start([modelConfig('m', base)], 0); // polls only when asked
    copyVersion(MATRIX, path.join(base, '2'));
    await c.pollNow();
    expect(c.monitor.getState('m', 2)).toBeUndefined(); // complete, but seen once
    // Still being written to (a file grows): not yet.
    fs.appendFileSync(path.join(base, '2/assets.extra.txt'), 'x');
    await c.pollNow();
    expect(c.monitor.getState('m', 2)).toBeUndefined();
    await c.pollNow();
    await waitFor('version 2 once stable', () => c.monitor.getState('m', 2)?.state === 'AVAILABLE');
  });

  it('applies version policies and resolves labels', async () => {
    const base = path.join(tmp, 'm');
    for (const v of ['1', '2', '3']) copyVersion(MATRIX, path.join(base, v));
    const c = await start([
      modelConfig('all', base, { versionPolicy: { kind: 'all' } }),
      modelConfig('two', base, { versionPolicy: { kind: 'latest', numVersions: 2 } }),
      modelConfig('pinned', base, { versionPolicy: { kind: 'specific', versions: [1, 3, 9] }, versionLabels: { stable: 1, canary: 3 } }),
    ]);
    expect(c.manager.availableVersions('all')).toEqual([1, 2, 3]);
    expect(c.manager.availableVersions('two')).toEqual([2, 3]);
    expect(c.manager.availableVersions('pinned')).toEqual([1, 3]);
    const stable = c.getHandle({ name: 'pinned', label: 'stable' });
    expect(stable.version).toBe(1);
    stable.release();
    const err = errorOf(() => c.getHandle({ name: 'pinned', label: 'beta' }));
    expect([err.code, err.message]).toEqual(['INVALID_ARGUMENT', 'Unrecognized servable version label: beta']);
    expect(errorOf(() => c.getHandle({ name: 'pinned', version: 2 })).message).toBe('Servable not found for request: Specific(pinned, 2)');
  });

  it('adds and removes models on a config reload', async () => {
    const base = path.join(tmp, 'm');
    copyVersion(MATRIX, path.join(base, '1'));
    const c = await start([modelConfig('a', base)]);
    await c.reloadConfig([modelConfig('b', base)]);
    expect(c.manager.availableVersions('b')).toEqual([1]);
    await waitFor('model a to be unloaded', () => c.monitor.getState('a', 1)?.state === 'END');
    expect(errorOf(() => c.getHandle({ name: 'a' })).code).toBe('NOT_FOUND');
  });
});
