import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { attr, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

const iota = (n: number, from = 1) => Array.from({ length: n }, (_, i) => i + from);

describe('SpaceToBatchND and BatchToSpaceND', () => {
  const spread = [1, 3, 9, 11, 2, 4, 10, 12, 5, 7, 13, 15, 6, 8, 14, 16];

  it('moves 2x2 blocks into the batch (TF docs example) and back', () => {
    const x = i32([1, 4, 4, 1], iota(16));
    const out = run1('SpaceToBatchND', [x, i32([2], [2, 2]), i32([2, 2], [0, 0, 0, 0])]);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [4, 2, 2, 1], values: spread });
    const back = run1('BatchToSpaceND', [out, i32([2], [2, 2]), i64([2, 2], [0, 0, 0, 0])]);
    expect(view(back)).toEqual({ dtype: 'int32', shape: [1, 4, 4, 1], values: iota(16) });
  });

  it('pads before splitting (TF docs example) and crops on the way back', () => {
    const x = onBackend('float32', [2, 2, 4, 1], iota(16));
    const out = run1('SpaceToBatchND', [x, i32([2], [2, 2]), i32([2, 2], [0, 0, 2, 0])]);
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({
      dtype: 'float32',
      shape: [8, 1, 3, 1],
      values: [0, 1, 3, 0, 9, 11, 0, 2, 4, 0, 10, 12, 0, 5, 7, 0, 13, 15, 0, 6, 8, 0, 14, 16],
    });
    const back = run1('BatchToSpaceND', [out, i32([2], [2, 2]), i32([2, 2], [0, 0, 2, 0])]);
    expect(view(back)).toEqual({ dtype: 'float32', shape: [2, 2, 4, 1], values: iota(16) });
  });

  it('rejects indivisible shapes with TF wording', () => {
    expect(() => run1('SpaceToBatchND', [f32([1, 3, 1], [1, 2, 3]), i32([1], [2]), i32([1, 2], [0, 0])])).toThrowError(
      'padded_shape[0]=3 is not divisible by block_shape[0]=2',
    );
    expect(() => run1('BatchToSpaceND', [f32([3, 1], [1, 2, 3]), i32([1], [2]), i32([1, 2], [0, 0])])).toThrowError(
      'Input batch dimension (3) is not divisible by product of block sizes (2)',
    );
  });
});

describe('DepthToSpace and SpaceToDepth', () => {
  const depth = iota(16);
  const space = [1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16];

  it('rearranges depth into 2x2 blocks (TF docs example) and back', () => {
    const out = run1('DepthToSpace', [i64([1, 2, 2, 4], depth)], { block_size: attr.i(2) });
    expect(view(out)).toEqual({ dtype: 'int64', shape: [1, 4, 4, 1], values: space.map((v) => BigInt(v)) });
    const back = run1('SpaceToDepth', [f32([1, 4, 4, 1], space)], { block_size: attr.i(2) });
    expect(view(back)).toEqual({ dtype: 'float32', shape: [1, 2, 2, 4], values: depth });
  });

  it('rejects depths and sizes that do not divide', () => {
    expect(() => run1('DepthToSpace', [f32([1, 1, 1, 7], iota(7))], { block_size: attr.i(2) })).toThrowError(
      'Input depth dimension 7 should be divisible by: 4',
    );
    expect(() => run1('SpaceToDepth', [f32([1, 3, 2, 1], iota(6))], { block_size: attr.i(2) })).toThrowError(
      'Image width 2 and height 3 should be divisible by block_size: 2',
    );
  });
});

describe('ReverseSequence and Roll', () => {
  it('reverses the first seq_lengths[b] elements of each batch row', () => {
    const out = run1('ReverseSequence', [str([2, 3], ['a', 'b', 'c', 'd', 'e', 'f']), i64([2], [2, 3])], {
      seq_dim: attr.i(1),
      batch_dim: attr.i(0),
    });
    expect(vals(out)).toEqual(['b', 'a', 'c', 'f', 'e', 'd']);
    expect(() =>
      run1('ReverseSequence', [f32([2, 3], iota(6)), i32([2], [4, 1])], { seq_dim: attr.i(1), batch_dim: attr.i(0) }),
    ).toThrowError('seq_lens(0) > input.dims(1)');
  });

  it('rolls along one or several axes', () => {
    expect(vals(run1('Roll', [i32([5], [0, 1, 2, 3, 4]), i32([], [2]), i32([], [0])]))).toEqual([3, 4, 0, 1, 2]);
    const out = run1('Roll', [onBackend('float32', [2, 3], [0, 1, 2, 3, 4, 5]), i32([2], [1, 1]), i32([2], [0, 1])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 3], values: [5, 3, 4, 2, 0, 1] });
    expect(vals(run1('Roll', [str([3], ['a', 'b', 'c']), i64([], [-1]), i64([], [0])]))).toEqual(['b', 'c', 'a']);
    expect(() => run1('Roll', [f32([2], [1, 2]), i32([], [1]), i32([], [1])])).toThrowError('axis 1 is out of range');
  });
});
