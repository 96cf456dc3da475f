import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { attr, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

const iota16 = () => Array.from({ length: 16 }, (_, i) => i);

describe('MatrixBandPart', () => {
  it('keeps the lower band (num_lower=1, num_upper=-1)', () => {
    const out = run1('MatrixBandPart', [f32([4, 4], iota16()), i32([], [1]), i32([], [-1])]);
    expect(vals(out)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0, 9, 10, 11, 0, 0, 14, 15]);
  });

  it('keeps only the diagonal of backend matrices and of string matrices', () => {
    const out = run1('MatrixBandPart', [onBackend('float32', [2, 2], [1, 2, 3, 4]), i64([], [0]), i64([], [0])]);
    expect(out.isOnBackend).toBe(true);
    expect(vals(out)).toEqual([1, 0, 0, 4]);
    expect(vals(run1('MatrixBandPart', [str([2, 2], ['a', 'b', 'c', 'd']), i32([], [0]), i32([], [0])]))).toEqual([
      'a',
      '',
      '',
      'd',
    ]);
  });

  it('rejects a band wider than the matrix', () => {
    expect(() => run1('MatrixBandPart', [f32([4, 4], iota16()), i32([], [5]), i32([], [0])])).toThrowError(
      'num_lower must be negative or less or equal to number of rows (4) got: 5',
    );
  });
});

describe('MatrixDiag family', () => {
  const band = [0, 8, 9, 1, 2, 3, 4, 5, 0];
  const matrix = [1, 8, 0, 4, 2, 9, 0, 5, 3];

  it('MatrixDiagV3 builds a banded matrix with RIGHT_LEFT alignment (TF docs example)', () => {
    const out = run1('MatrixDiagV3', [i32([3, 3], band), i32([2], [-1, 1]), i32([], [-1]), i32([], [-1]), i32([], [0])]);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [3, 3], values: matrix });
  });

  it('MatrixDiagPartV3 extracts the same band back', () => {
    const out = run1('MatrixDiagPartV3', [i32([3, 3], matrix), i32([2], [-1, 1]), i32([], [0])], {
      align: attr.s('RIGHT_LEFT'),
    });
    expect(view(out)).toEqual({ dtype: 'int32', shape: [3, 3], values: band });
  });

  it('MatrixDiagV3 honours num_rows, num_cols and the padding value, for strings too', () => {
    const out = run1('MatrixDiagV3', [f32([2], [1, 2]), i32([], [0]), i32([], [2]), i32([], [3]), f32([], [9])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 3], values: [1, 9, 9, 9, 2, 9] });
    const s = run1('MatrixDiagV3', [str([2], ['a', 'b']), i32([], [0]), i32([], [-1]), i32([], [-1]), str([], ['.'])]);
    expect(view(s)).toEqual({ dtype: 'string', shape: [2, 2], values: ['a', '.', '.', 'b'] });
  });

  it('MatrixDiag and MatrixDiagPart (v1) work on batches', () => {
    expect(view(run1('MatrixDiag', [i64([2, 2], [1, 2, 3, 4])]))).toEqual({
      dtype: 'int64',
      shape: [2, 2, 2],
      values: [1n, 0n, 0n, 2n, 3n, 0n, 0n, 4n],
    });
    expect(view(run1('MatrixDiagPart', [f32([2, 3], [1, 2, 3, 4, 5, 6])]))).toEqual({
      dtype: 'float32',
      shape: [2],
      values: [1, 5],
    });
  });

  it('MatrixSetDiagV3 replaces the diagonal', () => {
    const out = run1('MatrixSetDiagV3', [f32([2, 3], [0, 0, 0, 0, 0, 0]), f32([2], [7, 8]), i32([], [0])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 3], values: [7, 0, 0, 0, 8, 0] });
  });

  it('reports bad diagonal indices', () => {
    expect(() => run1('MatrixDiagPartV3', [f32([2, 2], [1, 2, 3, 4]), i32([2], [1, 0]), f32([], [0])])).toThrowError(
      'lower_diag_index must not be larger than upper_diag_index: 1 > 0',
    );
  });
});

describe('Diag and DiagPart', () => {
  it('builds and reads tensor diagonals', () => {
    expect(view(run1('Diag', [str([2], ['a', 'b'])]))).toEqual({ dtype: 'string', shape: [2, 2], values: ['a', '', '', 'b'] });
    expect(view(run1('DiagPart', [f32([2, 2], [1, 0, 0, 2])]))).toEqual({ dtype: 'float32', shape: [2], values: [1, 2] });
    expect(() => run1('DiagPart', [f32([2, 2, 2], new Array(8).fill(0))])).toThrowError('even and positive, got shape [2,2,2]');
  });
});
