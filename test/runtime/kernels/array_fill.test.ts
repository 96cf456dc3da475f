import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { Tensor } from '../../../runtime/tensor.js';
import { attr, bool, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('Fill', () => {
  it('fills strings, int64 beyond int32 and float32', () => {
    expect(view(run1('Fill', [i32([2], [2, 1]), str([], ['x'])]))).toEqual({
      dtype: 'string',
      shape: [2, 1],
      values: ['x', 'x'],
    });
    expect(vals(run1('Fill', [i64([1], [2]), i64([], [2n ** 40n])]))).toEqual([2n ** 40n, 2n ** 40n]);
    const big = run1('Fill', [i32([2], [16, 16]), f32([], [1.5])]);
    expect(big.isOnBackend).toBe(true);
    expect(big.shape).toEqual([16, 16]);
    expect(vals(big).every((x) => x === 1.5)).toBe(true);
  });

  it('rejects a non-vector dims and a non-scalar value', () => {
    expect(() => run1('Fill', [i32([2, 1], [2, 2]), f32([], [0])])).toThrowError('dims must be a vector, got shape [2,1]');
    expect(() => run1('Fill', [i32([1], [2]), f32([2], [0, 0])])).toThrowError('value must be a scalar, got shape [2]');
    expect(() => run1('Fill', [i32([1], [-1]), f32([], [0])])).toThrowError('Dimension -1 must be >= 0');
  });
});

describe('ZerosLike and OnesLike', () => {
  it('ZerosLike gives empty strings, 0n and backend zeros', () => {
    expect(vals(run1('ZerosLike', [str([2], ['a', 'b'])]))).toEqual(['', '']);
    expect(view(run1('ZerosLike', [i64([2], [2n ** 40n, 1n])]))).toEqual({ dtype: 'int64', shape: [2], values: [0n, 0n] });
    const z = run1('ZerosLike', [onBackend('float32', [2], [3, 4])]);
    expect(z.isOnBackend).toBe(true);
    expect(vals(z)).toEqual([0, 0]);
  });

  it('OnesLike gives true bools, 1n int64 and complex (1, 0)', () => {
    expect(vals(run1('OnesLike', [bool([2], [false, true])]))).toEqual([true, true]);
    expect(vals(run1('OnesLike', [i64([1], [7n])]))).toEqual([1n]);
    const c = run1('OnesLike', [Tensor.fromHost('complex64', [1], new Float32Array([3, 4]))]);
    expect(Array.from(c.values() as Float32Array)).toEqual([1, 0]);
    expect(vals(run1('OnesLike', [Tensor.from('float64', [2], [0.5, 2])]))).toEqual([1, 1]);
  });
});

describe('Range', () => {
  it('counts integers up and down', () => {
    expect(view(run1('Range', [i32([], [2]), i32([], [10]), i32([], [3])]))).toEqual({
      dtype: 'int32',
      shape: [3],
      values: [2, 5, 8],
    });
    expect(vals(run1('Range', [i32([], [5]), i32([], [1]), i32([], [-2])]))).toEqual([5, 3]);
    expect(vals(run1('Range', [i64([], [2n ** 40n]), i64([], [2n ** 40n + 3n]), i64([], [1n])]))).toEqual([
      2n ** 40n,
      2n ** 40n + 1n,
      2n ** 40n + 2n,
    ]);
  });

  it('accumulates float32 steps like TF: range(0, 1, 0.1) has 10 elements', () => {
    const out = run1('Range', [f32([], [0]), f32([], [1]), f32([], [0.1])]);
    expect(out.dtype).toBe('float32');
    expect(out.shape).toEqual([10]);
    const v = vals(out) as number[];
    expect(v[0]).toBe(0);
    expect(v[3]).toBeCloseTo(0.3, 6);
    expect(v[9]).toBeCloseTo(0.9, 6);
  });

  it('reports impossible ranges with TF wording', () => {
    expect(() => run1('Range', [i32([], [5]), i32([], [1]), i32([], [1])])).toThrowError(
      'Requires start <= limit when delta > 0: 5/1',
    );
    expect(() => run1('Range', [i32([], [1]), i32([], [5]), i32([], [-1])])).toThrowError(
      'Requires start >= limit when delta < 0: 1/5',
    );
    expect(() => run1('Range', [i32([], [1]), i32([], [5]), i32([], [0])])).toThrowError('Requires delta != 0: 0');
    expect(() => run1('Range', [f32([], [0.5]), f32([], [0.1]), f32([], [0.1])])).toThrowError(
      'Requires start <= limit when delta > 0: 0.5/0.1',
    );
  });
});

describe('LinSpace', () => {
  it('spaces values evenly and ends exactly at stop', () => {
    expect(view(run1('LinSpace', [f32([], [0]), f32([], [1]), i32([], [5])]))).toEqual({
      dtype: 'float32',
      shape: [5],
      values: [0, 0.25, 0.5, 0.75, 1],
    });
    expect(vals(run1('LinSpace', [Tensor.from('float64', [], [1]), Tensor.from('float64', [], [2]), i64([], [3])]))).toEqual([
      1, 1.5, 2,
    ]);
    expect(vals(run1('LinSpace', [f32([], [4]), f32([], [9]), i32([], [1])]))).toEqual([4]);
    expect(() => run1('LinSpace', [f32([], [0]), f32([], [1]), i32([], [0])])).toThrowError('Requires num > 0: 0');
  });
});

describe('OneHot', () => {
  it('encodes indices, leaving out-of-range ones all off', () => {
    const out = run1('OneHot', [i32([4], [0, 2, -1, 1]), i32([], [3]), f32([], [1]), f32([], [0])], { axis: attr.i(-1) });
    expect(view(out)).toEqual({ dtype: 'float32', shape: [4, 3], values: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0] });
  });

  it('puts the depth axis first with axis 0, for string on/off values', () => {
    const out = run1('OneHot', [i64([2], [1, 0]), i32([], [2]), str([], ['y']), str([], ['n'])], { axis: attr.i(0) });
    expect(view(out)).toEqual({ dtype: 'string', shape: [2, 2], values: ['n', 'y', 'y', 'n'] });
  });

  it('runs on the backend for backend indices', () => {
    const out = run1('OneHot', [onBackend('int32', [2], [1, 0]), i32([], [2]), f32([], [5]), f32([], [-1])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([-1, 5, 5, -1]);
  });

  it('rejects a negative depth and a bad axis', () => {
    expect(() => run1('OneHot', [i32([1], [0]), i32([], [-1]), f32([], [1]), f32([], [0])])).toThrowError(
      'depth must be non-negative, got: -1',
    );
    expect(() =>
      run1('OneHot', [i32([1], [0]), i32([], [2]), f32([], [1]), f32([], [0])], { axis: attr.i(3) }),
    ).toThrowError('Expected axis to be -1 or between [0, 2).  But received: 3');
  });
});
