import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { attr, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

interface Masks {
  begin?: number;
  end?: number;
  ellipsis?: number;
  newAxis?: number;
  shrink?: number;
}

function stridedSlice(x: Tensor, begin: Tensor, end: Tensor, strides: Tensor, m: Masks = {}): Tensor {
  const attrs: Record<string, AttrValue> = {
    begin_mask: attr.i(m.begin ?? 0),
    end_mask: attr.i(m.end ?? 0),
    ellipsis_mask: attr.i(m.ellipsis ?? 0),
    new_axis_mask: attr.i(m.newAxis ?? 0),
    shrink_axis_mask: attr.i(m.shrink ?? 0),
  };
  return run1('StridedSlice', [x, begin, end, strides], attrs);
}

const v = (values: number[]) => i32([values.length], values);
const m23 = () => f32([2, 3], [1, 2, 3, 4, 5, 6]);

describe('StridedSlice', () => {
  it('x[0, ::-1]: shrink axis plus a negative stride', () => {
    const out = stridedSlice(m23(), v([0, 0]), v([1, 0]), v([1, -1]), { begin: 2, end: 2, shrink: 1 });
    expect(view(out)).toEqual({ dtype: 'float32', shape: [3], values: [3, 2, 1] });
  });

  it('x[7:2:-2] on a vector', () => {
    const x = i64([10], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(vals(stridedSlice(x, v([7]), v([2]), v([-2])))).toEqual([7n, 5n, 3n]);
  });

  it('x[-1] on a string vector gives a scalar', () => {
    const out = stridedSlice(str([3], ['a', 'b', 'c']), v([-1]), v([0]), v([1]), { shrink: 1 });
    expect(view(out)).toEqual({ dtype: 'string', shape: [], values: ['c'] });
  });

  it('x[..., newaxis] and x[newaxis, 1:]', () => {
    expect(stridedSlice(m23(), v([0, 0]), v([0, 0]), v([1, 1]), { ellipsis: 1, newAxis: 2 }).shape).toEqual([2, 3, 1]);
    const out = stridedSlice(m23(), v([0, 1]), v([0, 0]), v([1, 1]), { newAxis: 1, end: 2 });
    expect(view(out)).toEqual({ dtype: 'float32', shape: [1, 1, 3], values: [4, 5, 6] });
  });

  it('x[..., 1] with an ellipsis before a shrunk index', () => {
    const out = stridedSlice(str([2, 2], ['a', 'b', 'c', 'd']), v([0, 1]), v([0, 2]), v([1, 1]), { ellipsis: 1, shrink: 2 });
    expect(view(out)).toEqual({ dtype: 'string', shape: [2], values: ['b', 'd'] });
  });

  it('accepts int64 begin/end/strides, including huge ends', () => {
    const out = stridedSlice(m23(), i64([2], [1, 1]), i64([2], [2n, 2n ** 62n]), i64([2], [1, 1]));
    expect(view(out)).toEqual({ dtype: 'float32', shape: [1, 2], values: [5, 6] });
  });

  it('slices backend tensors on the backend, unit and non-unit strides', () => {
    const x = onBackend('float32', [2, 4], [1, 2, 3, 4, 5, 6, 7, 8]);
    const cols = stridedSlice(x, v([0, 1]), v([0, 3]), v([1, 1]), { begin: 1, end: 1 });
    expect(cols.isOnBackend).toBe(true);
    expect(view(cols)).toEqual({ dtype: 'float32', shape: [2, 2], values: [2, 3, 6, 7] });
    const every2 = stridedSlice(x, v([0, 3]), v([0, 0]), v([1, -2]), { begin: 1, end: 3 });
    expect(every2.isOnBackend).toBe(true);
    expect(view(every2)).toEqual({ dtype: 'float32', shape: [2, 2], values: [4, 2, 8, 6] });
  });

  it('returns the input reshaped when the slice covers everything', () => {
    const x = str([1, 2], ['a', 'b']);
    const out = stridedSlice(x, v([0]), v([1]), v([1]), { shrink: 1 });
    expect(view(out)).toEqual({ dtype: 'string', shape: [2], values: ['a', 'b'] });
  });

  it('gives an empty result for an empty interval', () => {
    expect(stridedSlice(m23(), v([0, 2]), v([2, 1]), v([1, 1])).shape).toEqual([2, 0]);
  });

  it('reports bad specs with TF wording', () => {
    const x = f32([3], [1, 2, 3]);
    expect(() => stridedSlice(x, v([5]), v([6]), v([1]), { shrink: 1 })).toThrowError(
      'slice index 5 of dimension 0 out of bounds.',
    );
    expect(() => stridedSlice(x, v([-4]), v([0]), v([1]), { shrink: 1 })).toThrowError(
      'slice index -1 of dimension 0 out of bounds.',
    );
    expect(() => stridedSlice(x, v([0]), v([1]), v([0]))).toThrowError('strides[0] must be non-zero');
    expect(() => stridedSlice(m23(), v([0, 0, 0]), v([1, 1, 1]), v([1, 1, 1]))).toThrowError(
      'Index out of range using input dim 2; input has only 2 dims',
    );
    expect(() => stridedSlice(x, v([0, 0]), v([1]), v([1]))).toThrowError(
      'Expected begin, end, and strides to be 1D equal size tensors, but got shapes [2], [1], and [1] instead.',
    );
    expect(() => stridedSlice(m23(), v([0, 0]), v([1, 1]), v([1, 1]), { ellipsis: 3 })).toThrowError(
      'Multiple ellipses in slice spec not allowed',
    );
  });
});

describe('Slice', () => {
  it('slices with size -1 meaning "to the end"', () => {
    const out = run1('Slice', [m23(), i32([2], [0, 1]), i64([2], [-1, 2])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 2], values: [2, 3, 5, 6] });
  });

  it('slices strings and backend tensors', () => {
    expect(vals(run1('Slice', [str([4], ['a', 'b', 'c', 'd']), v([1]), v([2])]))).toEqual(['b', 'c']);
    const out = run1('Slice', [onBackend('int32', [3, 2], [1, 2, 3, 4, 5, 6]), v([1, 0]), v([2, 1])]);
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [2, 1], values: [3, 5] });
  });

  it('returns the input itself for a full slice', () => {
    const x = m23();
    expect(run1('Slice', [x, v([0, 0]), v([2, 3])])).toBe(x);
  });

  it('reports out-of-range begin and size', () => {
    expect(() => run1('Slice', [m23(), v([0, 0]), v([3, 1])])).toThrowError('Expected size[0] in [0, 2], but got 3');
    expect(() => run1('Slice', [m23(), v([0, 4]), v([1, 0])])).toThrowError('Expected begin[1] in [0, 3], but got 4');
    expect(() => run1('Slice', [m23(), v([0]), v([1, 1])])).toThrowError(
      'Expected begin and size arguments to be 1-D tensors of size 2, but got shapes [1] and [2] instead.',
    );
  });
});
