import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { attr, f32, i32, i64, onBackend, run, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('TopKV2', () => {
  it('returns the k largest values per row and their indices, ties by lower index', () => {
    const [values, indices] = run('TopKV2', [f32([2, 3], [1, 3, 2, 4, 4, 1]), i32([], [2])]);
    expect(view(values)).toEqual({ dtype: 'float32', shape: [2, 2], values: [3, 2, 4, 4] });
    expect(view(indices)).toEqual({ dtype: 'int32', shape: [2, 2], values: [1, 2, 0, 1] });
  });

  it('works on backend tensors and int64 values beyond int32, with int64 indices on request', () => {
    const [v1, i1] = run('TopKV2', [onBackend('float32', [4], [0.1, 0.7, 0.2, 0.0]), i32([], [1])]);
    expect(vals(v1)[0]).toBeCloseTo(0.7, 6);
    expect(vals(i1)).toEqual([1]);
    const [v2, i2] = run('TopKV2', [i64([3], [5n, 2n ** 40n, -(2n ** 40n)]), i32([], [3])], {
      index_type: attr.type('int64'),
    });
    expect(vals(v2)).toEqual([2n ** 40n, 5n, -(2n ** 40n)]);
    expect(view(i2)).toEqual({ dtype: 'int64', shape: [3], values: [1n, 0n, 2n] });
  });

  it('declares its two output args', () => {
    expect(kernelFor('TopKV2')?.outputs?.map((o) => o.name)).toEqual(['values', 'indices']);
  });

  it('rejects bad k with TF wording', () => {
    const x = f32([3], [1, 2, 3]);
    expect(() => run('TopKV2', [x, i32([], [5])])).toThrowError('input must have at least k columns. Had 3, needed 5');
    expect(() => run('TopKV2', [x, i32([], [-1])])).toThrowError('Need k >= 0, got -1');
    expect(() => run('TopKV2', [x, i32([1], [1])])).toThrowError('k must be scalar, got shape [1]');
  });
});

describe('Unique', () => {
  it('keeps first-occurrence order for strings', () => {
    const [y, idx] = run('Unique', [str([5], ['b', 'a', 'b', 'c', 'a'])]);
    expect(view(y)).toEqual({ dtype: 'string', shape: [3], values: ['b', 'a', 'c'] });
    expect(view(idx)).toEqual({ dtype: 'int32', shape: [5], values: [0, 1, 0, 2, 1] });
  });

  it('handles int64 beyond int32 and int64 out_idx', () => {
    const [y, idx] = run('Unique', [i64([3], [2n ** 40n, 2n ** 40n + 1n, 2n ** 40n])], { out_idx: attr.type('int64') });
    expect(vals(y)).toEqual([2n ** 40n, 2n ** 40n + 1n]);
    expect(vals(idx)).toEqual([0n, 1n, 0n]);
  });

  it('never merges NaNs but merges 0 and -0', () => {
    const [y, idx] = run('Unique', [f32([5], [NaN, 1, NaN, 0, -0])]);
    expect(vals(y)).toEqual([NaN, 1, NaN, 0]);
    expect(vals(idx)).toEqual([0, 1, 2, 3, 3]);
  });

  it('UniqueWithCounts counts occurrences', () => {
    const [y, idx, count] = run('UniqueWithCounts', [onBackend('int32', [5], [7, 8, 7, 7, 9])]);
    expect(vals(y)).toEqual([7, 8, 9]);
    expect(vals(idx)).toEqual([0, 1, 0, 0, 2]);
    expect(vals(count)).toEqual([3, 1, 1]);
  });

  it('UniqueV2 finds unique rows or columns', () => {
    const [rows, rowIdx] = run('UniqueV2', [i32([3, 2], [1, 2, 3, 4, 1, 2]), i64([1], [0])]);
    expect(view(rows)).toEqual({ dtype: 'int32', shape: [2, 2], values: [1, 2, 3, 4] });
    expect(vals(rowIdx)).toEqual([0, 1, 0]);
    const [cols, colIdx] = run('UniqueV2', [str([2, 3], ['a', 'b', 'a', 'c', 'd', 'c']), i32([1], [-1])]);
    expect(view(cols)).toEqual({ dtype: 'string', shape: [2, 2], values: ['a', 'b', 'c', 'd'] });
    expect(vals(colIdx)).toEqual([0, 1, 0]);
  });

  it('rejects non-vectors', () => {
    expect(() => run('Unique', [f32([1, 2], [1, 2])])).toThrowError('unique expects a 1D vector.');
  });
});

describe('InvertPermutation', () => {
  it('inverts int32 and int64 permutations', () => {
    expect(view(run('InvertPermutation', [i32([5], [3, 4, 0, 2, 1])])[0])).toEqual({
      dtype: 'int32',
      shape: [5],
      values: [2, 4, 3, 0, 1],
    });
    expect(vals(run('InvertPermutation', [i64([2], [1, 0])])[0])).toEqual([1n, 0n]);
  });

  it('rejects values that are not a permutation', () => {
    expect(() => run('InvertPermutation', [i32([2], [0, 5])])).toThrowError('5 is not between 0 and 2');
    expect(() => run('InvertPermutation', [i32([2], [0, 0])])).toThrowError('0 is duplicated in the input.');
    expect(() => run('InvertPermutation', [i32([1, 1], [0])])).toThrowError('invert_permutation expects a 1D vector.');
  });
});
