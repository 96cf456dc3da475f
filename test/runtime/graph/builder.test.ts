import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../../runtime/engine.js';
import { builderOp, builderOpNames, ModelBuilder } from '../../../runtime/graph/builder.js';
import type { FunctionDef, MetaGraph, NodeDef, OpDef } from '../../../runtime/graph/types.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { tsEngine } from '../../../runtime/loader.js';
import { readSavedModel, selectMetaGraph } from '../../../runtime/savedmodel/reader.js';
import { writeSavedModel } from '../../../runtime/savedmodel/writer.js';
import { Tensor } from '../../../runtime/tensor.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'builder-test-'));
const loaded: LoadedModel[] = [];
afterAll(() => {
  loaded.forEach((m) => m.dispose());
  fs.rmSync(tmp, { recursive: true, force: true });
});

const f32 = (shape: number[], values: number[]) => Tensor.from('float32', shape, values);

/**
 * TF's rules for a valid node (graph/node_def_util ValidateNodeDef) plus
 * function-body references: the op is in the stripped op list, every attr
 * without a default is set, no attr is unknown, and every input names an
 * existing node output (function bodies: "node:out_arg:i" with a real arg).
 */
function validate(meta: MetaGraph): void {
  const ops = new Map(meta.metaInfoDef.strippedOpList.map((o) => [o.name, o]));
  const fns = new Map(meta.graphDef.library.function.map((f) => [f.signature.name, f]));
  const checkNode = (n: NodeDef, where: string, nodes: Map<string, NodeDef>, args: Set<string>) => {
    const def = ops.get(n.op) ?? (fns.get(n.op)?.signature as OpDef | undefined);
    expect(def, `${where}: op ${n.op} is not in the stripped op list`).toBeDefined();
    for (const a of def!.attr) if (!a.defaultValue) expect(n.attr[a.name], `${where}: ${n.name} lacks required attr ${a.name}`).toBeDefined();
    for (const k of Object.keys(n.attr)) expect(def!.attr.some((a) => a.name === k), `${where}: ${n.name} has unknown attr ${k}`).toBe(true);
    for (const f of Object.values(n.attr)) if (f.kind === 'func') expect(fns.has(f.func.name), `${where}: ${n.name} calls missing ${f.func.name}`).toBe(true);
    for (const input of n.input) {
      const ref = input.replace(/^\^/, '');
      const parts = ref.split(':');
      if (args.has(parts[0]) && parts.length === 1) continue;
      const src = nodes.get(parts[0]);
      expect(src, `${where}: ${n.name} reads unknown ${ref}`).toBeDefined();
      if (parts.length === 3) {
        const srcDef = ops.get(src!.op)!;
        expect(srcDef.outputArg.map((a) => a.name), `${where}: ${ref}`).toContain(parts[1]);
      }
    }
  };
  const graphNodes = new Map(meta.graphDef.node.map((n) => [n.name, n]));
  for (const n of meta.graphDef.node) checkNode(n, 'graph', graphNodes, new Set());
  for (const f of meta.graphDef.library.function) {
    const nodes = new Map(f.nodeDef.map((n) => [n.name, n]));
    const args = new Set(f.signature.inputArg.map((a) => a.name));
    for (const n of f.nodeDef) checkNode(n, f.signature.name, nodes, args);
    expect(Object.keys(f.ret).sort()).toEqual(f.signature.outputArg.map((a) => a.name).sort());
    for (const r of Object.values(f.ret)) expect(nodes.has(r.split(':')[0]), `${f.signature.name} returns ${r}`).toBe(true);
  }
}

const fnNamed = (meta: MetaGraph, prefix: string): FunctionDef => meta.graphDef.library.function.find((f) => f.signature.name.startsWith(prefix))!;
const opsOf = (nodes: NodeDef[]) => nodes.map((n) => n.op);

