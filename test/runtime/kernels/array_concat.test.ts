import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { Tensor } from '../../../runtime/tensor.js';
import { attr, bool, f32, i32, i64, onBackend, run, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('ConcatV2', () => {
  it('joins backend float32 tensors along the last axis and stays on the backend', () => {
    const a = onBackend('float32', [2, 2], [1, 2, 3, 4]);
    const b = onBackend('float32', [2, 1], [5, 6]);
    const out = run1('ConcatV2', [a, b, i32([], [-1])], { N: attr.i(2) });
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 3], values: [1, 2, 5, 3, 4, 6] });
  });

  it('joins int64 values beyond int32 without wrapping', () => {
    const out = run1('ConcatV2', [i64([1], [2n ** 40n]), i64([2], [-(2n ** 40n), 5n]), i64([], [0])]);
    expect(view(out)).toEqual({ dtype: 'int64', shape: [3], values: [2n ** 40n, -(2n ** 40n), 5n] });
  });

  it('joins string matrices along either axis', () => {
    const a = str([2, 1], ['a', 'b']);
    const b = str([2, 2], ['c', 'd', 'e', 'f']);
    expect(view(run1('ConcatV2', [a, b, i32([], [1])]))).toEqual({
      dtype: 'string',
      shape: [2, 3],
      values: ['a', 'c', 'd', 'b', 'e', 'f'],
    });
    expect(vals(run1('ConcatV2', [str([1, 1], ['x']), str([1, 1], ['y']), i32([], [0])]))).toEqual(['x', 'y']);
  });

  it('handles empty inputs on the backend', () => {
    const out = run1('ConcatV2', [onBackend('float32', [0, 2], []), onBackend('float32', [1, 2], [7, 8]), i32([], [0])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [1, 2], values: [7, 8] });
  });

  it('concatenates scalars along 0 into a vector (legacy)', () => {
    expect(view(run1('ConcatV2', [bool([], [true]), bool([], [false]), i32([], [0])]))).toEqual({
      dtype: 'bool',
      shape: [2],
      values: [true, false],
    });
  });

  it('reports mismatches with TF wording', () => {
    expect(() => run1('ConcatV2', [f32([2, 3], new Array(6).fill(0)), f32([2, 4], new Array(8).fill(0)), i32([], [0])])).toThrowError(
      'ConcatOp : Dimension 1 in both shapes must be equal: shape[0] = [2,3] vs. shape[1] = [2,4]',
    );
    expect(() => run1('ConcatV2', [f32([2, 3], new Array(6).fill(0)), f32([3], [0, 0, 0]), i32([], [0])])).toThrowError(
      'ConcatOp : Ranks of all input tensors should match: shape[0] = [2,3] vs. shape[1] = [3]',
    );
    expect(() => run1('ConcatV2', [f32([2, 3], new Array(6).fill(0)), f32([2, 3], new Array(6).fill(0)), i32([], [5])])).toThrowError(
      'ConcatOp : Expected concatenating dimensions in the range [-2, 2), but got 5',
    );
  });
});

describe('Concat', () => {
  it('takes concat_dim as its first input', () => {
    const out = run1('Concat', [i32([], [0]), i32([1], [1]), i32([2], [2, 3])]);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [3], values: [1, 2, 3] });
  });
});

describe('ConcatOffset', () => {
  it('returns each input offset along the concat dim', () => {
    const out = run('ConcatOffset', [i32([], [1]), i32([3], [2, 2, 7]), i32([3], [2, 3, 7]), i32([3], [2, 5, 7])]);
    expect(out.map(vals)).toEqual([
      [0, 0, 0],
      [0, 2, 0],
      [0, 5, 0],
    ]);
  });
});

