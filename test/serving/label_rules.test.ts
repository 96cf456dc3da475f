// TF Serving's version-label rules (server_core.cc UpdateModelVersionLabelMap)
// without the registry: a config label must name an AVAILABLE version unless
// --allow_version_labels_for_unavailable_models, which lets a NEW label (or
// one kept on its version) name any version; a refused config keeps the old labels.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../serving/log.js';
import { modelConfig } from '../../serving/model_config.js';
import { ServingCore } from '../../serving/serving_core.js';
import { StatusError } from '../../runtime/errors.js';
import { inlineEngine } from '../../runtime/execution/serving_engine.js';
import { copyVersion } from '../server/helpers.js';

let tmp: string;
let base: string;
let core: ServingCore | undefined;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-labels-'));
  base = path.join(tmp, 'm');
  for (const v of ['1', '2']) copyVersion('matrix_half_plus_two/1', path.join(base, v));
});
afterEach(async () => {
  await core?.stop();
  core = undefined;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function newCore(allowVersionLabelsForUnavailableModels?: boolean): ServingCore {
  core = new ServingCore({ engine: inlineEngine(), fileSystemPollWaitSeconds: 0, allowVersionLabelsForUnavailableModels, log: silentLogger });
  return core;
}

const latest = (labels: Record<string, number>) => modelConfig('m', base, { versionLabels: labels }); // serves version 2 only

async function rejection(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (e) {
    return e as StatusError;
  }
  throw new Error('did not reject');
}

const unavailableText = (v: number) => `Request to assign label to version ${v} of model m, which is not currently available for inference`;

describe('version labels without the registry', () => {
  it('refuses a label on a version that is not available (default), with TF Serving\'s text', async () => {
    const err = await rejection(newCore().start([latest({ stable: 1 })]));
    expect([err.code, err.message]).toEqual(['FAILED_PRECONDITION', unavailableText(1)]);
  });

  it('takes a label on an available version', async () => {
    const c = newCore();
    await c.start([latest({ stable: 2 })]);
    const h = c.getHandle({ name: 'm', label: 'stable' });
    expect(h.version).toBe(2);
    h.release();
  });

  it('with the flag, a new label may name a version not available; moving an existing one there is still refused', async () => {
    const c = newCore(true);
    await c.start([latest({ stable: 2, canary: 7 })]);
    expect(() => c.getHandle({ name: 'm', label: 'canary' })).toThrow('Servable not found for request: Specific(m, 7)');
    const err = await rejection(c.reloadConfig([latest({ stable: 1, canary: 7 })]));
    expect([err.code, err.message]).toEqual(['FAILED_PRECONDITION', unavailableText(1)]);
    // The refused config left the labels as they were.
    const h = c.getHandle({ name: 'm', label: 'stable' });
    expect(h.version).toBe(2);
    h.release();
  });
});
