import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedModel } from '../../runtime/engine.js';
import { encodeExample } from '../../runtime/kernels/parsing_example.js';
import { kernelFor } from '../../runtime/kernels/registry.js';
import { tsEngine } from '../../runtime/loader.js';
import { copyWithRenamedOps } from '../helpers/patched_model.js';
import { protoType } from '../../runtime/proto/schema.js';
import { Tensor } from '../../runtime/tensor.js';

const FIXTURES = path.resolve(import.meta.dirname, '../../../shared/fixtures/tf-serving');
const fixture = (p: string) => path.join(FIXTURES, p);

const loaded: LoadedModel[] = [];
async function load(dir: string): Promise<LoadedModel> {
  const m = await tsEngine.load(dir);
  loaded.push(m);
  return m;
}
afterAll(() => loaded.forEach((m) => m.dispose()));

const column = (values: number[]) => Tensor.from('float32', [values.length, 1], values);
const floats = (t: Tensor) => Array.from(t.values() as Float32Array);

describe('loading TensorFlow SavedModels', () => {
  const halfPlusTwoFamily = [
    'saved_model_half_plus_two_cpu/00000123',
    'saved_model_half_plus_two_2_versions/00000123',
    'saved_model_half_plus_two_2_versions/00000124',
    'saved_model_half_plus_two_mkl/00000123',
    'saved_model_half_plus_two_cpu_with_saved_model_config/00000123',
  ];
  for (const dir of halfPlusTwoFamily) {
    it(`${dir}: predict computes 0.5x + 2`, async () => {
      const m = await load(fixture(dir));
      const out = m.run('serving_default', { x: column([1, 2, 5]) });
      expect(out.y.shape).toEqual([3, 1]);
      expect(floats(out.y)).toEqual([2.5, 3, 4.5]);
    });
  }

  it('half_plus_two accepts a feed whose shape differs from the placeholder, as a TF session does', async () => {
    const m = await load(fixture('saved_model_half_plus_two_cpu/00000123'));
    const out = m.run('serving_default', { x: Tensor.from('float32', [3], [2, 3, 4]) });
    expect(out.y.shape).toEqual([3]);
    expect(floats(out.y)).toEqual([3, 3.5, 4]);
  });

  it('half_plus_three restores its own variables: 0.5x + 3', async () => {
    const m = await load(fixture('saved_model_half_plus_three/00000123'));
    const sig = Object.keys(m.signatures).find((k) => Object.values(m.signatures[k].inputs)[0]?.dtype === 'float32')!;
    const key = Object.keys(m.signatures[sig].inputs)[0];
    const out = Object.values(m.run(sig, { [key]: column([1, 2, 5]) }))[0];
    expect(floats(out)).toEqual([3.5, 4, 5.5]);
  });

  it('the TF2 export gives the TF1 numbers for every signature taking float tensors', async () => {
    // As in TF Serving's half_plus_two: y = 0.5x + 2; y2 = 0.5x + 3; y3 = 0.5x2 + 3.
    const expected: Record<string, number[]> = {
      serving_default: [2.5, 3, 4.5],
      regress_x2_to_y3: [3.5, 4, 5.5],
      classify_x2_to_y3: [3.5, 4, 5.5],
    };
    const m = await load(fixture('saved_model_half_plus_two_tf2_cpu/00000123'));
    const floatSigs = Object.entries(m.signatures).filter(([, s]) => Object.values(s.inputs).every((i) => i.dtype === 'float32'));
    expect(floatSigs.map(([n]) => n).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, sig] of floatSigs) {
      const feeds = Object.fromEntries(Object.keys(sig.inputs).map((k) => [k, column([1, 2, 5])]));
      const out = m.run(name, feeds);
      for (const t of Object.values(out)) expect(floats(t), name).toEqual(expected[name]);
    }
  });

  for (const dir of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`${dir}: regress_x_to_y parses serialized tf.Examples (ParseExample / ParseExampleV2)`, async () => {
      const m = await load(fixture(dir));
      const examples = [encodeExample({ x: { floatList: [80] } }), encodeExample({ x: { floatList: [1] } })];
      const out = m.run('regress_x_to_y', { inputs: Tensor.from('string', [2], examples) });
      expect(floats(Object.values(out)[0])).toEqual([42, 2.5]);
    });
  }

  it('matrix_half_plus_two works on [-1, -1] inputs', async () => {
    const m = await load(fixture('matrix_half_plus_two/1'));
    const x = Tensor.from('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const out = m.run('serving_default', { x });
    expect(out.y.shape).toEqual([2, 3]);
    expect(floats(out.y)).toEqual([2.5, 3, 3.5, 4, 4.5, 5]);
  });

  it('saved_model_counter keeps its count across calls within one loaded model', async () => {
    const m = await load(fixture('saved_model_counter/00000123'));
    const value = (sig: string, feeds: Record<string, Tensor> = {}) => Object.values(m.run(sig, feeds))[0].numbers()[0];
    expect(value('get_counter')).toBe(0);
    expect(value('incr_counter')).toBe(1);
    expect(value('incr_counter')).toBe(2);
    expect(value('get_counter')).toBe(2);
    expect(value('incr_counter_by', { delta: Tensor.scalar('float32', 3) })).toBe(5);
    expect(value('reset_counter')).toBe(0);
    expect(value('get_counter')).toBe(0);
  });

  it('two loads of one model keep separate state', async () => {
    const a = await load(fixture('saved_model_counter/00000123'));
    const b = await load(fixture('saved_model_counter/00000123'));
    a.run('incr_counter', {});
    expect(Object.values(b.run('get_counter', {}))[0].numbers()).toEqual([0]);
  });

  it('refuses a legacy SessionBundle: it is not a SavedModel', async () => {
    await expect(tsEngine.load(fixture('bad_half_plus_two/00000123'))).rejects.toThrowError(
      /Could not find SavedModel .pb or .pbtxt at supplied export directory path/,
    );
  });

  it('refuses an unknown tag set, listing the available ones', async () => {
    await expect(tsEngine.load(fixture('matrix_half_plus_two/1'), { tags: ['gpu'] })).rejects.toThrowError(/serve/);
  });

  it('ignores unsupported ops that only the checkpoint-saving path uses', async () => {
    const dir = copyWithRenamedOps(fixture('saved_model_half_plus_two_cpu/00000123'), { SaveV2: 'FancySaveV2' });
    expect(kernelFor('FancySaveV2')).toBeUndefined();
    const m = await load(dir);
    expect(floats(m.run('serving_default', { x: column([2]) }).y)).toEqual([3]);
  });

  it('fails the load, naming op and node, when a signature needs an op the runtime lacks', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-unsupported-'));
    const SavedModel = protoType('tensorflow.SavedModel');
    const msg = SavedModel.decode(fs.readFileSync(fixture('matrix_half_plus_two/1/saved_model.pb'))) as unknown as {
      metaGraphs: { graphDef: { node: { name: string; op: string }[] } }[];
    };
    const mul = msg.metaGraphs[0].graphDef.node.find((n) => n.op === 'Mul')!;
    mul.op = 'FancyMul';
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), SavedModel.encode(msg).finish());
    await expect(tsEngine.load(dir)).rejects.toThrowError(new RegExp(`FancyMul \\(used by ${mul.name}\\)`));
  });

  it('reports an unknown signature as TF Serving does', async () => {
    const m = await load(fixture('matrix_half_plus_two/1'));
    expect(() => m.run('nope', {})).toThrowError('Serving signature name: "nope" not found in signature def');
  });

  it('reports missing inputs with TF Serving wording', async () => {
    const m = await load(fixture('matrix_half_plus_two/1'));
    expect(() => m.run('serving_default', {})).toThrowError(/input size does not match signature.*Missing but required: \{x\}/);
  });

  it('outputs can be disposed without disturbing the model', async () => {
    const m = await load(fixture('saved_model_counter/00000123'));
    m.run('incr_counter', {}).output.dispose();
    const out = m.run('get_counter', {});
    out.output.dispose();
    expect(m.run('get_counter', {}).output.numbers()).toEqual([1]);
  });
});

