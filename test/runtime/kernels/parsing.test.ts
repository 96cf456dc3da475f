import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrList, AttrValue, TensorShape } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/parsing.js';
import { decodeExample, encodeExample, type ExampleFeature } from '../../../runtime/kernels/parsing_example.js';
import { kernelFor, type FunctionCaller, type ResourceManager } from '../../../runtime/kernels/registry.js';
import { tsEngine } from '../../../runtime/loader.js';
import { Tensor } from '../../../runtime/tensor.js';

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  return def.kernel({
    node: { name: 'n', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'n', op),
    inputs,
    resources: {} as ResourceManager,
    functions: {} as FunctionCaller,
  });
}

const emptyList = (): AttrList => ({ s: [], i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] });
const types = (t: DType[]): AttrValue => ({ kind: 'list', list: { ...emptyList(), type: t } });
const shapes = (s: number[][]): AttrValue => ({
  kind: 'list',
  list: { ...emptyList(), shape: s.map((dims): TensorShape => ({ unknownRank: false, dims })) },
});
const strList = (s: string[]): AttrValue => ({ kind: 'list', list: { ...emptyList(), s: s.map((x) => new TextEncoder().encode(x)) } });
const int = (v: number): AttrValue => ({ kind: 'i', i: v });
const type = (t: DType): AttrValue => ({ kind: 'type', type: t });

const ex = (features: Record<string, ExampleFeature>) => encodeExample(features);
const batch = (examples: Uint8Array[]) => Tensor.from('string', [examples.length], examples);
const noNames = () => Tensor.from('string', [0], []);
const keys = (k: string[]) => Tensor.from('string', [k.length], k);
const values = (t: Tensor) => Array.from(t.values() as ArrayLike<number | bigint>);

function errorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    return e as StatusError;
  }
  throw new Error('expected an error');
}

/** ParseExample (v1) the way half_plus_two's regress signature calls it: x required, x2 defaulting to 0. */
function halfPlusTwoParse(serialized: Tensor, names = noNames()): Tensor[] {
  return run(
    'ParseExample',
    [
      serialized,
      names,
      Tensor.scalar('string', 'x'),
      Tensor.scalar('string', 'x2'),
      Tensor.from('float32', [0], []),
      Tensor.from('float32', [1], [0]),
    ],
    { Nsparse: int(0), Ndense: int(2), sparse_types: types([]), Tdense: types(['float32', 'float32']), dense_shapes: shapes([[1], [1]]) },
  );
}

describe('tf.Example encode/decode', () => {
  it('round-trips every feature kind, keeping int64 exact', () => {
    const bytes = ex({
      f: { floatList: [1.5, -2] },
      i: { int64List: [2n ** 60n, -3] },
      s: { bytesList: ['a', Uint8Array.of(0, 255)] },
    });
    const m = decodeExample(bytes)!;
    expect(m.get('f')).toEqual({ kind: 'float32', values: [1.5, -2] });
    expect(m.get('i')).toEqual({ kind: 'int64', values: [2n ** 60n, -3n] });
    const s = m.get('s');
    expect(s?.kind === 'string' && s.values.map((v) => Array.from(v))).toEqual([[97], [0, 255]]);
    expect(decodeExample(Uint8Array.of(0xff, 0xff, 0xff))).toBeUndefined();
  });
});

