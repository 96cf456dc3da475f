import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/reduction.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor {
  return kernelFor(op)!.kernel({
    node: { name: 'r', op, input: [], device: '', attr },
    attrs: new Attrs(attr, 'r', op),
    inputs,
    resources: undefined as never,
    functions: undefined as never,
  })[0];
}
const keep = { keep_dims: { kind: 'b', b: true } as AttrValue };
const T = (dtype: DType, shape: number[], values: ArrayLike<number | bigint | boolean>) => Tensor.from(dtype, shape, values);
const axis = (...a: number[]) => T('int32', [a.length], a);
const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number | bigint>);

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

const m = T('float32', [2, 3], [1, 2, 3, 4, 5, 6]);

describe('Sum, Mean, Max, Min, Prod', () => {
  it('reduces over a vector of axes, a scalar axis and negative axes', () => {
    expect(vals(run('Sum', [m, axis(0)]))).toEqual([5, 7, 9]);
    expect(vals(run('Sum', [m, T('int32', [], [1])]))).toEqual([6, 15]);
    expect(vals(run('Sum', [m, T('int64', [1], [-1n])]))).toEqual([6, 15]);
    const all = run('Sum', [m, axis(0, 1)]);
    expect(all.shape).toEqual([]);
    expect(vals(all)).toEqual([21]);
  });

  it('keeps reduced dimensions with keep_dims', () => {
    const r = run('Max', [m, axis(1)], keep);
    expect(r.shape).toEqual([2, 1]);
    expect(vals(r)).toEqual([3, 6]);
    expect(run('Mean', [m, axis(0, 1)], keep).shape).toEqual([1, 1]);
  });

  it('returns the input for an empty axis list', () => {
    expect(run('Sum', [m, T('int32', [0], [])])).toBe(m);
  });

  it('rejects out-of-range and duplicate axes with TF wording', () => {
    expectInvalid(() => run('Sum', [m, axis(5)]), 'Invalid reduction dimension (5 for input with 2 dimension(s)');
    expectInvalid(() => run('Mean', [m, axis(-3)]), 'Invalid reduction dimension (-3 for input with 2 dimension(s)');
    expectInvalid(() => run('Sum', [m, axis(1, -1)]), 'Invalid reduction arguments: Axes contains duplicate dimension: 1');
  });

  it('computes Mean of integers by truncating division, like TF', () => {
    expect(vals(run('Mean', [T('int32', [2], [1, 2]), axis(0)]))).toEqual([1]);
    expect(vals(run('Mean', [T('int32', [2], [-1, -2]), axis(0)]))).toEqual([-1]);
    expect(vals(run('Mean', [T('int32', [2], [2147483647, 1]), axis(0)]))).toEqual([1073741824]); // summed in 64 bits
    expect(vals(run('Mean', [T('uint8', [2], [255, 255]), axis(0)]))).toEqual([255]);
    expect(vals(run('Mean', [T('int64', [2], [2n ** 40n, 1n]), axis(0)]))).toEqual([(2n ** 40n + 1n) / 2n]);
    expect(vals(run('Mean', [m, axis(1)]))).toEqual([2, 5]);
  });

  it('wraps integer sums like TF and sums int64 exactly', () => {
    const s = run('Sum', [T('int32', [2], [2147483647, 1]), axis(0)]);
    expect(s.dtype).toBe('int32');
    expect(vals(s)).toEqual([-2147483648]);
    const big = run('Sum', [T('int64', [2], [2n ** 40n, 2n ** 40n]), axis(0)]);
    expect(big.dtype).toBe('int64');
    expect(vals(big)).toEqual([2n ** 41n]);
    expect(vals(run('Prod', [T('int64', [2], [2n ** 40n, 3n]), axis(0)]))).toEqual([3n * 2n ** 40n]);
    expect(vals(run('Sum', [T('uint8', [2], [200, 100]), axis(0)]))).toEqual([44]);
  });

  it('keeps float64 precision', () => {
    expect(vals(run('Sum', [T('float64', [2], [0.1, 0.2]), axis(0)]))).toEqual([0.1 + 0.2]);
  });

  it('propagates NaN through Max and Min', () => {
    const x = T('float32', [3], [1, NaN, 3]);
    expect(vals(run('Max', [x, axis(0)]))).toEqual([NaN]);
    expect(vals(run('Min', [T('float64', [3], [1, NaN, 3]), axis(0)]))).toEqual([NaN]);
  });

  it('reduces empty tensors to the identity of the reduction', () => {
    const e = T('float32', [2, 0], []);
    expect(vals(run('Sum', [e, axis(1)]))).toEqual([0, 0]);
    expect(vals(run('Prod', [e, axis(1)]))).toEqual([1, 1]);
    expect(vals(run('Max', [e, axis(1)]))).toEqual([-Infinity, -Infinity]);
    expect(vals(run('Min', [e, axis(1)]))).toEqual([Infinity, Infinity]);
    expect(vals(run('Mean', [e, axis(1)]))).toEqual([NaN, NaN]);
    expect(vals(run('Max', [T('int32', [0], []), axis(0)]))).toEqual([-2147483648]);
  });

  it('computes EuclideanNorm', () => {
    expect(vals(run('EuclideanNorm', [T('float32', [2], [3, 4]), axis(0)]))).toEqual([5]);
    expect(vals(run('EuclideanNorm', [T('float64', [2, 2], [3, 4, 6, 8]), axis(1)]))).toEqual([5, 10]);
  });

  it('stays on the backend for float32 and does not leak', () => {
    const x = Tensor.fromTf(tf.tensor2d([1, 2, 3, 4], [2, 2]), 'float32');
    const before = tf.memory().numTensors;
    const r = run('Sum', [x, axis(1)]);
    expect(r.isOnBackend).toBe(true);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(vals(r)).toEqual([3, 7]);
  });
});

