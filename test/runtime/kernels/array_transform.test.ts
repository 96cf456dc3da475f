import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { Tensor } from '../../../runtime/tensor.js';
import { attr, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

const s23 = () => str([2, 3], ['a', 'b', 'c', 'd', 'e', 'f']);

describe('Tile', () => {
  it('tiles strings, int64 and backend floats', () => {
    expect(vals(run1('Tile', [str([2], ['a', 'b']), i32([1], [2])]))).toEqual(['a', 'b', 'a', 'b']);
    expect(view(run1('Tile', [i64([2, 1], [2n ** 40n, 1n]), i64([2], [1, 3])]))).toEqual({
      dtype: 'int64',
      shape: [2, 3],
      values: [2n ** 40n, 2n ** 40n, 2n ** 40n, 1n, 1n, 1n],
    });
    const out = run1('Tile', [onBackend('float32', [1, 2], [1, 2]), i32([2], [2, 2])]);
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 4], values: [1, 2, 1, 2, 1, 2, 1, 2] });
  });

  it('rejects bad multiples', () => {
    expect(() => run1('Tile', [f32([2], [1, 2]), i32([1], [-1])])).toThrowError('Expected multiples[0] >= 0, but got -1');
    expect(() => run1('Tile', [f32([1, 2], [1, 2]), i32([1], [2])])).toThrowError(
      'Expected multiples argument to be a vector of length 2 but got length 1',
    );
  });
});

