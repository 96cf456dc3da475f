import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StatusError } from '../../../runtime/errors.js';
import { assetFiles, initOpName, readSavedModel, selectMetaGraph, variablesPrefix } from '../../../runtime/savedmodel/reader.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const fixture = (p: string) => path.join(FIXTURES, p);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-reader-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function load(dir: string) {
  const file = await readSavedModel(fixture(dir));
  return { file, meta: selectMetaGraph(file, ['serve']) };
}

async function statusOf(p: Promise<unknown> | (() => unknown)): Promise<StatusError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

const HALF_PLUS_TWO_TF1 = [
  'saved_model_half_plus_two_cpu/00000123',
  'saved_model_half_plus_two_2_versions/00000123',
  'saved_model_half_plus_two_2_versions/00000124',
  'saved_model_half_plus_two_mkl/00000123',
  'saved_model_half_plus_two_cpu_with_saved_model_config/00000123',
];

describe('readSavedModel + selectMetaGraph on the TF Serving fixtures', () => {
  for (const dir of HALF_PLUS_TWO_TF1) {
    it(`${dir}: predict/classify/regress signatures, V2 saver, assets, init op`, async () => {
      const { file, meta } = await load(dir);
      expect(file.tagSets).toEqual([['serve']]);
      expect(file.schemaVersion).toBe(1);
      const predict = meta.signatureDef['serving_default'];
      expect(predict.methodName).toBe('tensorflow/serving/predict');
      expect(predict.inputs['x']).toEqual({ name: 'x:0', dtype: 'float32', shape: { unknownRank: false, dims: [-1, 1] } });
      expect(predict.outputs['y'].name).toBe('y:0');
      expect(meta.signatureDef['classify_x_to_y'].methodName).toBe('tensorflow/serving/classify');
      expect(meta.signatureDef['classify_x_to_y'].inputs['inputs'].dtype).toBe('string');
      expect(meta.signatureDef['regress_x_to_y'].methodName).toBe('tensorflow/serving/regress');
      expect(meta.saverDef).toMatchObject({ filenameTensorName: 'save/Const:0', restoreOpName: 'save/restore_all', sharded: true, version: 2 });
      expect(initOpName(meta, file.dir)).toMatch(/^group_deps/);
      expect([...assetFiles(meta, file.dir)]).toEqual([['Const:0', path.join(file.dir, 'assets', 'foo.txt')]]);
      expect(variablesPrefix(file.dir)).toBe(path.join(file.dir, 'variables', 'variables'));
      expect(meta.graphDef.library.function).toEqual([]);
    });
  }

  it('half_plus_two_cpu: graph contents', async () => {
    const { meta } = await load('saved_model_half_plus_two_cpu/00000123');
    expect(meta.graphDef.node).toHaveLength(74);
    expect(meta.metaInfoDef.tensorflowVersion).toBe('1.14.0');
    expect(Object.keys(meta.signatureDef).sort()).toEqual(['classify_x_to_y', 'regress_x2_to_y3', 'regress_x_to_y', 'regress_x_to_y2', 'serving_default']);
    const ops = new Set(meta.graphDef.node.map((n) => n.op));
    for (const op of ['VariableV2', 'RestoreV2', 'ParseExample', 'Mul', 'Add']) expect(ops.has(op)).toBe(true);
    expect(meta.collectionDef['saved_model_main_op'].nodeList).toEqual(['group_deps']);
  });

  it("converted to run ('run'), a graph leaves out the _output_shapes attrs; otherwise every attr stays", async () => {
    for (const dir of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
      const all = selectMetaGraph(await readSavedModel(fixture(dir)), ['serve']);
      const run = selectMetaGraph(await readSavedModel(fixture(dir)), ['serve'], 'run');
      const nodes = (m: typeof all) => [...m.graphDef.node, ...m.graphDef.library.function.flatMap((f) => f.nodeDef)];
      expect(nodes(all).filter((n) => '_output_shapes' in n.attr).length, dir).toBeGreaterThan(20);
      expect(nodes(run).filter((n) => '_output_shapes' in n.attr)).toEqual([]);
      const rest = (m: typeof all) => nodes(m).map((n) => ({ ...n, attr: Object.fromEntries(Object.entries(n.attr).filter(([k]) => k !== '_output_shapes')) }));
      expect(rest(run)).toEqual(rest(all));
    }
  });

  it('half_plus_two_2_versions/00000124 uses the legacy_init_op collection', async () => {
    const { meta } = await load('saved_model_half_plus_two_2_versions/00000124');
    expect(meta.collectionDef['saved_model_main_op']).toBeUndefined();
    expect(initOpName(meta)).toBe('group_deps');
  });

  it('half_plus_three: scalar signatures and the regress signature keyed by method name', async () => {
    const { file, meta } = await load('saved_model_half_plus_three/00000123');
    expect(meta.signatureDef['serving_default'].inputs['x'].shape).toEqual({ unknownRank: false, dims: [] });
    expect(meta.signatureDef['tensorflow/serving/regress'].outputs['outputs'].name).toBe('Identity:0');
    expect(initOpName(meta)).toBe('group_deps');
    expect(assetFiles(meta, file.dir).get('Const:0')).toBe(path.join(file.dir, 'assets', 'foo.txt'));
  });

  it('tf2: function library, resource variables, init op from the signature, asset_file_def', async () => {
    const { file, meta } = await load('saved_model_half_plus_two_tf2_cpu/00000123');
    expect(meta.metaInfoDef.tensorflowVersion).toBe('2.14.0');
    expect(meta.graphDef.node).toHaveLength(29);
    const fns = meta.graphDef.library.function.map((f) => f.signature.name);
    expect(fns).toHaveLength(14);
    expect(fns).toContain('__inference_signature_wrapper_predict_245');
    const predictFn = meta.graphDef.library.function.find((f) => f.signature.name === '__inference_predict_235')!;
    expect(predictFn.signature.inputArg.length).toBeGreaterThan(0);
    expect(Object.keys(predictFn.ret).length).toBeGreaterThan(0);
    for (const sig of Object.values(meta.signatureDef)) {
      if (sig.methodName) expect(sig.methodName).toBe('tensorflow/serving/predict');
    }
    expect(meta.signatureDef['serving_default'].inputs['x']).toEqual({ name: 'serving_default_x:0', dtype: 'float32', shape: { unknownRank: false, dims: [1] } });
    expect(meta.signatureDef['serving_default'].outputs['y'].name).toBe('StatefulPartitionedCall_5:0');
    expect(initOpName(meta)).toBe('NoOp');
    expect([...assetFiles(meta, file.dir)]).toEqual([['asset_path_initializer:0', path.join(file.dir, 'assets', 'foo.txt')]]);
    expect(meta.saverDef?.restoreOpName).toBe('StatefulPartitionedCall_7');
    const ops = new Set(meta.graphDef.node.map((n) => n.op));
    for (const op of ['VarHandleOp', 'StatefulPartitionedCall']) expect(ops.has(op)).toBe(true);
  });

  it('counter: four stateful signatures and no init op', async () => {
    const { meta } = await load('saved_model_counter/00000123');
    expect(Object.keys(meta.signatureDef).sort()).toEqual(['get_counter', 'incr_counter', 'incr_counter_by', 'reset_counter']);
    expect(meta.signatureDef['incr_counter_by'].inputs['delta']).toEqual({ name: 'delta:0', dtype: 'float32', shape: { unknownRank: true, dims: [] } });
    expect(meta.signatureDef['get_counter'].outputs['output'].name).toBe('counter:0');
    expect(initOpName(meta)).toBeUndefined();
    expect(meta.graphDef.node).toHaveLength(30);
  });

  it('matrix_half_plus_two: no variables, no saver', async () => {
    const { file, meta } = await load('matrix_half_plus_two/1');
    expect(meta.signatureDef['serving_default'].inputs['x'].shape.dims).toEqual([-1, 3, 3]);
    expect(meta.saverDef).toBeUndefined();
    expect(variablesPrefix(file.dir)).toBeUndefined();
    expect(meta.graphDef.node.map((n) => n.op).sort()).toEqual(['Add', 'Const', 'Const', 'Mul', 'NoOp', 'Placeholder']);
  });

  it('matches tags as a set and names the available tag sets otherwise', async () => {
    const file = await readSavedModel(fixture('saved_model_half_plus_two_cpu/00000123'));
    expect(selectMetaGraph(file, ['serve', 'serve']).signatureDef['serving_default']).toBeDefined();
    const e = await statusOf(() => selectMetaGraph(file, ['foo']));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain('Could not find meta graph def matching supplied tags: { foo }');
    expect(e.message).toContain('[serve]');
    const both = await statusOf(() => selectMetaGraph(file, ['serve', 'gpu']));
    expect(both.message).toContain('{ serve gpu }');
  });
});