describe('All, Any', () => {
  it('reduces bools', () => {
    const b = T('bool', [2, 2], [true, false, true, true]);
    expect(vals(run('All', [b, axis(1)]))).toEqual([0, 1]);
    expect(vals(run('Any', [b, axis(0)]))).toEqual([1, 1]);
    expect(run('All', [b, axis(1)]).dtype).toBe('bool');
    expect(vals(run('All', [T('bool', [0], []), axis(0)]))).toEqual([1]);
  });
});

describe('ArgMax, ArgMin', () => {
  it('returns int64 indices by default, the first one on ties', () => {
    const r = run('ArgMax', [T('float32', [2, 3], [3, 1, 3, 0, 5, 5]), T('int32', [], [1])]);
    expect(r.dtype).toBe('int64');
    expect(vals(r)).toEqual([0n, 1n]);
    const c = run('ArgMin', [T('float32', [2, 3], [3, 1, 3, 0, 5, 5]), T('int64', [], [0n])]);
    expect(vals(c)).toEqual([1n, 0n, 0n]);
  });

  it('honours output_type and works on int64 beyond int32', () => {
    const r = run('ArgMax', [T('int64', [3], [2n ** 40n, 2n ** 41n, 1n]), T('int32', [], [0])], {
      output_type: { kind: 'type', type: 'int32' },
    });
    expect(r.dtype).toBe('int32');
    expect(vals(r)).toEqual([1]);
  });

  it('rejects a bad dimension with TF wording', () => {
    expectInvalid(() => run('ArgMax', [m, T('int32', [], [2])]), 'Expected dimension in the range [-2, 2), but got 2');
    expectInvalid(() => run('ArgMax', [T('float32', [0, 3], []), T('int32', [], [0])]), 'Reduction axis 0 is empty in shape [0,3]');
    expectInvalid(() => run('ArgMax', [m, axis(0)]), 'dim must be a scalar, but received tensor of shape: [1]');
  });
});