describe('Transpose', () => {
  it('transposes strings and int64 with any permutation', () => {
    expect(view(run1('Transpose', [s23(), i32([2], [1, 0])]))).toEqual({
      dtype: 'string',
      shape: [3, 2],
      values: ['a', 'd', 'b', 'e', 'c', 'f'],
    });
    const x = i64([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    expect(vals(run1('Transpose', [x, i64([3], [2, 0, 1])]))).toEqual([0n, 2n, 4n, 6n, 1n, 3n, 5n, 7n]);
  });

  it('transposes backend float and bool tensors on the backend', () => {
    const f = run1('Transpose', [onBackend('float32', [2, 3], [1, 2, 3, 4, 5, 6]), i32([2], [1, 0])]);
    expect(f.isOnBackend).toBe(true);
    expect(vals(f)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(vals(run1('Transpose', [onBackend('bool', [1, 2], [true, false]), i32([2], [1, 0])]))).toEqual([true, false]);
  });

  it('conjugates complex values in ConjugateTranspose', () => {
    const x = Tensor.fromHost('complex64', [1, 2], new Float32Array([1, 2, 3, 4]));
    const out = run1('ConjugateTranspose', [x, i32([2], [1, 0])]);
    expect(out.shape).toEqual([2, 1]);
    expect(Array.from(out.values() as Float32Array)).toEqual([1, -2, 3, -4]);
  });

  it('rejects bad permutations with TF wording', () => {
    expect(() => run1('Transpose', [s23(), i32([3], [0, 1, 2])])).toThrowError(
      'transpose expects a vector of size 2. But input(1) is a vector of size 3',
    );
    expect(() => run1('Transpose', [s23(), i32([2], [0, 2])])).toThrowError('2 is out of range [0 .. 2)');
    expect(() => run1('Transpose', [s23(), i32([2], [0, 0])])).toThrowError('1 is missing from {0,0}.');
  });
});

describe('ReverseV2', () => {
  it('reverses strings, backend bools and backend floats', () => {
    expect(vals(run1('ReverseV2', [s23(), i32([1], [1])]))).toEqual(['c', 'b', 'a', 'f', 'e', 'd']);
    expect(vals(run1('ReverseV2', [onBackend('bool', [3], [true, false, false]), i32([1], [-1])]))).toEqual([
      false,
      false,
      true,
    ]);
    const out = run1('ReverseV2', [onBackend('float32', [2, 2], [1, 2, 3, 4]), i64([2], [0, 1])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([4, 3, 2, 1]);
  });

  it('rejects bad axes with TF wording', () => {
    expect(() => run1('ReverseV2', [s23(), i32([1], [2])])).toThrowError("'axis'[0] = 2 is out of valid range [0, 1");
    expect(() => run1('ReverseV2', [s23(), i32([2], [1, -1])])).toThrowError('axis 1 specified more than once.');
  });
});

describe('Pad, PadV2, MirrorPad', () => {
  it('pads strings with empty strings and int64 with a constant', () => {
    expect(vals(run1('Pad', [str([2], ['a', 'b']), i32([1, 2], [1, 2])]))).toEqual(['', 'a', 'b', '', '']);
    const out = run1('PadV2', [i64([1, 1], [1n]), i64([2, 2], [0, 1, 1, 0]), i64([], [2n ** 40n])]);
    expect(view(out)).toEqual({ dtype: 'int64', shape: [2, 2], values: [2n ** 40n, 1n, 2n ** 40n, 2n ** 40n] });
  });

  it('pads backend floats and bools on the backend', () => {
    const out = run1('PadV2', [onBackend('float32', [2], [1, 2]), i32([1, 2], [0, 1]), f32([], [9])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([1, 2, 9]);
    expect(vals(run1('Pad', [onBackend('bool', [1], [true]), i32([1, 2], [1, 1])]))).toEqual([false, true, false]);
  });

  it('mirrors in REFLECT and SYMMETRIC modes', () => {
    const x = i32([3], [1, 2, 3]);
    const pads = i32([1, 2], [2, 2]);
    expect(vals(run1('MirrorPad', [x, pads], { mode: attr.s('REFLECT') }))).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(vals(run1('MirrorPad', [x, pads], { mode: attr.s('SYMMETRIC') }))).toEqual([2, 1, 1, 2, 3, 3, 2]);
    expect(vals(run1('MirrorPad', [str([2], ['a', 'b']), i32([1, 2], [1, 0])], { mode: attr.s('REFLECT') }))).toEqual([
      'b',
      'a',
      'b',
    ]);
    const big = onBackend('float32', [1, 3], [1, 2, 3]);
    expect(vals(run1('MirrorPad', [big, i32([2, 2], [0, 0, 1, 1])], { mode: attr.s('REFLECT') }))).toEqual([2, 1, 2, 3, 2]);
  });

  it('rejects bad paddings with TF wording', () => {
    expect(() => run1('Pad', [f32([2], [1, 2]), i32([1, 2], [-1, 0])])).toThrowError('Paddings must be non-negative: -1 0');
    expect(() => run1('Pad', [f32([2, 2], [1, 2, 3, 4]), i32([1, 2], [0, 0])])).toThrowError(
      'The first dimension of paddings must be the rank of inputs[1,2] [2,2]',
    );
    expect(() => run1('MirrorPad', [i32([3], [1, 2, 3]), i32([1, 2], [3, 0])], { mode: attr.s('REFLECT') })).toThrowError(
      'paddings must be less than the dimension size: 3, 0 not less than 3',
    );
  });
});

describe('BroadcastTo and BroadcastArgs', () => {
  it('broadcasts strings, int64 scalars and backend floats', () => {
    expect(view(run1('BroadcastTo', [str([1, 2], ['a', 'b']), i32([2], [3, 2])]))).toEqual({
      dtype: 'string',
      shape: [3, 2],
      values: ['a', 'b', 'a', 'b', 'a', 'b'],
    });
    expect(vals(run1('BroadcastTo', [i64([], [2n ** 40n]), i64([1], [2])]))).toEqual([2n ** 40n, 2n ** 40n]);
    const out = run1('BroadcastTo', [onBackend('float32', [3, 1], [1, 2, 3]), i32([2], [3, 2])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it('rejects impossible broadcasts with TF wording', () => {
    expect(() => run1('BroadcastTo', [f32([1, 2], [1, 2]), i32([1], [2])])).toThrowError(
      'Rank of input (2) must be no greater than rank of output shape (1).',
    );
    expect(() => run1('BroadcastTo', [f32([2], [1, 2]), i32([1], [3])])).toThrowError('Incompatible shapes: [2] vs. [3]');
    expect(() => run1('BroadcastTo', [f32([3], [1, 2, 3]), i32([1], [1])])).toThrowError(
      'Unable to broadcast tensor of shape [3] to tensor of shape [1]',
    );
  });

  it('BroadcastArgs computes the broadcast shape in the input dtype', () => {
    expect(view(run1('BroadcastArgs', [i32([2], [2, 1]), i32([1], [3])]))).toEqual({ dtype: 'int32', shape: [2], values: [2, 3] });
    expect(vals(run1('BroadcastArgs', [i64([1], [1]), i64([2], [4, 5])]))).toEqual([4n, 5n]);
    expect(() => run1('BroadcastArgs', [i32([1], [2]), i32([1], [3])])).toThrowError('Incompatible shapes: [2] vs. [3]');
  });
});
