import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/math.js';
import '../../../runtime/kernels/nn.js';
import '../../../runtime/kernels/nn_fused.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { setSmallHostMath } from '../../../runtime/kernels/dispatch.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

function runAll(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  return kernelFor(op)!.kernel({
    node: { name: 'n', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'n', op),
    inputs,
    resources: undefined as never,
    functions: undefined as never,
  });
}
const run = (op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}) => runAll(op, inputs, attr)[0];

const s = (v: string): AttrValue => ({ kind: 's', s: new TextEncoder().encode(v) });
const ints = (v: number[]): AttrValue => ({ kind: 'list', list: { s: [], i: v, f: [], b: [], type: [], shape: [], tensor: [], func: [] } });
const strs = (v: string[]): AttrValue => ({
  kind: 'list',
  list: { s: v.map((x) => new TextEncoder().encode(x)), i: [], f: [], b: [], type: [], shape: [], tensor: [], func: [] },
});
const f = (v: number): AttrValue => ({ kind: 'f', f: v });
const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });

const T = (dtype: DType, shape: number[], values: ArrayLike<number>) => Tensor.from(dtype, shape, values);
const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number>);
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => i + from);

function expectInvalid(fn: () => unknown, message: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe('INVALID_ARGUMENT');
    expect((e as StatusError).message).toBe(message);
    return;
  }
  throw new Error('expected an error');
}

/** conv attrs in NHWC */
const conv = (padding: string, stride = 1, dilation = 1, extra: Record<string, AttrValue> = {}) => ({
  padding: s(padding),
  strides: ints([1, stride, stride, 1]),
  dilations: ints([1, dilation, dilation, 1]),
  ...extra,
});

const image = (dtype: DType = 'float32') => T(dtype, [1, 3, 3, 1], range(9, 1));
const ones2x2 = (dtype: DType = 'float32') => T(dtype, [2, 2, 1, 1], [1, 1, 1, 1]);

describe('a Keras Dense layer (MatMul + BiasAdd + Relu/Softmax)', () => {
  it('runs entirely on the tfjs backend without leaking', () => {
    setSmallHostMath(false);
    try {
      denseLayer(true);
    } finally {
      setSmallHostMath(true);
    }
  });

  it('at batch 1 continues on the host after the MatMul (small host math), with the same results and no leak', () => {
    denseLayer(false);
  });
});