describe('not a SavedModel', () => {
  it('rejects the legacy SessionBundle with TF wording and a hint', async () => {
    const dir = fixture('bad_half_plus_two/00000123');
    const e = await statusOf(readSavedModel(dir));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toContain(`Could not find SavedModel .pb or .pbtxt at supplied export directory path: ${dir}`);
    expect(e.message).toMatch(/SessionBundle.*not supported/);
  });

  it('rejects a missing directory without the SessionBundle hint', async () => {
    const e = await statusOf(readSavedModel(path.join(tmp, 'nope')));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).not.toContain('SessionBundle');
  });

  it('reports a corrupt saved_model.pb as DATA_LOSS', async () => {
    const dir = path.join(tmp, 'corrupt');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f, 1, 2]));
    const e = await statusOf(readSavedModel(dir));
    expect(e.code).toBe('DATA_LOSS');
    expect(e.message).toContain(path.join(dir, 'saved_model.pb'));
  });

  it('reads saved_model.pbtxt', async () => {
    const dir = path.join(tmp, 'text');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'saved_model.pbtxt'),
      `saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" tags: "gpu" }
  graph_def { node { name: "x" op: "Placeholder" attr { key: "dtype" value { type: DT_FLOAT } } } }
  signature_def {
    key: "serving_default"
    value {
      inputs { key: "x" value { name: "x:0" dtype: DT_FLOAT tensor_shape { dim { size: -1 } } } }
      method_name: "tensorflow/serving/predict"
    }
  }
}
`,
    );
    const file = await readSavedModel(dir);
    const meta = selectMetaGraph(file, ['gpu', 'serve']);
    expect(meta.graphDef.node[0].attr['dtype']).toEqual({ kind: 'type', type: 'float32' });
    expect(meta.signatureDef['serving_default'].inputs['x'].shape.dims).toEqual([-1]);
  });
});