describe('ParseExample (v1)', () => {
  it('parses half_plus_two regress inputs, filling defaults', () => {
    const [x, x2] = halfPlusTwoParse(batch([ex({ x: { floatList: [80] } }), ex({ x: { floatList: [2] }, x2: { floatList: [7] } })]));
    expect(x.dtype).toBe('float32');
    expect(x.shape).toEqual([2, 1]);
    expect(values(x)).toEqual([80, 2]);
    expect(values(x2)).toEqual([0, 7]);
  });

  it('requires a dense feature without default, naming the example', () => {
    const input = batch([ex({ x: { floatList: [1] } }), ex({ y: { floatList: [1] } })]);
    expect(errorOf(() => halfPlusTwoParse(input)).message).toBe(
      'Name: <unknown>, Feature: x (data type: float) is required but could not be found.',
    );
    const names = Tensor.from('string', [2], ['first', 'second']);
    expect(errorOf(() => halfPlusTwoParse(input, names)).message).toBe(
      'Name: second, Feature: x (data type: float) is required but could not be found.',
    );
  });

  it('treats a feature with no kind set as missing', () => {
    // Features { feature { key: "x" value {} } }: an empty Feature message.
    const kindless = Uint8Array.of(0x0a, 0x07, 0x0a, 0x05, 0x0a, 0x01, 0x78, 0x12, 0x00);
    expect(decodeExample(kindless)?.get('x')).toEqual({ kind: 'none' });
    expect(errorOf(() => halfPlusTwoParse(batch([kindless]))).message).toMatch(/Feature: x \(data type: float\) is required/);
  });

  it('reports wrong types and value counts with TF wording', () => {
    expect(errorOf(() => halfPlusTwoParse(batch([ex({ x: { int64List: [1] } })]))).message).toBe(
      "Name: <unknown>, Key: x, Index: 0.  Data types don't match. Data type: int64 but expected type: float",
    );
    expect(errorOf(() => halfPlusTwoParse(batch([ex({ x: { floatList: [1, 2] } })]))).message).toBe(
      'Name: <unknown>, Key: x, Index: 0.  Number of float values != expected.  Values size: 2 but output shape: [1]',
    );
  });

  it('rejects undecodable input and a non-vector batch', () => {
    const err = errorOf(() => halfPlusTwoParse(batch([new TextEncoder().encode('\xff garbage')])));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/^Could not parse example input, value: '/);
    expect(errorOf(() => halfPlusTwoParse(Tensor.scalar('string', ex({})))).message).toBe(
      'Expected serialized to be a vector, got shape: []',
    );
  });

  it('keeps the last of repeated keys, as concatenated Examples merge', () => {
    const a = ex({ x: { floatList: [1] } });
    const b = ex({ x: { floatList: [2] } });
    const [x] = halfPlusTwoParse(batch([new Uint8Array([...a, ...b])]));
    expect(values(x)).toEqual([2]);
  });

  it('builds sparse outputs as (indices, values, dense_shape)', () => {
    const out = run(
      'ParseExample',
      [
        batch([ex({ tags: { bytesList: ['a', 'b'] } }), ex({}), ex({ tags: { bytesList: ['c'] } })]),
        noNames(),
        Tensor.scalar('string', 'tags'),
      ],
      { Nsparse: int(1), Ndense: int(0), sparse_types: types(['string']), Tdense: types([]), dense_shapes: shapes([]) },
    );
    expect(out).toHaveLength(3);
    const [indices, vals, shape] = out;
    expect(indices.shape).toEqual([3, 2]);
    expect(values(indices)).toEqual([0n, 0n, 0n, 1n, 2n, 0n]);
    expect(vals.strings()).toEqual(['a', 'b', 'c']);
    expect(values(shape)).toEqual([3n, 2n]);
  });
});