function denseLayer(onBackend: boolean): void {
  {
    const x = Tensor.fromTf(tf.tensor2d([1, 2, 3], [1, 3]), 'float32');
    const w = T('float32', [3, 2], [1, -1, 0, 1, 1, 0]).keep();
    const bias = T('float32', [2], [0.5, -0.5]).keep();
    w.toTf();
    bias.toTf();
    const before = tf.memory().numTensors;
    const mm = run('MatMul', [x, w]);
    const ba = run('BiasAdd', [mm, bias]);
    const relu = run('Relu', [ba]);
    const sm = run('Softmax', [relu]);
    if (onBackend) {
      for (const t of [mm, ba, relu, sm]) expect(t.isOnBackend).toBe(true);
      expect(tf.memory().numTensors).toBe(before + 4);
    } else {
      for (const t of [mm, ba, relu]) expect(t.isOnHost).toBe(true);
      expect(ba.isOnBackend).toBe(false);
    }
    expect(vals(ba)).toEqual([4.5, 0.5]);
    const e = [Math.exp(4.5), Math.exp(0.5)];
    const got = vals(sm);
    expect(got[0]).toBeCloseTo(e[0] / (e[0] + e[1]), 6);
    expect(got[1]).toBeCloseTo(e[1] / (e[0] + e[1]), 6);
    for (const t of [mm, ba, relu, sm]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

describe('BiasAdd', () => {
  it('adds along the channel dimension in NHWC and NCHW', () => {
    expect(vals(run('BiasAdd', [T('float32', [2, 2], [1, 2, 3, 4]), T('float32', [2], [10, 20])]))).toEqual([11, 22, 13, 24]);
    const nchw = run('BiasAdd', [T('float32', [1, 2, 1, 2], [1, 2, 3, 4]), T('float32', [2], [10, 20])], { data_format: s('NCHW') });
    expect(vals(nchw)).toEqual([11, 12, 23, 24]);
    const d = run('BiasAdd', [T('float64', [1, 2, 1, 2], [1, 2, 3, 4]), T('float64', [2], [0.1, 0.2])], { data_format: s('NCHW') });
    expect(vals(d)).toEqual([1.1, 2.1, 3.2, 4.2]);
  });

  it('reports shape errors with TF wording', () => {
    expectInvalid(
      () => run('BiasAdd', [T('float32', [1, 8], range(8)), T('float32', [1], [1])]),
      'Must provide as many biases as the last dimension of the input tensor: [1] vs. [1,8]',
    );
    expectInvalid(() => run('BiasAdd', [T('float32', [], [1]), T('float32', [1], [1])]), 'Input tensor must be at least 2D: []');
  });
});

describe('Softmax, LogSoftmax, L2Loss, LRN', () => {
  it('normalises along the last axis', () => {
    const r = vals(run('Softmax', [T('float64', [3], [1, 2, 3])]));
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const sum = e[0] + e[1] + e[2];
    e.forEach((v, i) => expect(r[i]).toBeCloseTo(v / sum, 15));
    expect(vals(run('LogSoftmax', [T('float32', [2], [0, 1000])]))).toEqual([-1000, 0]);
    expectInvalid(() => run('Softmax', [T('float32', [], [1])]), 'logits must have >= 1 dimension, got []');
  });

  it('computes L2Loss and LRN', () => {
    expect(vals(run('L2Loss', [T('float32', [3], [1, 2, 3])]))).toEqual([7]);
    const lrnAttrs = { depth_radius: { kind: 'i', i: 1 } as AttrValue, bias: f(1), alpha: f(1), beta: f(0.5) };
    const expected = [1 / Math.sqrt(6), 2 / Math.sqrt(15), 3 / Math.sqrt(30), 4 / Math.sqrt(26)];
    const r32 = vals(run('LRN', [T('float32', [1, 1, 1, 4], [1, 2, 3, 4])], lrnAttrs));
    const r64 = vals(run('LRN', [T('float64', [1, 1, 1, 4], [1, 2, 3, 4])], lrnAttrs));
    expected.forEach((v, i) => {
      expect(r32[i]).toBeCloseTo(v, 6);
      expect(r64[i]).toBeCloseTo(v, 15);
    });
  });
});

describe('Conv2D', () => {
  it('convolves with VALID and SAME padding', () => {
    const valid = run('Conv2D', [image(), ones2x2()], conv('VALID'));
    expect(valid.shape).toEqual([1, 2, 2, 1]);
    expect(vals(valid)).toEqual([12, 16, 24, 28]);
    const same = run('Conv2D', [image(), ones2x2()], conv('SAME'));
    expect(same.shape).toEqual([1, 3, 3, 1]);
    expect(vals(same)).toEqual([12, 16, 9, 24, 28, 15, 15, 17, 9]);
    expect(vals(run('Conv2D', [image(), ones2x2()], conv('SAME', 2)))).toEqual([12, 9, 15, 9]);
  });

  it('honours EXPLICIT paddings', () => {
    const r = run('Conv2D', [image(), ones2x2()], conv('EXPLICIT', 1, 1, { explicit_paddings: ints([0, 0, 1, 0, 1, 0, 0, 0]) }));
    expect(r.shape).toEqual([1, 3, 3, 1]);
    expect(vals(r)).toEqual([1, 3, 5, 5, 12, 16, 11, 24, 28]);
  });

  it('convolves strided and dilated at once', () => {
    const x = T('float32', [1, 5, 5, 1], range(25));
    const r = run('Conv2D', [x, ones2x2()], conv('VALID', 2, 2));
    expect(r.shape).toEqual([1, 2, 2, 1]);
    expect(vals(r)).toEqual([24, 32, 64, 72]);
    expect(vals(run('Conv2D', [T('float64', [1, 5, 5, 1], range(25)), ones2x2('float64')], conv('VALID', 2, 2)))).toEqual([24, 32, 64, 72]);
  });

  it('accepts NCHW input', () => {
    const nchw = { ...conv('VALID'), strides: ints([1, 1, 1, 1]), dilations: ints([1, 1, 1, 1]), data_format: s('NCHW') };
    const r = run('Conv2D', [T('float32', [1, 1, 3, 3], range(9, 1)), ones2x2()], nchw);
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expect(vals(r)).toEqual([12, 16, 24, 28]);
  });

  it('runs grouped convolutions group by group', () => {
    const filter = [1, 10, 100, 1000]; // [1,1,2,2]: (in0,out0)=1, (in0,out1)=10, (in1,out0)=100, (in1,out1)=1000
    for (const dtype of ['float32', 'float64'] as DType[]) {
      const r = run('Conv2D', [T(dtype, [1, 1, 1, 4], [1, 2, 3, 4]), T(dtype, [1, 1, 2, 2], filter)], conv('VALID'));
      expect(vals(r)).toEqual([1 * 1 + 2 * 100, 3 * 10 + 4 * 1000]);
    }
  });

  it('computes the same values on the host for float64 as on tfjs for float32 (Conv2D and depthwise, strided and dilated)', () => {
    const xs = range(2 * 5 * 4 * 3).map((i) => Math.sin(i));
    const ws = range(3 * 2 * 3 * 2).map((i) => Math.cos(i));
    for (const [padding, stride, dilation] of [
      ['SAME', 1, 1],
      ['SAME', 2, 1],
      ['VALID', 2, 1],
      ['SAME', 2, 2],
      ['SAME', 1, 2],
    ] as const) {
      const attrs = conv(padding, stride, dilation);
      const a = run('Conv2D', [T('float32', [2, 5, 4, 3], xs), T('float32', [3, 2, 3, 2], ws)], attrs);
      const d = run('Conv2D', [T('float64', [2, 5, 4, 3], xs), T('float64', [3, 2, 3, 2], ws)], attrs);
      expect(a.shape).toEqual(d.shape);
      vals(a).forEach((v, i) => expect(v).toBeCloseTo(vals(d)[i], 4));
      const dw32 = run('DepthwiseConv2dNative', [T('float32', [2, 5, 4, 3], xs), T('float32', [3, 2, 3, 2], ws)], attrs);
      const dw64 = run('DepthwiseConv2dNative', [T('float64', [2, 5, 4, 3], xs), T('float64', [3, 2, 3, 2], ws)], attrs);
      expect(dw32.shape).toEqual(dw64.shape);
      vals(dw32).forEach((v, i) => expect(v).toBeCloseTo(vals(dw64)[i], 4));
    }
  });

  it('reports bad shapes with TF wording', () => {
    expectInvalid(
      () => run('Conv2D', [T('float32', [1, 2, 2, 3], range(12)), T('float32', [1, 1, 2, 1], [1, 1])], conv('VALID')),
      'input depth must be evenly divisible by filter depth: 3 vs 2',
    );
    expectInvalid(
      () => run('Conv2D', [T('float32', [1, 1, 1, 1], [1]), T('float32', [3, 3, 1, 1], range(9))], conv('VALID')),
      'Computed output size would be negative: -1 [input_size: 1, effective_filter_size: 3, stride: 1]',
    );
    expectInvalid(
      () => run('Conv2D', [image(), ones2x2()], { ...conv('VALID'), strides: ints([2, 1, 1, 1]) }),
      'Current implementation does not yet support strides in the batch and depth dimensions.',
    );
  });
});

describe('DepthwiseConv2dNative', () => {
  it('convolves each channel with its own filters', () => {
    const x = T('float32', [1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40]);
    expect(vals(run('DepthwiseConv2dNative', [x, T('float32', [2, 2, 2, 1], new Array(8).fill(1))], conv('VALID')))).toEqual([10, 100]);
    const w = T('float32', [2, 2, 2, 2], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    const r = run('DepthwiseConv2dNative', [x, w], conv('VALID'));
    expect(r.shape).toEqual([1, 1, 1, 4]);
    expect(vals(r)).toEqual([10, 20, 300, 400]);
    const x64 = T('float64', [1, 2, 2, 2], [1, 10, 2, 20, 3, 30, 4, 40]);
    const w64 = T('float64', [2, 2, 2, 2], [1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect(vals(run('DepthwiseConv2dNative', [x64, w64], conv('SAME')))).toEqual(
      vals(run('DepthwiseConv2dNative', [x, w], conv('SAME'))),
    );
  });
});

describe('Conv2DBackpropInput', () => {
  it('computes the transposed convolution', () => {
    const sizes = T('int32', [4], [1, 4, 4, 1]);
    const w = T('float32', [2, 2, 1, 1], [1, 2, 3, 4]);
    const dy = T('float32', [1, 2, 2, 1], [1, 10, 100, 1000]);
    const r = run('Conv2DBackpropInput', [sizes, w, dy], conv('VALID', 2));
    expect(r.shape).toEqual([1, 4, 4, 1]);
    const expected = [1, 2, 10, 20, 3, 4, 30, 40, 100, 200, 1000, 2000, 300, 400, 3000, 4000];
    expect(vals(r)).toEqual(expected);
    const r64 = run('Conv2DBackpropInput', [sizes, T('float64', [2, 2, 1, 1], [1, 2, 3, 4]), T('float64', [1, 2, 2, 1], [1, 10, 100, 1000])], conv('VALID', 2));
    expect(vals(r64)).toEqual(expected);
  });

  it('matches on host and backend with SAME padding', () => {
    const sizes = T('int32', [4], [1, 3, 3, 2]);
    const ws = range(2 * 2 * 2 * 3).map((i) => i - 5);
    const dys = range(3 * 3 * 3).map((i) => (i % 7) - 2);
    const a = vals(run('Conv2DBackpropInput', [sizes, T('float32', [2, 2, 2, 3], ws), T('float32', [1, 3, 3, 3], dys)], conv('SAME')));
    const d = vals(run('Conv2DBackpropInput', [sizes, T('float64', [2, 2, 2, 3], ws), T('float64', [1, 3, 3, 3], dys)], conv('SAME')));
    expect(a).toEqual(d);
  });

  it('rejects an out_backprop of the wrong size', () => {
    expectInvalid(
      () => run('Conv2DBackpropInput', [T('int32', [4], [1, 5, 5, 1]), ones2x2(), T('float32', [1, 3, 3, 1], range(9))], conv('VALID')),
      "Conv2DCustomBackpropInput: Size of out_backprop doesn't match computed: actual = 3, computed = 4 spatial_dim: 1 input: 5 filter: 2 output: 3 stride: 1 dilation: 1",
    );
  });
});

describe('MaxPool, MaxPoolV2, AvgPool', () => {
  const pool = (padding: string, k = 2, st = 1) => ({ padding: s(padding), ksize: ints([1, k, k, 1]), strides: ints([1, st, st, 1]) });

  it('max-pools with VALID and SAME padding', () => {
    expect(vals(run('MaxPool', [image()], pool('VALID')))).toEqual([5, 6, 8, 9]);
    expect(vals(run('MaxPool', [image()], pool('SAME')))).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
    expect(vals(run('MaxPool', [image('float64')], pool('SAME')))).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
    const v2 = run('MaxPoolV2', [image(), T('int32', [4], [1, 2, 2, 1]), T('int32', [4], [1, 1, 1, 1])], { padding: s('VALID') });
    expect(vals(v2)).toEqual([5, 6, 8, 9]);
  });

  it('averages only over the window inside the input with SAME padding', () => {
    const expected = [3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9];
    expect(vals(run('AvgPool', [image()], pool('SAME')))).toEqual(expected);
    expect(vals(run('AvgPool', [image('float64')], pool('SAME')))).toEqual(expected);
    expect(vals(run('AvgPool', [image()], pool('VALID', 2, 2)))).toEqual([3]);
  });

  it('pools NCHW input', () => {
    const r = run('MaxPool', [T('float32', [1, 1, 3, 3], range(9, 1))], { ...pool('VALID'), ksize: ints([1, 1, 2, 2]), data_format: s('NCHW') });
    expect(r.shape).toEqual([1, 1, 2, 2]);
    expect(vals(r)).toEqual([5, 6, 8, 9]);
  });

  it('refuses pooling over the batch dimension', () => {
    expectInvalid(() => run('MaxPool', [image()], { ...pool('VALID'), ksize: ints([2, 1, 1, 1]) }), 'Pooling is not yet supported on the batch dimension.');
  });
});

describe('FusedBatchNorm', () => {
  const x = () => T('float32', [1, 1, 2, 2], [1, 2, 3, 4]);
  const scale = T('float32', [2], [1, 2]);
  const offset = T('float32', [2], [0, 1]);
  const mean = T('float32', [2], [1, 2]);
  const variance = T('float32', [2], [4, 1]);

  it('normalises with the given statistics when is_training is false', () => {
    const outs = runAll('FusedBatchNormV3', [x(), scale, offset, mean, variance], { epsilon: f(0), is_training: b(false) });
    expect(outs).toHaveLength(6);
    expect(vals(outs[0])).toEqual([0, 1, 1, 5]);
    expect(outs[0].isOnBackend).toBe(true);
    expect(vals(outs[1])).toEqual([1, 2]);
    expect(vals(outs[2])).toEqual([4, 1]);
    expect(outs[5].shape).toEqual([]);
    const v1 = runAll('FusedBatchNorm', [T('float64', [1, 1, 2, 2], [1, 2, 3, 4]), scale, offset, mean, variance], {
      epsilon: f(0),
      is_training: b(false),
    });
    expect(v1).toHaveLength(5);
    expect(vals(v1[0])).toEqual([0, 1, 1, 5]);
    expect(kernelFor('FusedBatchNormV3')!.outputs!.map((o) => o.name)).toEqual([
      'y',
      'batch_mean',
      'batch_variance',
      'reserve_space_1',
      'reserve_space_2',
      'reserve_space_3',
    ]);
  });

  it('uses batch statistics when is_training is true', () => {
    const empty = T('float32', [0], []);
    const outs = runAll('FusedBatchNormV3', [T('float32', [2, 1, 1, 1], [1, 3]), T('float32', [1], [1]), T('float32', [1], [0]), empty, empty], {
      epsilon: f(0),
    });
    expect(vals(outs[0])).toEqual([-1, 1]);
    expect(vals(outs[1])).toEqual([2]);
    expect(vals(outs[2])).toEqual([2]); // unbiased variance of [1, 3]
  });
});

describe('grappler fusions', () => {
  it('_FusedMatMul applies BiasAdd and Relu', () => {
    const r = run('_FusedMatMul', [T('float32', [1, 2], [1, -2]), T('float32', [2, 2], [1, 0, 0, 1]), T('float32', [2], [0.5, 0.5])], {
      fused_ops: strs(['BiasAdd', 'Relu']),
    });
    expect(vals(r)).toEqual([1.5, 0]);
  });

  it('_FusedConv2D applies BiasAdd and Relu', () => {
    const r = run('_FusedConv2D', [image(), ones2x2(), T('float32', [1], [-20])], { ...conv('VALID'), fused_ops: strs(['BiasAdd', 'Relu']) });
    expect(vals(r)).toEqual([0, 0, 4, 8]);
  });
});