describe('values the runtime cannot represent', () => {
  type Msg = { metaGraphs: { graphDef: { node: Record<string, unknown>[] } }[] };
  function withExtraNode(extra: Record<string, unknown>, rewire?: (nodes: Record<string, unknown>[]) => void): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-qint-'));
    const SavedModel = protoType('tensorflow.SavedModel');
    const msg = SavedModel.decode(fs.readFileSync(fixture('matrix_half_plus_two/1/saved_model.pb'))) as unknown as Msg;
    const nodes = msg.metaGraphs[0].graphDef.node;
    nodes.push(extra);
    rewire?.(nodes);
    fs.writeFileSync(path.join(dir, 'saved_model.pb'), SavedModel.encode(msg as never).finish());
    return dir;
  }
  // DT_QINT8 (11) has no runtime dtype.
  const quantized = { name: 'q', op: 'Placeholder', attr: { dtype: { type: 11 } } };

  it('loads when only nodes outside every signature use them, as TensorFlow does', async () => {
    const m = await load(withExtraNode(quantized));
    expect(floats(m.run('serving_default', { x: Tensor.from('float32', [1, 1], [2]) }).y)).toEqual([3]);
  });

  it('fails the load naming the node when a signature reaches one', async () => {
    const dir = withExtraNode(quantized, (nodes) => {
      const y = nodes.find((n) => n.op === 'Add') as { input: string[] };
      y.input.push('^q');
    });
    await expect(tsEngine.load(dir)).rejects.toThrowError(/Placeholder \(attr 'dtype'.*DT_QINT8.*\) \(used by q\)/);
  });
});

describe('a SavedModel whose variables cannot all be restored', () => {
  const copies: string[] = [];
  afterAll(() => copies.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  /** A writable copy of a fixture with `remove` (paths inside it) deleted. */
  function copyWithout(fixtureDir: string, remove: string[]): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'modelhost-novars-'));
    copies.push(dir);
    fs.cpSync(fixture(fixtureDir), dir, { recursive: true });
    fs.chmodSync(path.join(dir, 'variables'), 0o755);
    for (const p of remove) fs.rmSync(path.join(dir, p), { force: true });
    return dir;
  }

  for (const model of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`${model}: fails its load (NOT_FOUND) without variables.index, instead of serving without its variables`, async () => {
      const dir = copyWithout(model, ['variables/variables.index']);
      await expect(tsEngine.load(dir)).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining(`Unsuccessful TensorSliceReader constructor: Failed to find any matching files for ${path.join(dir, 'variables/variables')}`),
      });
    });

    it(`${model}: fails its load (NOT_FOUND) without its data shard`, async () => {
      const dir = copyWithout(model, ['variables/variables.data-00000-of-00001']);
      await expect(tsEngine.load(dir)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/variables\.data-00000-of-00001 is missing/) });
    });
  }
});
