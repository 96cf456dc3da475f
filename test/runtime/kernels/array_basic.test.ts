import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';
import { attr, f32, i32, i64, onBackend, run, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('Const and pass-through kernels', () => {
  it('Const returns its value attr', () => {
    const value = str([2], ['a', 'b']);
    expect(run1('Const', [], { value: attr.tensor(value), dtype: attr.type('string') })).toBe(value);
  });

  it('Identity, Snapshot, StopGradient and PlaceholderWithDefault return the input itself', () => {
    const x = i64([1], [2n ** 40n]);
    for (const op of ['Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'PlaceholderWithDefault']) {
      expect(run1(op, [x])).toBe(x);
    }
  });

  it('IdentityN returns every input and NoOp returns nothing', () => {
    const a = str([], ['x']);
    const b = f32([2], [1, 2]);
    expect(run('IdentityN', [a, b])).toEqual([a, b]);
    expect(run('NoOp', [])).toEqual([]);
  });
});

describe('EnsureShape', () => {
  it('passes a compatible tensor through', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(run1('EnsureShape', [x], { shape: attr.shape([-1, 3]) })).toBe(x);
    expect(run1('EnsureShape', [x], { shape: attr.shape(undefined) })).toBe(x);
  });

  it('rejects an incompatible shape with TF wording', () => {
    const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => run1('EnsureShape', [x], { shape: attr.shape([3, -1]) })).toThrowError(
      'Shape of tensor input_0 [2,3] is not compatible with expected shape [3,?].',
    );
  });
});

describe('CheckNumerics', () => {
  it('passes finite values and reports NaN / Inf like TF', () => {
    const ok = f32([2], [1, 2]);
    expect(run1('CheckNumerics', [ok], { message: attr.s('check') })).toBe(ok);
    expect(() => run1('CheckNumerics', [f32([2], [NaN, 1])], { message: attr.s('logits') })).toThrowError(
      'logits : Tensor had NaN values',
    );
    expect(() => run1('CheckNumerics', [onBackend('float32', [2], [Infinity, NaN])], { message: attr.s('m') })).toThrowError(
      'm : Tensor had Inf and NaN values',
    );
    expect(() => run1('CheckNumericsV2', [f32([2], [-Infinity, NaN])], { message: attr.s('m') })).toThrowError(
      'm : Tensor had -Inf and NaN values',
    );
  });
});

describe('Shape, ShapeN, Size, Rank', () => {
  it('report shapes as int32 by default and int64 on request', () => {
    const x = str([2, 3], ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(view(run1('Shape', [x]))).toEqual({ dtype: 'int32', shape: [2], values: [2, 3] });
    expect(view(run1('Shape', [x], { out_type: attr.type('int64') }))).toEqual({
      dtype: 'int64',
      shape: [2],
      values: [2n, 3n],
    });
    expect(view(run1('Size', [x]))).toEqual({ dtype: 'int32', shape: [], values: [6] });
    expect(view(run1('Rank', [x]))).toEqual({ dtype: 'int32', shape: [], values: [2] });
    const shapes = run('ShapeN', [x, f32([], [1])]);
    expect(shapes.map(view)).toEqual([
      { dtype: 'int32', shape: [2], values: [2, 3] },
      { dtype: 'int32', shape: [0], values: [] },
    ]);
  });
});

describe('Reshape', () => {
  it('infers one -1 dimension: [2,-1] of 6 values is [2,3]', () => {
    const out = run1('Reshape', [f32([6], [1, 2, 3, 4, 5, 6]), i32([2], [2, -1])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 3], values: [1, 2, 3, 4, 5, 6] });
  });

  it('accepts an int64 shape and keeps int64 values beyond int32', () => {
    const out = run1('Reshape', [i64([4], [2n ** 40n, -1n, 3n, 4n]), i64([2], [-1, 2])]);
    expect(view(out)).toEqual({ dtype: 'int64', shape: [2, 2], values: [2n ** 40n, -1n, 3n, 4n] });
  });

  it('reshapes a backend tensor without leaving the backend', () => {
    const out = run1('Reshape', [onBackend('float32', [2, 2], [1, 2, 3, 4]), i32([1], [-1])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([1, 2, 3, 4]);
  });

  it('reshapes zero-element tensors, inferring dims next to a 0', () => {
    const out = run1('Reshape', [Tensor.from('string', [0, 4], []), i32([2], [0, -1])]);
    expect(out.shape).toEqual([0, 4]);
  });

  it('reports bad shapes with TF wording', () => {
    const x = f32([4], [1, 2, 3, 4]);
    expect(() => run1('Reshape', [x, i32([1], [3])])).toThrowError(
      'Input to reshape is a tensor with 4 values, but the requested shape has 3',
    );
    expect(() => run1('Reshape', [x, i32([2], [3, -1])])).toThrowError(
      'Input to reshape is a tensor with 4 values, but the requested shape requires a multiple of 3',
    );
    expect(() => run1('Reshape', [x, i32([2], [-1, -1])])).toThrowError('Only one input size may be -1, not both 0 and 1');
    expect(() => run1('Reshape', [x, i32([2], [-2, 2])])).toThrowError('Size 0 must be non-negative, not -2');
    expect(() => run1('Reshape', [x, i32([2, 1], [2, 2])])).toThrowError('sizes input must be 1-D, not [2,1]');
    expect(() => run1('Reshape', [x, i32([1], [3])])).toThrowError(StatusError);
  });
});

describe('Squeeze', () => {
  it('squeezes a [1] string tensor and a [1,1] string tensor to scalars', () => {
    expect(view(run1('Squeeze', [str([1], ['Ankle boot'])]))).toEqual({
      dtype: 'string',
      shape: [],
      values: ['Ankle boot'],
    });
    expect(view(run1('Squeeze', [str([1, 1], ['x'])], { squeeze_dims: attr.ints([]) }))).toEqual({
      dtype: 'string',
      shape: [],
      values: ['x'],
    });
  });

  it('squeezes only the listed dims, negative ones counted from the end', () => {
    const x = f32([1, 3, 1], [1, 2, 3]);
    expect(run1('Squeeze', [x], { squeeze_dims: attr.ints([-1]) }).shape).toEqual([1, 3]);
  });

  it('rejects squeezing a dim that is not 1', () => {
    const x = f32([1, 3], [1, 2, 3]);
    expect(() => run1('Squeeze', [x], { squeeze_dims: attr.ints([1]) })).toThrowError(
      'Can not squeeze dim[1], expected a dimension of 1, got 3',
    );
    expect(() => run1('Squeeze', [x], { squeeze_dims: attr.ints([2]) })).toThrowError(
      'Tried to squeeze dim index 2 for tensor with 2 dimensions.',
    );
  });
});

describe('ExpandDims', () => {
  it('inserts a 1 at the given (possibly negative) position', () => {
    const x = i64([2], [1n, 2n ** 50n]);
    expect(view(run1('ExpandDims', [x, i32([], [0])]))).toEqual({ dtype: 'int64', shape: [1, 2], values: [1n, 2n ** 50n] });
    expect(run1('ExpandDims', [x, i64([], [-1])]).shape).toEqual([2, 1]);
    expect(run1('ExpandDims', [str([], ['s']), i32([], [0])]).shape).toEqual([1]);
  });

  it('rejects an out-of-range dim', () => {
    expect(() => run1('ExpandDims', [f32([2], [1, 2]), i32([], [3])])).toThrowError(
      'Tried to expand dim index 3 for tensor with 1 dimensions.',
    );
  });
});