describe('Pack', () => {
  it('stacks 0-d strings into a vector', () => {
    const out = run1('Pack', [str([], ['a']), str([], ['bb']), str([], ['ccc'])], { N: attr.i(3), axis: attr.i(0) });
    expect(view(out)).toEqual({ dtype: 'string', shape: [3], values: ['a', 'bb', 'ccc'] });
  });

  it('stacks backend vectors along axis 1', () => {
    const out = run1('Pack', [onBackend('float32', [2], [1, 2]), onBackend('float32', [2], [3, 4])], { axis: attr.i(1) });
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 2], values: [1, 3, 2, 4] });
  });

  it('stacks int64 scalars beyond int32', () => {
    expect(vals(run1('Pack', [i64([], [2n ** 33n]), i64([], [-1n])], { axis: attr.i(-1) }))).toEqual([2n ** 33n, -1n]);
  });

  it('rejects mismatched shapes and bad axes', () => {
    expect(() => run1('Pack', [f32([2], [1, 2]), f32([3], [1, 2, 3])], { axis: attr.i(0) })).toThrowError(
      'Shapes of all inputs must match: values[0].shape = [2] != values[1].shape = [3]',
    );
    expect(() => run1('Pack', [f32([2], [1, 2])], { axis: attr.i(2) })).toThrowError('axis = 2 not in [-2, 2)');
  });
});

describe('Unpack', () => {
  it('unstacks strings along axis 0 and floats along the last axis', () => {
    const rows = run('Unpack', [str([3, 2], ['a', 'b', 'c', 'd', 'e', 'f'])], { num: attr.i(3), axis: attr.i(0) });
    expect(rows.map(view)).toEqual([
      { dtype: 'string', shape: [2], values: ['a', 'b'] },
      { dtype: 'string', shape: [2], values: ['c', 'd'] },
      { dtype: 'string', shape: [2], values: ['e', 'f'] },
    ]);
    const cols = run('Unpack', [onBackend('float32', [2, 2], [1, 2, 3, 4])], { num: attr.i(2), axis: attr.i(-1) });
    expect(cols.map(vals)).toEqual([
      [1, 3],
      [2, 4],
    ]);
  });

  it('rejects a num that does not match the axis', () => {
    expect(() => run('Unpack', [f32([2, 3], [1, 2, 3, 4, 5, 6])], { num: attr.i(3), axis: attr.i(0) })).toThrowError(
      'Input shape axis 0 must equal 3, got shape [2,3]',
    );
  });
});

describe('Split and SplitV', () => {
  it('splits int64 values into num_split equal parts', () => {
    const out = run('Split', [i32([], [0]), i64([4], [1n, 2n ** 40n, 3n, 4n])], { num_split: attr.i(2) });
    expect(out.map(view)).toEqual([
      { dtype: 'int64', shape: [2], values: [1n, 2n ** 40n] },
      { dtype: 'int64', shape: [2], values: [3n, 4n] },
    ]);
  });

  it('splits a backend matrix along axis 1', () => {
    const out = run('Split', [i32([], [-1]), onBackend('float32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8])], {
      num_split: attr.i(2),
    });
    expect(out.map(view)).toEqual([
      { dtype: 'float32', shape: [2, 2], values: [1, 2, 5, 6] },
      { dtype: 'float32', shape: [2, 2], values: [3, 4, 7, 8] },
    ]);
  });

  it('rejects an uneven split with TF wording', () => {
    expect(() => run('Split', [i32([], [0]), f32([5], [1, 2, 3, 4, 5])], { num_split: attr.i(2) })).toThrowError(
      'Number of ways to split should evenly divide the split dimension, but got split_dim 0 (size = 5) and num_split 2',
    );
  });

  it('SplitV infers one -1 size and splits strings', () => {
    const out = run('SplitV', [str([2, 3], ['a', 'b', 'c', 'd', 'e', 'f']), i64([2], [1, -1]), i32([], [1])], {
      num_split: attr.i(2),
    });
    expect(out.map(view)).toEqual([
      { dtype: 'string', shape: [2, 1], values: ['a', 'd'] },
      { dtype: 'string', shape: [2, 2], values: ['b', 'c', 'e', 'f'] },
    ]);
    expect(() =>
      run('SplitV', [f32([3], [1, 2, 3]), i32([2], [1, 1]), i32([], [0])], { num_split: attr.i(2) }),
    ).toThrowError(
      'Determined shape must either match input shape along split_dim exactly if fully specified, or be less than the size of the input along split_dim if not fully specified.  Got: 2',
    );
  });

  it('keeps zero-size pieces', () => {
    const out = run('SplitV', [Tensor.from('float32', [3], [1, 2, 3]), i32([2], [0, 3]), i32([], [0])], {
      num_split: attr.i(2),
    });
    expect(out.map((t) => t.shape)).toEqual([[0], [3]]);
    expect(vals(out[1])).toEqual([1, 2, 3]);
  });
});
