import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../../runtime/checkpoint/bundle_reader.js';
import type { LoadedModel } from '../../../runtime/engine.js';
import { ModelBuilder } from '../../../runtime/graph/builder.js';
import type { MetaGraph } from '../../../runtime/graph/types.js';
import { tsEngine } from '../../../runtime/loader.js';
import type { SavedModelMsg } from '../../../runtime/proto/messages.js';
import { protoType } from '../../../runtime/proto/schema.js';
import { readSavedModel, selectMetaGraph } from '../../../runtime/savedmodel/reader.js';
import { encodeSavedModel, writeSavedModel } from '../../../runtime/savedmodel/writer.js';
import { Tensor } from '../../../runtime/tensor.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'writer-test-'));
const loaded: LoadedModel[] = [];
afterAll(() => {
  loaded.forEach((m) => m.dispose());
  fs.rmSync(tmp, { recursive: true, force: true });
});

const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');

/** A small dense model: y = softmax(relu(x·W1 + b1)·W2 + b2), plus a map_fn over the rows returning each row's max. */
function denseModel(seed: number) {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const t = (shape: number[]) => Tensor.from('float32', shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rand));
  const m = new ModelBuilder();
  const w1 = m.variable('dense/kernel', t([4, 3]));
  const b1 = m.variable('dense/bias', t([3]));
  const w2 = m.variable('dense_1/kernel', t([3, 2]));
  const b2 = m.variable('dense_1/bias', t([2]));
  const fn = m.function('serving', [{ name: 'x', dtype: 'float32', shape: [-1, 4] }], (tf, x) => {
    const h = tf.relu(tf.biasAdd(tf.matmul(x, tf.readVariable(w1)), tf.readVariable(b1)));
    const p = tf.softmax(tf.biasAdd(tf.matmul(h, tf.readVariable(w2)), tf.readVariable(b2)));
    const maxes = tf.mapFn(p, (b, row) => b.reduceMax(row), { dtype: 'float32', shape: [] });
    return [p, maxes];
  });
  m.signature('serving_default', fn, { outputs: ['probabilities', 'max'] });
  return { model: m.build(), values: { w1, b1, w2, b2 } };
}

