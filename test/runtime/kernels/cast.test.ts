import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import { castTensor } from '../../../runtime/kernels/cast.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

/** Runs the Cast kernel the way the executor does. */
function cast(x: Tensor, to: DType, truncate?: boolean): Tensor {
  const attr: Record<string, AttrValue> = { SrcT: { kind: 'type', type: x.dtype }, DstT: { kind: 'type', type: to } };
  if (truncate !== undefined) attr.Truncate = { kind: 'b', b: truncate };
  return kernelFor('Cast')!.kernel({
    node: { name: 'cast', op: 'Cast', input: [], device: '', attr },
    attrs: new Attrs(attr, 'cast', 'Cast'),
    inputs: [x],
    resources: undefined as never,
    functions: undefined as never,
  })[0];
}

const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number | bigint>);
/** The same float32 values held on the host and on the tfjs backend: both paths must agree. */
const bothPaths = (values: number[]) => [
  Tensor.from('float32', [values.length], values),
  Tensor.fromTf(tf.tensor1d(values, 'float32'), 'float32'),
];

describe('Cast', () => {
  it('truncates float to int32 toward zero', () => {
    for (const x of bothPaths([-1.7, 1.7, 2.5, -0.5, 1e9])) {
      const r = cast(x, 'int32');
      expect(r.dtype).toBe('int32');
      expect(vals(r)).toEqual([-1, 1, 2, 0, 1e9]);
    }
  });

  it('gives INT32_MIN for NaN and out-of-range floats, as TF on x86 does', () => {
    for (const x of bothPaths([NaN, 3e9, -3e9, Infinity])) {
      expect(vals(cast(x, 'int32'))).toEqual([-2147483648, -2147483648, -2147483648, -2147483648]);
    }
  });

  it('keeps the low bits when narrowing to uint8/int8', () => {
    expect(vals(cast(Tensor.from('float32', [3], [300.7, -1.5, 255]), 'uint8'))).toEqual([44, 255, 255]);
    expect(vals(cast(Tensor.from('int32', [2], [200, -129]), 'int8'))).toEqual([-56, 127]);
    expect(vals(cast(Tensor.from('int64', [1], [2n ** 32n + 5n]), 'int32'))).toEqual([5]);
    expect(vals(cast(Tensor.from('float32', [1], [-1]), 'uint32'))).toEqual([4294967295]);
  });

  it('converts to and from int64 exactly beyond the int32 range', () => {
    const big = cast(Tensor.from('int64', [2], [2n ** 40n + 1n, -(2n ** 53n)]), 'float64');
    expect(big.dtype).toBe('float64');
    expect(vals(big)).toEqual([2 ** 40 + 1, -(2 ** 53)]);
    const back = cast(Tensor.from('float64', [3], [2 ** 40 + 0.9, -2.9, NaN]), 'int64');
    expect(back.dtype).toBe('int64');
    expect(vals(back)).toEqual([2n ** 40n, -2n, -(2n ** 63n)]);
    const widened = cast(Tensor.fromTf(tf.tensor1d([7, -8], 'int32'), 'int32'), 'int64');
    expect(widened.dtype).toBe('int64');
    expect(vals(widened)).toEqual([7n, -8n]);
  });

  it('maps to bool as x != 0 (NaN is true) on both paths', () => {
    for (const x of bothPaths([NaN, 0, -0, 2, -0.5])) {
      const r = cast(x, 'bool');
      expect(r.dtype).toBe('bool');
      expect(vals(r)).toEqual([1, 0, 0, 1, 1]);
    }
    expect(vals(cast(Tensor.from('int64', [2], [2n ** 40n, 0n]), 'bool'))).toEqual([1, 0]);
  });

  it('maps bool to 0 and 1', () => {
    const b = Tensor.from('bool', [2], [true, false]);
    expect(vals(cast(b, 'float32'))).toEqual([1, 0]);
    expect(vals(cast(b, 'int64'))).toEqual([1n, 0n]);
    const onTf = Tensor.fromTf(tf.tensor1d([true, false], 'bool'), 'bool');
    expect(vals(cast(onTf, 'int32'))).toEqual([1, 0]);
  });

  it('rounds float64 to float32 and uint8 to float32', () => {
    expect(vals(cast(Tensor.from('float64', [1], [0.1]), 'float32'))).toEqual([Math.fround(0.1)]);
    const img = cast(Tensor.from('uint8', [3], [0, 128, 255]), 'float32');
    expect(img.dtype).toBe('float32');
    expect(vals(img)).toEqual([0, 128, 255]);
  });

  it('rounds to half precision, or truncates with Truncate', () => {
    const h = cast(Tensor.from('float32', [4], [1 / 3, 65504, 65520, 1e-8]), 'float16');
    expect(h.dtype).toBe('float16');
    expect(vals(h)).toEqual([0.333251953125, 65504, Infinity, 0]);
    const x = 1 + 0.75 * 2 ** -10;
    expect(vals(cast(Tensor.from('float32', [1], [x]), 'float16'))).toEqual([1 + 2 ** -10]);
    expect(vals(cast(Tensor.from('float32', [1], [x]), 'float16', true))).toEqual([1]);
    const bf = cast(Tensor.from('float32', [2], [1.00390625, 1.01171875]), 'bfloat16');
    expect(vals(bf)).toEqual([1, 1.015625]);
    expect(vals(cast(Tensor.from('float32', [1], [1.01171875]), 'bfloat16', true))).toEqual([1.0078125]);
  });

  it('moves real values into complex and back', () => {
    const c = cast(Tensor.from('float32', [2], [1.5, -2]), 'complex64');
    expect(Array.from(c.values() as Float32Array)).toEqual([1.5, 0, -2, 0]);
    expect(vals(cast(c, 'int32'))).toEqual([1, -2]);
  });

  it('returns the input for a cast to its own dtype', () => {
    const x = Tensor.from('int64', [1], [1n]);
    expect(cast(x, 'int64')).toBe(x);
  });

  it('refuses strings with TF wording', () => {
    try {
      cast(Tensor.from('string', [1], ['1']), 'float32');
      throw new Error('expected an error');
    } catch (e) {
      expect(e).toBeInstanceOf(StatusError);
      expect((e as StatusError).code).toBe('UNIMPLEMENTED');
      expect((e as StatusError).message).toBe('Cast string to float is not supported');
    }
  });

  it('stays on the backend for float32 to int32 and does not leak', () => {
    const x = Tensor.fromTf(tf.tensor1d([1.5, NaN], 'float32'), 'float32');
    const before = tf.memory().numTensors;
    const r = castTensor(x, 'int32');
    expect(r.isOnBackend).toBe(true);
    expect(tf.memory().numTensors).toBe(before + 1);
    r.dispose();
    expect(vals(x)).toEqual([1.5, NaN]);
  });
});