describe('ParseExampleV2', () => {
  function v2(serialized: Tensor, opts: { dense?: [string, DType, number[], Tensor][]; sparse?: [string, DType][]; ragged?: [string, DType, DType][] }) {
    const dense = opts.dense ?? [];
    const sparse = opts.sparse ?? [];
    const ragged = opts.ragged ?? [];
    return run(
      'ParseExampleV2',
      [
        serialized,
        noNames(),
        keys(sparse.map((s) => s[0])),
        keys(dense.map((d) => d[0])),
        keys(ragged.map((r) => r[0])),
        ...dense.map((d) => d[3]),
      ],
      {
        num_sparse: int(sparse.length),
        sparse_types: types(sparse.map((s) => s[1])),
        Tdense: types(dense.map((d) => d[1])),
        dense_shapes: shapes(dense.map((d) => d[2])),
        ragged_value_types: types(ragged.map((r) => r[1])),
        ragged_split_types: types(ragged.map((r) => r[2])),
      },
    );
  }

  it('pads variable-length dense features with the default', () => {
    const [ids] = v2(batch([ex({ ids: { int64List: [1, 2, 3] } }), ex({}), ex({ ids: { int64List: [4] } })]), {
      dense: [['ids', 'int64', [-1], Tensor.scalar('int64', -1n)]],
    });
    expect(ids.dtype).toBe('int64');
    expect(ids.shape).toEqual([3, 3]);
    expect(values(ids)).toEqual([1n, 2n, 3n, -1n, -1n, -1n, 4n, -1n, -1n]);
  });

  it('refuses the padding one long example would give every row, before padding', () => {
    const examples = new Array(2000).fill(ex({}));
    examples[0] = ex({ ids: { int64List: new Array(20000).fill(7) } });
    const err = errorOf(() => v2(batch(examples), { dense: [['ids', 'int64', [-1], Tensor.scalar('int64', -1n)]] }));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toBe('OOM when allocating tensor with shape[2000,20000] and type int64 on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu');
  });

  it('parses a batch too large to spread into Math.max (150,000 examples)', () => {
    const examples = new Array(150_000).fill(ex({ ids: { int64List: [1] } }));
    const [, , shape] = v2(batch(examples), { sparse: [['ids', 'int64']] });
    expect(values(shape)).toEqual([150_000n, 1n]);
  });

  it('checks variable-length strides', () => {
    const padding = Tensor.scalar('float32', 0);
    const [pairs] = v2(batch([ex({ p: { floatList: [1, 2, 3, 4] } })]), { dense: [['p', 'float32', [-1, 2], padding]] });
    expect(pairs.shape).toEqual([1, 2, 2]);
    const err = errorOf(() => v2(batch([ex({ p: { floatList: [1, 2, 3] } })]), { dense: [['p', 'float32', [-1, 2], padding]] }));
    expect(err.message).toBe(
      'Name: <unknown>, Key: p, Index: 0.  Number of float values is not a multiple of stride length. Saw 3 values but output shape is: [?,2]',
    );
  });

  it('returns ragged values with row splits of the requested type', () => {
    const out = v2(batch([ex({ w: { floatList: [1, 2] } }), ex({}), ex({ w: { floatList: [3] } })]), {
      ragged: [['w', 'float32', 'int32']],
    });
    const [vals, splits] = out;
    expect(values(vals)).toEqual([1, 2, 3]);
    expect(splits.dtype).toBe('int32');
    expect(values(splits)).toEqual([0, 2, 2, 3]);
  });

  it('drops the batch dimension for a scalar serialized input', () => {
    const [si, sv, ss, x] = v2(Tensor.scalar('string', ex({ x: { floatList: [5] }, t: { int64List: [7, 8] } })), {
      sparse: [['t', 'int64']],
      dense: [['x', 'float32', [1], Tensor.from('float32', [0], [])]],
    });
    expect(x.shape).toEqual([1]);
    expect(values(x)).toEqual([5]);
    expect(si.shape).toEqual([2, 1]);
    expect(values(sv)).toEqual([7n, 8n]);
    expect(values(ss)).toEqual([2n]);
  });

  it('reports a sparse type mismatch and a bad default', () => {
    expect(errorOf(() => v2(batch([ex({ t: { floatList: [1] } })]), { sparse: [['t', 'int64']] })).message).toBe(
      "Name: <unknown>, Key: t, Index: 0.  Data types don't match. Expected type: int64, Actual type: float",
    );
    expect(
      errorOf(() => v2(batch([ex({})]), { dense: [['x', 'float32', [2], Tensor.from('float32', [3], [0, 0, 0])]] })).message,
    ).toBe('def_value[0].shape() == [3] is not compatible with dense_shapes_[0] == [2]');
  });

  it('declares its output arguments with counts from the attrs', () => {
    const def = kernelFor('ParseExampleV2')!;
    const attrs = new Attrs(
      {
        num_sparse: int(2),
        sparse_types: types(['int64', 'string']),
        Tdense: types(['float32']),
        ragged_value_types: types([]),
        ragged_split_types: types([]),
      },
      'n',
      'ParseExampleV2',
    );
    expect(def.outputs?.map((o) => [o.name, o.count?.(attrs)])).toEqual([
      ['sparse_indices', 2],
      ['sparse_values', 2],
      ['sparse_shapes', 2],
      ['dense_values', 1],
      ['ragged_values', 0],
      ['ragged_row_splits', 0],
    ]);
  });
});

