import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { BundleReader } from '../../../runtime/checkpoint/bundle_reader.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import '../../../runtime/kernels/index.js';
import { readSavedModel, selectMetaGraph } from '../../../runtime/savedmodel/reader.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');

beforeAll(async () => {
  await initBackend();
});

/** Restores a fixture's variables, then runs its SaverDef's save path to a new prefix. */
async function restoreThenSave(dir: string): Promise<string> {
  const meta = selectMetaGraph(await readSavedModel(dir), ['serve']);
  const resources = new ModelResources();
  const lib = new FunctionLibrary(meta.graphDef.library.function, meta.metaInfoDef.strippedOpList, resources);
  const env = { resources, functions: lib };
  const saver = meta.saverDef!;
  const source = path.join(dir, 'variables', 'variables');
  resources.addCheckpoint(source, await BundleReader.open(source));
  const graph = { mode: 'graph' as const, nodes: meta.graphDef.node, feeds: [saver.filenameTensorName], label: 'saver' };
  lib.compile({ ...graph, fetches: [], targets: [saver.restoreOpName] }).run([Tensor.scalar('string', source)], env);
  const target = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-save-')), 'ckpt');
  lib.compile({ ...graph, fetches: [saver.saveTensorName], targets: [] }).run([Tensor.scalar('string', target)], env);
  return target;
}

describe('SaveV2 and MergeV2Checkpoints', () => {
  for (const fixture of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`${fixture}: the SaverDef's save path writes a checkpoint holding the restored values`, async () => {
      const prefix = await restoreThenSave(path.join(FIXTURES, fixture));
      const saved = await BundleReader.open(prefix);
      const original = await BundleReader.open(path.join(FIXTURES, fixture, 'variables', 'variables'));
      const keys = original.keys().filter((k) => k !== '_CHECKPOINTABLE_OBJECT_GRAPH');
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) expect(saved.read(k).numbers(), k).toEqual(original.read(k).numbers());
    });
  }
});