describe('op definitions', () => {
  it('match the OpDefs TensorFlow 2.14 wrote into a real SavedModel', async () => {
    const meta = selectMetaGraph(await readSavedModel(path.join(FIXTURES, 'saved_model_half_plus_two_tf2_cpu/00000123')), ['serve']);
    const known = new Set(builderOpNames());
    const shared = meta.metaInfoDef.strippedOpList.filter((o) => known.has(o.name));
    expect(shared.map((o) => o.name)).toEqual(
      expect.arrayContaining(['AddV2', 'AssignVariableOp', 'Const', 'Identity', 'Mul', 'NoOp', 'Placeholder', 'ReadVariableOp', 'Reshape', 'RestoreV2', 'SaveV2', 'StatefulPartitionedCall', 'VarHandleOp']),
    );
    for (const tfDef of shared) expect(builderOp(tfDef.name).def, tfDef.name).toEqual(tfDef);
  });

  it('declare the attrs, types and defaults of TF op registrations', () => {
    const attrs = (op: string) => builderOp(op).def.attr.map((a) => `${a.name}:${a.type}${a.defaultValue ? '=' + JSON.stringify(a.defaultValue) : ''}`);
    expect(attrs('DecodeImage')).toEqual([
      'channels:int={"kind":"i","i":0}',
      'dtype:type={"kind":"type","type":"uint8"}',
      'expand_animations:bool={"kind":"b","b":true}',
    ]);
    expect(attrs('TensorListReserve')).toEqual(['element_dtype:type', 'shape_type:type']);
    expect(attrs('StatelessWhile')).toEqual(['T:list(type)', 'cond:func', 'body:func', 'output_shapes:list(shape)={"kind":"list","list":{"s":[],"i":[],"f":[],"b":[],"type":[],"shape":[],"tensor":[],"func":[]}}', 'parallel_iterations:int={"kind":"i","i":10}']);
    expect(attrs('Max')).toEqual(['keep_dims:bool={"kind":"b","b":false}', 'T:type', 'Tidx:type={"kind":"type","type":"int32"}']);
    expect(builderOp('Where').def.outputArg[0]).toMatchObject({ name: 'index', type: 'int64' });
    expect(builderOp('While').def.isStateful).toBe(true);
    expect(builderOp('StatelessWhile').def.isStateful).toBe(false);
  });

  it('every op the builder can emit has a runtime kernel, but SaveV2 (only run to save a checkpoint)', () => {
    expect(builderOpNames().filter((op) => !kernelFor(op) && op !== 'SaveV2')).toEqual([]);
  });
});

