import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { bool, f32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

describe('Where', () => {
  it('returns int64 coordinates of true elements: [[true,false],[false,true]] -> [[0,0],[1,1]]', () => {
    expect(view(run1('Where', [bool([2, 2], [true, false, false, true])]))).toEqual({
      dtype: 'int64',
      shape: [2, 2],
      values: [0n, 0n, 1n, 1n],
    });
  });

  it('treats nonzero numbers as true, on host and backend', () => {
    expect(view(run1('Where', [f32([4], [0, 2.5, 0, -1])]))).toEqual({ dtype: 'int64', shape: [2, 1], values: [1n, 3n] });
    expect(vals(run1('Where', [i64([3], [0n, 2n ** 40n, 0n])]))).toEqual([1n]);
    expect(view(run1('Where', [onBackend('bool', [1, 3], [false, true, true])]))).toEqual({
      dtype: 'int64',
      shape: [2, 2],
      values: [0n, 1n, 0n, 2n],
    });
  });

  it('returns [0, rank] when nothing is true and rejects scalars', () => {
    expect(run1('Where', [bool([2], [false, false])]).shape).toEqual([0, 1]);
    expect(() => run1('Where', [bool([], [true])])).toThrowError('WhereOp : Unhandled input dimensions: 0');
  });
});

describe('Select', () => {
  it('a scalar condition picks a whole input', () => {
    const t = str([2], ['a', 'b']);
    const e = str([2], ['c', 'd']);
    expect(run1('Select', [bool([], [true]), t, e])).toBe(t);
    expect(run1('Select', [bool([], [false]), t, e])).toBe(e);
  });

  it('a vector condition selects rows of matrices (TF1 semantics)', () => {
    const t = str([2, 2], ['t0', 't1', 't2', 't3']);
    const e = str([2, 2], ['e0', 'e1', 'e2', 'e3']);
    expect(view(run1('Select', [bool([2], [false, true]), t, e]))).toEqual({
      dtype: 'string',
      shape: [2, 2],
      values: ['e0', 'e1', 't2', 't3'],
    });
    const bt = onBackend('float32', [2, 2], [1, 2, 3, 4]);
    const be = onBackend('float32', [2, 2], [5, 6, 7, 8]);
    const out = run1('Select', [bool([2], [true, false]), bt, be]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([1, 2, 7, 8]);
  });

  it('selects elementwise for same-shaped inputs, bools included', () => {
    expect(vals(run1('Select', [bool([3], [true, false, true]), i64([3], [1n, 2n, 2n ** 40n]), i64([3], [4n, 5n, 6n])]))).toEqual([
      1n,
      5n,
      2n ** 40n,
    ]);
    const out = run1('Select', [
      onBackend('bool', [2], [true, false]),
      onBackend('bool', [2], [false, false]),
      onBackend('bool', [2], [true, true]),
    ]);
    expect(vals(out)).toEqual([false, true]);
  });

  it('rejects mismatched shapes with TF wording', () => {
    expect(() => run1('Select', [bool([2], [true, false]), f32([3, 1], [1, 2, 3]), f32([3, 1], [1, 2, 3])])).toThrowError(
      "Number of batches of 'then' must match size of 'cond', but saw: 3 vs. 2",
    );
    expect(() => run1('Select', [bool([2], [true, false]), f32([3], [1, 2, 3]), f32([3], [1, 2, 3])])).toThrowError(
      'Inputs to operation Select_node of type Select must have the same size and shape.  Input 0: [2] != input 1: [3]',
    );
  });
});

describe('SelectV2', () => {
  it('broadcasts condition, then and else', () => {
    const out = run1('SelectV2', [bool([2, 1], [true, false]), str([1, 3], ['a', 'b', 'c']), str([], ['-'])]);
    expect(view(out)).toEqual({ dtype: 'string', shape: [2, 3], values: ['a', 'b', 'c', '-', '-', '-'] });
    const f = run1('SelectV2', [bool([3], [true, false, true]), onBackend('float32', [2, 3], [1, 2, 3, 4, 5, 6]), f32([], [0])]);
    expect(f.isOnBackend).toBe(true);
    expect(view(f)).toEqual({ dtype: 'float32', shape: [2, 3], values: [1, 0, 3, 4, 0, 6] });
  });

  it('rejects shapes that do not broadcast', () => {
    expect(() => run1('SelectV2', [bool([2], [true, false]), f32([3], [1, 2, 3]), f32([], [0])])).toThrowError(
      'condition [2], then [3], and else [] must be broadcastable',
    );
  });
});
