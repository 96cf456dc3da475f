import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../runtime/backend.js';
import * as tf from '@tensorflow/tfjs-core';
import { Tensor } from '../../runtime/tensor.js';
import { StatusError } from '../../runtime/errors.js';

beforeAll(async () => {
  await initBackend();
});

describe('Tensor', () => {
  it('moves float32 values to the backend and back unchanged', () => {
    const t = Tensor.from('float32', [2, 2], [1, 2.5, -3, 4]);
    const back = Tensor.fromTf(tf.mul(t.toTf(), 2), 'float32');
    expect(Array.from(back.values() as Float32Array)).toEqual([2, 5, -6, 8]);
  });

  it('runs int64 values through int32 kernels and tags the result int64', () => {
    const t = Tensor.from('int64', [3], [1n, -2n, 3n]);
    const r = Tensor.fromTf(tf.add(t.toTf(), 1), 'int64');
    expect(r.values()).toEqual(new BigInt64Array([2n, -1n, 4n]));
  });

  it('refuses an int64 value outside int32 instead of wrapping it', () => {
    const t = Tensor.from('int64', [1], [2n ** 40n]);
    expect(() => t.toTf()).toThrowError(StatusError);
    expect(() => t.toTf()).toThrowError(/outside the int32 range/);
  });

  it('keeps strings as bytes on the host', () => {
    const t = Tensor.from('string', [2], ['Ankle boot', 'Pullover']);
    expect(t.strings()).toEqual(['Ankle boot', 'Pullover']);
    expect(t.reshape([1, 2]).shape).toEqual([1, 2]);
  });

  it('rejects a reshape to a different element count with TF wording', () => {
    const t = Tensor.from('float32', [4], [1, 2, 3, 4]);
    expect(() => t.reshape([3])).toThrowError(/tensor with 4 values, but the requested shape has 3/);
  });
});