describe('ModelBuilder', () => {
  it('infers type attrs from inputs, strips defaults and keeps required attrs', () => {
    const m = new ModelBuilder();
    const fn = m.function('f', [{ name: 'x', dtype: 'float32', shape: [-1, 3] }], (tf, x) => [tf.reduceMax(x, [1]), tf.shapeOf(x), tf.cast(x, 'int32')]);
    m.signature('serving_default', fn);
    const { metaGraph } = m.build();
    validate(metaGraph);
    const body = fnNamed(metaGraph, '__inference_f_').nodeDef;
    const max = body.find((n) => n.op === 'Max')!;
    expect(max.attr).toEqual({ T: { kind: 'type', type: 'float32' } });
    expect(body.find((n) => n.op === 'Shape')!.attr).toEqual({ T: { kind: 'type', type: 'float32' } });
    expect(body.find((n) => n.op === 'Cast')!.attr).toEqual({ DstT: { kind: 'type', type: 'int32' }, SrcT: { kind: 'type', type: 'float32' } });
    expect(metaGraph.metaInfoDef.strippedDefaultAttrs).toBe(true);

    const full = new ModelBuilder({ stripDefaultAttrs: false });
    full.signature('s', full.function('f', [{ name: 'x', dtype: 'float32', shape: [-1, 3] }], (tf, x) => tf.reduceMax(x, [1])));
    const built = full.build().metaGraph;
    const maxFull = fnNamed(built, '__inference_f_').nodeDef.find((n) => n.op === 'Max')!;
    expect(Object.keys(maxFull.attr).sort()).toEqual(['T', 'Tidx', 'keep_dims']);
    expect(built.metaInfoDef.strippedDefaultAttrs).toBe(false);
  });

  it('refuses inputs of the wrong type and ops it has no definition for', () => {
    const m = new ModelBuilder();
    expect(() =>
      m.function('bad', [{ name: 's', dtype: 'string', shape: [] }], (tf, s) => tf.op('TensorListGetItem', [s, s, s], { element_dtype: 'float32' })),
    ).toThrow(/input input_handle must be variant, got string/);
    expect(() => m.function('bad2', [{ name: 'x', dtype: 'float32', shape: [] }], (tf, x) => tf.op('FancyOp', [x]))).toThrow(/no definition of op FancyOp/);
    expect(() => m.function('bad3', [{ name: 'x', dtype: 'float32', shape: [] }], (tf, x) => tf.op('Cast', [x]))).toThrow(/missing attr DstT/);
    expect(() => m.function('bad4', [{ name: 'x', dtype: 'string', shape: [] }], (tf, x) => tf.mul(x, x))).toThrow(/T=string is not allowed/);
  });

  it('names nodes uniquely under name scopes, like TF', () => {
    const m = new ModelBuilder();
    const fn = m.function('f', [{ name: 'x', dtype: 'float32', shape: [-1, 2] }], (tf, x) => {
      const a = tf.reshape(x, [-1]);
      const b = tf.reshape(a, [2, -1]);
      return tf.nameScope('dense', () => tf.add(b, 1));
    });
    m.signature('s', fn);
    const nodes = fnNamed(m.build().metaGraph, '__inference_f_').nodeDef.map((n) => n.name);
    expect(nodes).toEqual(['Reshape/shape', 'Reshape', 'Reshape_1/shape', 'Reshape_1', 'dense/add/y', 'dense/add', 'Identity']);
  });

  it('compiles map_fn like TF 2.x: TensorLists and a StatelessWhile with cond/body functions', () => {
    const m = new ModelBuilder();
    const fn = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 3] }], (tf, x) =>
      tf.mapFn(x, (tf, row) => tf.reduceMax(row), { dtype: 'float32', shape: [] }),
    );
    m.signature('serving_default', fn);
    const meta = m.build().metaGraph;
    validate(meta);
    const serving = fnNamed(meta, '__inference_serving_');
    expect(opsOf(serving.nodeDef)).toEqual(
      expect.arrayContaining(['Shape', 'StridedSlice', 'TensorListReserve', 'TensorListFromTensor', 'StatelessWhile', 'TensorListStack']),
    );
    const loop = serving.nodeDef.find((n) => n.op === 'StatelessWhile')!;
    expect(loop.name).toBe('map/while');
    const T = loop.attr.T.kind === 'list' ? loop.attr.T.list.type : [];
    // loop_counter, maximum_iterations, i, accumulator list, then captures: n and the unstacked elements
    expect(T).toEqual(['int32', 'int32', 'int32', 'variant', 'int32', 'variant']);
    const body = fnNamed(meta, 'map_while_body_');
    const cond = fnNamed(meta, 'map_while_cond_');
    expect(opsOf(body.nodeDef)).toEqual(expect.arrayContaining(['TensorListGetItem', 'Max', 'TensorListSetItem', 'AddV2']));
    expect(opsOf(cond.nodeDef)).toEqual(expect.arrayContaining(['Less', 'LogicalAnd']));
    expect(body.signature.inputArg.map((a) => a.type)).toEqual(T);
    expect(cond.signature.inputArg.map((a) => a.type)).toEqual(T);
    expect(body.signature.outputArg.map((a) => a.type)).toEqual(T);
    expect(cond.signature.outputArg.map((a) => a.type)).toEqual(['bool']);
    expect(loop.input[4]).toBe('map/strided_slice:output:0');
    expect(serving.nodeDef.find((n) => n.op === 'TensorListStack')!.input[0]).toBe('map/while:output:3');
  });

  it('captures variables as resource arguments, passed by the signature call', () => {
    const m = new ModelBuilder();
    const w = m.variable('dense/kernel', f32([2, 2], [1, 2, 3, 4]));
    const fn = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 2] }], (tf, x) => tf.matmul(x, tf.readVariable(w)));
    m.signature('serving_default', fn);
    const meta = m.build().metaGraph;
    validate(meta);
    const serving = fnNamed(meta, '__inference_serving_');
    expect(serving.signature.inputArg.map((a) => [a.name, a.type])).toEqual([['x', 'float32'], ['dense_kernel', 'resource']]);
    expect(serving.signature.isStateful).toBe(true);
    const call = meta.graphDef.node.find((n) => n.name === 'StatefulPartitionedCall')!;
    expect(call.input).toEqual(['serving_default_x', 'dense/kernel']);
    expect(meta.signatureDef.serving_default.outputs.output_0.name).toBe('StatefulPartitionedCall:0');
    const handle = meta.graphDef.node.find((n) => n.name === 'dense/kernel')!;
    expect(handle.op).toBe('VarHandleOp');
    expect(new TextDecoder().decode((handle.attr.shared_name as { s: Uint8Array }).s)).toBe('dense/kernel');
    expect(meta.saverDef).toMatchObject({ filenameTensorName: 'saver_filename:0', restoreOpName: 'save/restore_all', version: 2 });
    const restoreAll = meta.graphDef.node.find((n) => n.name === 'save/restore_all')!;
    expect(restoreAll.input).toEqual(['^save/AssignVariableOp']);
  });

  it('a map_fn body that reads a variable becomes a stateful While, and the runtime runs it with TF semantics', async () => {
    const m = new ModelBuilder();
    const scale = m.variable('scale', f32([3], [1, 10, 100]));
    const classes = ['low', 'high'];
    const fn = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 3] }], (tf, x) =>
      tf.mapFn(
        x,
        (tf, row) => {
          const total = tf.reduceMax(tf.mul(row, tf.readVariable(scale)));
          const idx = tf.cast(tf.less(tf.constant(50, { dtype: 'float32' }), total), 'int32');
          return tf.gather(tf.constant(classes), idx);
        },
        { dtype: 'string', shape: [] },
      ),
    );
    m.signature('serving_default', fn);
    const built = m.build();
    validate(built.metaGraph);
    const serving = fnNamed(built.metaGraph, '__inference_serving_');
    expect(opsOf(serving.nodeDef)).toContain('While');
    expect(opsOf(serving.nodeDef)).not.toContain('StatelessWhile');

    const dir = path.join(tmp, 'stateful_while');
    await writeSavedModel(dir, built);
    const model = await tsEngine.load(dir);
    loaded.push(model);
    const out = model.run('serving_default', { x: f32([3, 3], [1, 1, 1, 0, 0, 0.4, 0, 6, 0]) });
    expect(out.output_0.strings()).toEqual(['high', 'low', 'high']);
    expect(model.run('serving_default', { x: f32([0, 3], []) }).output_0.shape).toEqual([0]);
  });

  it('nests map_fn loops, naming functions after their scope (map_while_map_while_body_N, map_1_while_body_N)', async () => {
    const m = new ModelBuilder();
    const fn = m.function('f', [{ name: 'x', dtype: 'float32', shape: [-1, 2, 2] }], (tf, x) => {
      const a = tf.mapFn(x, (tf, mat) => tf.mapFn(mat, (tf, row) => tf.reduceMax(row), { dtype: 'float32', shape: [] }), { dtype: 'float32', shape: [2] });
      return tf.mapFn(a, (tf, r) => tf.reduceMax(r), { dtype: 'float32', shape: [] });
    });
    m.signature('s', fn);
    const meta = m.build().metaGraph;
    validate(meta);
    expect(meta.saverDef).toBeUndefined();
    const names = meta.graphDef.library.function.map((f) => f.signature.name);
    const kinds = names.map((n) => n.replace(/_\d+$/, '')).sort();
    expect(kinds).toEqual([
      '__inference_f',
      'map_1_while_body',
      'map_1_while_cond',
      'map_while_body',
      'map_while_cond',
      'map_while_map_while_body',
      'map_while_map_while_cond',
    ]);
    const dir = path.join(tmp, 'nested');
    await writeSavedModel(dir, { metaGraph: meta });
    const model = await tsEngine.load(dir);
    loaded.push(model);
    const out = model.run('s', { x: f32([2, 2, 2], [1, 5, 3, 2, -1, -4, -3, -2]) });
    expect(Array.from(out.output_0.values() as Float32Array)).toEqual([5, -1]);
  });
});