describe('ParseSingleExample', () => {
  it('parses one Example with keys from attrs', () => {
    const out = run('ParseSingleExample', [Tensor.scalar('string', ex({ age: { int64List: [42] } })), Tensor.from('int64', [1], [0n])], {
      num_sparse: int(0),
      sparse_keys: strList([]),
      dense_keys: strList(['age']),
      sparse_types: types([]),
      Tdense: types(['int64']),
      dense_shapes: shapes([[1]]),
    });
    expect(out).toHaveLength(1);
    expect(out[0].shape).toEqual([1]);
    expect(values(out[0])).toEqual([42n]);
  });
});

describe('DecodeRaw / ParseTensor / SerializeTensor', () => {
  it('DecodeRaw reads little- or big-endian elements into a new last dimension', () => {
    const le = new Uint8Array(new Float32Array([1.5, -2]).buffer);
    const [f] = run('DecodeRaw', [Tensor.from('string', [1], [le])], { out_type: type('float32') });
    expect(f.shape).toEqual([1, 2]);
    expect(values(f)).toEqual([1.5, -2]);
    const [be] = run('DecodeRaw', [Tensor.from('string', [2], [Uint8Array.of(1, 2), Uint8Array.of(0xff, 0xfe)])], {
      out_type: type('int16'),
      little_endian: { kind: 'b', b: false },
    });
    expect(values(be)).toEqual([0x0102, -2]);
    const err = errorOf(() =>
      run('DecodeRaw', [Tensor.from('string', [2], [Uint8Array.of(1, 2, 3, 4), Uint8Array.of(1, 2)])], { out_type: type('int32') }),
    );
    expect(err.message).toBe('DecodeRaw requires input strings to all be the same size, but element 1 has size 2 != 4');
    expect(errorOf(() => run('DecodeRaw', [Tensor.from('string', [1], [Uint8Array.of(1, 2, 3)])], { out_type: type('int32') })).message).toBe(
      'Input to DecodeRaw has length 3 that is not a multiple of 4, the size of int32',
    );
  });

  it('SerializeTensor and ParseTensor round-trip and check the dtype', () => {
    for (const t of [
      Tensor.from('float32', [2, 2], [1, 2, 3, 4]),
      Tensor.from('string', [2], ['a', 'bc']),
      Tensor.from('int64', [1], [2n ** 62n]),
    ]) {
      const [bytes] = run('SerializeTensor', [t], { T: type(t.dtype) });
      expect(bytes.shape).toEqual([]);
      const [back] = run('ParseTensor', [bytes], { out_type: type(t.dtype) });
      expect(back.shape).toEqual(t.shape);
      expect(back.values()).toEqual(t.values());
    }
    const [bytes] = run('SerializeTensor', [Tensor.from('float32', [1], [1])]);
    expect(errorOf(() => run('ParseTensor', [bytes], { out_type: type('int32') })).message).toBe(
      'Type mismatch between parsed tensor (float) and dtype (int32)',
    );
  });
});

describe('TF Serving models over tf.Example', () => {
  const FIXTURES = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tf-serving');

  for (const dir of ['saved_model_half_plus_two_cpu/00000123', 'saved_model_half_plus_two_tf2_cpu/00000123']) {
    it(`${dir.split('/')[0]} regresses 0.5*x+2 from serialized Examples`, async () => {
      const model = await tsEngine.load(path.join(FIXTURES, dir));
      try {
        const examples = batch([ex({ x: { floatList: [80] } }), ex({ x: { floatList: [1] }, x2: { floatList: [9] } })]);
        const out = model.run('regress_x_to_y', { inputs: examples });
        expect(Array.from(out.outputs.values() as Float32Array)).toEqual([42, 2.5]);
        // TF Serving's classify example: {"x": 20.0} scores 12.
        const scores = model.run('classify_x_to_y', { inputs: batch([ex({ x: { floatList: [20] } })]) });
        expect(Array.from(scores.scores.values() as Float32Array)).toEqual([12]);
        const err = errorOf(() => model.run('regress_x_to_y', { inputs: batch([ex({ y: { floatList: [1] } })]) }));
        expect(err.code).toBe('INVALID_ARGUMENT');
        expect(err.message).toContain('Feature: x (data type: float) is required but could not be found.');
      } finally {
        model.dispose();
      }
    });
  }
});