describe('writeSavedModel', () => {
  it('writes saved_model.pb and a checkpoint the reader reads back unchanged', async () => {
    const { model } = denseModel(1);
    const dir = path.join(tmp, 'dense', '1');
    await writeSavedModel(dir, model);
    expect(fs.readdirSync(dir).sort()).toEqual(['saved_model.pb', 'variables']);
    const file = await readSavedModel(dir);
    expect(file.schemaVersion).toBe(1);
    expect(file.tagSets).toEqual([['serve']]);
    const meta = selectMetaGraph(file, ['serve']);
    expect(meta.saverDef?.restoreOpName).toBe('save/restore_all');
    expect(meta.signatureDef.serving_default.methodName).toBe('tensorflow/serving/predict');
    expect(meta.metaInfoDef.strippedOpList.map((o) => o.name)).toContain('StatelessWhile');

    const reader = await BundleReader.open(path.join(dir, 'variables', 'variables'));
    expect(reader.keys()).toEqual(['dense/bias', 'dense/kernel', 'dense_1/bias', 'dense_1/kernel']);
    for (const [key, value] of model.variables) {
      expect(Array.from(reader.read(key).values() as Float32Array)).toEqual(Array.from(value.values() as Float32Array));
    }
  });

  it('is deterministic, and write → read → write gives identical bytes', async () => {
    const a = path.join(tmp, 'det', 'a');
    const b = path.join(tmp, 'det', 'b');
    const c = path.join(tmp, 'det', 'c');
    await writeSavedModel(a, denseModel(7).model);
    await writeSavedModel(b, denseModel(7).model);
    const meta = selectMetaGraph(await readSavedModel(a), ['serve']);
    const reader = await BundleReader.open(path.join(a, 'variables', 'variables'));
    const variables = new Map(reader.keys().map((k) => [k, reader.read(k)]));
    await writeSavedModel(c, { metaGraph: meta, variables });
    for (const f of ['saved_model.pb', 'variables/variables.index', 'variables/variables.data-00000-of-00001']) {
      const bytes = fs.readFileSync(path.join(a, f));
      expect(fs.readFileSync(path.join(b, f)).equals(bytes)).toBe(true);
      expect(fs.readFileSync(path.join(c, f)).equals(bytes)).toBe(true);
    }
  });

  for (const fixture of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`re-encoding TensorFlow's ${fixture.split('/')[0]} is stable (encode → decode → encode)`, async () => {
      const meta = selectMetaGraph(await readSavedModel(path.join(FIXTURES, fixture)), ['serve']);
      const once = encodeSavedModel([meta]);
      const again = encodeSavedModel([metaOf(once)]);
      expect(Buffer.from(again).equals(Buffer.from(once))).toBe(true);
      expect(metaOf(once).graphDef.node.map((n) => n.name)).toEqual(meta.graphDef.node.map((n) => n.name));
    });
  }

  it('loads in the runtime: restored weights are bit-identical and outputs follow TF semantics', async () => {
    const { model } = denseModel(3);
    const dir = path.join(tmp, 'run', '1');
    await writeSavedModel(dir, model);
    const m = await tsEngine.load(dir);
    loaded.push(m);
    expect(Object.keys(m.signatures)).toEqual(['serving_default']);
    const x = Tensor.from('float32', [3, 4], [0.1, -0.2, 0.3, 0.4, 1, 2, 3, 4, -1, 0, 1, 0]);
    const out = m.run('serving_default', { x });
    expect(out.probabilities.shape).toEqual([3, 2]);
    expect(out.max.shape).toEqual([3]);
    const p = Array.from(out.probabilities.values() as Float32Array);
    const expected = reference(model.variables, Array.from(x.values() as Float32Array), 3);
    p.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    const maxes = Array.from(out.max.values() as Float32Array);
    expect(maxes).toEqual([0, 1, 2].map((r) => Math.max(p[2 * r], p[2 * r + 1])));

    const empty = m.run('serving_default', { x: Tensor.from('float32', [0, 4], []) });
    expect(empty.probabilities.shape).toEqual([0, 2]);
    expect(empty.max.shape).toEqual([0]);
  });

  it('writes asset files under assets/ and no checkpoint for a model without variables', async () => {
    const m = new ModelBuilder();
    m.signature('s', m.function('f', [{ name: 'x', dtype: 'float32', shape: [] }], (tf, x) => tf.add(x, 1)));
    const dir = path.join(tmp, 'assets');
    await writeSavedModel(dir, { metaGraph: m.build().metaGraph, assets: { 'vocab.txt': new TextEncoder().encode('a\nb\n') } });
    expect(fs.readFileSync(path.join(dir, 'assets', 'vocab.txt'), 'utf8')).toBe('a\nb\n');
    expect(fs.readdirSync(path.join(dir, 'variables'))).toEqual([]);
    const model = await tsEngine.load(dir);
    loaded.push(model);
    expect(model.run('s', { x: Tensor.scalar('float32', 1.5) }).output_0.values()).toEqual(new Float32Array([2.5]));
    await expect(writeSavedModel(path.join(tmp, 'bad-asset'), { metaGraph: selectMetaGraph(await readSavedModel(dir), ['serve']), assets: { '../x': new Uint8Array(1) } })).rejects.toThrow(/plain file name/);
    expect(fs.existsSync(path.join(tmp, 'bad-asset'))).toBe(false);
  });

  it('restores every variable bit for bit: NaN, -0, infinities, subnormals, int64 and strings', async () => {
    const floats = new Float32Array([NaN, -0, 0, Infinity, -Infinity, 1e-45, -3.4028234663852886e38, 0.1]);
    const ints = new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, 0n]);
    const m = new ModelBuilder();
    const vf = m.variable('floats', Tensor.fromHost('float32', [2, 4], floats));
    const vi = m.variable('ints', Tensor.fromHost('int64', [3], ints));
    const vs = m.variable('words', Tensor.from('string', [2], ['ünïcode', '']));
    const fn = m.function('weights', [], (tf) => [tf.readVariable(vf), tf.readVariable(vi), tf.readVariable(vs)]);
    m.signature('weights', fn, { outputs: ['floats', 'ints', 'words'] });
    const dir = path.join(tmp, 'bits');
    await writeSavedModel(dir, m.build());
    const model = await tsEngine.load(dir);
    loaded.push(model);
    const out = model.run('weights', {});
    const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    expect(out.floats.shape).toEqual([2, 4]);
    expect(bytes(out.floats.values() as Float32Array).equals(bytes(floats))).toBe(true);
    expect(bytes(out.ints.values() as BigInt64Array).equals(bytes(ints))).toBe(true);
    expect(out.words.strings()).toEqual(['ünïcode', '']);
  });

  it('refuses to overwrite an existing directory unless asked', async () => {
    const dir = path.join(tmp, 'exists');
    await writeSavedModel(dir, denseModel(1).model);
    await expect(writeSavedModel(dir, denseModel(2).model)).rejects.toThrow(/already exists/);
    await writeSavedModel(dir, denseModel(2).model, { overwrite: true });
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => n.startsWith('exists'))).toEqual(['exists']);
  });
});

/** The MetaGraph tagged 'serve' in saved_model.pb bytes. */
function metaOf(bytes: Uint8Array): MetaGraph {
  const proto = protoType('tensorflow.SavedModel').decode(bytes) as SavedModelMsg;
  return selectMetaGraph({ dir: '', path: '', schemaVersion: 1, tagSets: [['serve']], proto }, ['serve']);
}

/** Plain-JS forward pass of denseModel, in float64. */
function reference(vars: Map<string, Tensor>, x: number[], rows: number): number[] {
  const v = (k: string) => Array.from(vars.get(k)!.values() as Float32Array);
  const [w1, b1, w2, b2] = [v('dense/kernel'), v('dense/bias'), v('dense_1/kernel'), v('dense_1/bias')];
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const h = [0, 1, 2].map((j) => Math.max(0, b1[j] + [0, 1, 2, 3].reduce((s, i) => s + x[r * 4 + i] * w1[i * 3 + j], 0)));
    const z = [0, 1].map((j) => b2[j] + [0, 1, 2].reduce((s, i) => s + h[i] * w2[i * 2 + j], 0));
    const e = z.map((q) => Math.exp(q - Math.max(...z)));
    out.push(...e.map((q) => q / (e[0] + e[1])));
  }
  return out;
}
