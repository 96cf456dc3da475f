import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('ScatterNd', () => {
  it('scatters updates into zeros (the TF docs example)', () => {
    const out = run1('ScatterNd', [i32([4, 1], [4, 3, 1, 7]), i32([4], [9, 10, 11, 12]), i32([1], [8])]);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [8], values: [0, 11, 0, 10, 9, 0, 0, 12] });
  });

  it('adds duplicate indices in float32 and scatters slices of int64', () => {
    expect(vals(run1('ScatterNd', [i32([2, 1], [1, 1]), f32([2], [0.5, 2]), i32([1], [3])]))).toEqual([0, 2.5, 0]);
    const out = run1('ScatterNd', [i64([1, 1], [1]), i64([1, 2], [2n ** 40n, 1n]), i64([2], [2, 2])]);
    expect(view(out)).toEqual({ dtype: 'int64', shape: [2, 2], values: [0n, 0n, 2n ** 40n, 1n] });
  });

  it('scatters strings into empty strings and accepts backend updates', () => {
    expect(vals(run1('ScatterNd', [i32([1, 1], [1]), str([1], ['x']), i32([1], [2])]))).toEqual(['', 'x']);
    expect(vals(run1('ScatterNd', [i32([1, 1], [0]), onBackend('float32', [1], [4]), i32([1], [2])]))).toEqual([4, 0]);
  });

  it('reports bad indices and shapes with TF wording', () => {
    expect(() => run1('ScatterNd', [i32([2, 1], [0, 5]), f32([2], [1, 2]), i32([1], [4])])).toThrowError(
      'indices[1] = [5] does not index into shape [4]',
    );
    expect(() => run1('ScatterNd', [i32([2, 1], [0, 1]), f32([3], [1, 2, 3]), i32([1], [4])])).toThrowError(
      'Dimensions [0,1) of indices[shape=[2,1]] must match dimensions [0,1) of updates[shape=[3]]',
    );
  });
});

describe('TensorScatterUpdate and friends', () => {
  it('replaces, adds, subtracts and takes max/min without touching the input', () => {
    const x = f32([4], [1, 2, 3, 4]);
    const idx = i32([2, 1], [1, 3]);
    const upd = f32([2], [9, 1]);
    expect(vals(run1('TensorScatterUpdate', [x, idx, upd]))).toEqual([1, 9, 3, 1]);
    expect(vals(run1('TensorScatterAdd', [x, idx, upd]))).toEqual([1, 11, 3, 5]);
    expect(vals(run1('TensorScatterSub', [x, idx, upd]))).toEqual([1, -7, 3, 3]);
    expect(vals(run1('TensorScatterMax', [x, idx, upd]))).toEqual([1, 9, 3, 4]);
    expect(vals(run1('TensorScatterMin', [x, idx, upd]))).toEqual([1, 2, 3, 1]);
    expect(vals(x)).toEqual([1, 2, 3, 4]);
  });

  it('updates string rows and int64 values', () => {
    const out = run1('TensorScatterUpdate', [str([2, 2], ['a', 'b', 'c', 'd']), i64([1, 1], [0]), str([1, 2], ['x', 'y'])]);
    expect(view(out)).toEqual({ dtype: 'string', shape: [2, 2], values: ['x', 'y', 'c', 'd'] });
    expect(vals(run1('TensorScatterAdd', [i64([2], [2n ** 40n, 0n]), i32([1, 1], [0]), i64([1], [1n])]))).toEqual([
      2n ** 40n + 1n,
      0n,
    ]);
  });

  it('rejects mismatched inner dimensions', () => {
    expect(() => run1('TensorScatterUpdate', [f32([2, 2], [1, 2, 3, 4]), i32([1, 1], [0]), f32([1, 3], [1, 2, 3])])).toThrowError(
      'The inner 1 dimensions of output.shape=[2,2] must match the inner 1 dimensions of updates.shape=[1,3]',
    );
  });
});
