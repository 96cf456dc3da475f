import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import { attr, bool, f32, i32, i64, onBackend, run1, str, view, vals } from './array_harness.js';

beforeAll(async () => {
  await initBackend();
});

const labels = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

describe('GatherV2', () => {
  it('gathers from a string vector with indices [[2],[0]]', () => {
    const out = run1('GatherV2', [str([3], ['a', 'b', 'c']), i32([2, 1], [2, 0]), i32([], [0])]);
    expect(view(out)).toEqual({ dtype: 'string', shape: [2, 1], values: ['c', 'a'] });
  });

  it('gathers [N,1] int64 indices from a [10] string tensor (map_fn lookup)', () => {
    const out = run1('GatherV2', [str([10], labels), i64([3, 1], [9, 0, 2]), i32([], [0])], { batch_dims: attr.i(0) });
    expect(view(out)).toEqual({ dtype: 'string', shape: [3, 1], values: ['Ankle boot', 'T-shirt', 'Pullover'] });
  });

  it('gathers columns of a backend matrix and stays on the backend', () => {
    const out = run1('GatherV2', [onBackend('float32', [2, 3], [1, 2, 3, 4, 5, 6]), i32([2], [2, 0]), i64([], [1])]);
    expect(out.isOnBackend).toBe(true);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 2], values: [3, 1, 6, 4] });
  });

  it('gathers a scalar index, dropping the axis', () => {
    const out = run1('GatherV2', [onBackend('int32', [2, 2], [1, 2, 3, 4]), i32([], [1]), i32([], [0])]);
    expect(view(out)).toEqual({ dtype: 'int32', shape: [2], values: [3, 4] });
  });

  it('supports batch_dims', () => {
    const params = f32([2, 3], [1, 2, 3, 4, 5, 6]);
    const out = run1('GatherV2', [params, i32([2, 1], [2, 0]), i32([], [1])], { batch_dims: attr.i(1) });
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 1], values: [3, 4] });
    const onTf = run1('GatherV2', [onBackend('float32', [2, 3], [1, 2, 3, 4, 5, 6]), i32([2, 2], [0, 0, 1, 2]), i32([], [1])], {
      batch_dims: attr.i(-1),
    });
    expect(view(onTf)).toEqual({ dtype: 'float32', shape: [2, 2], values: [1, 1, 5, 6] });
  });

  it('moves int64 and bool values exactly', () => {
    expect(vals(run1('GatherV2', [i64([3], [2n ** 60n, 1n, -(2n ** 60n)]), i32([2], [2, 0]), i32([], [0])]))).toEqual([
      -(2n ** 60n),
      2n ** 60n,
    ]);
    expect(vals(run1('GatherV2', [onBackend('bool', [3], [true, false, true]), i32([3], [1, 1, 2]), i32([], [0])]))).toEqual([
      false,
      false,
      true,
    ]);
  });

  it('reports out-of-range indices like gather_op.cc', () => {
    const params = str([3], ['a', 'b', 'c']);
    expect(() => run1('GatherV2', [params, i32([2], [5, 0]), i32([], [0])])).toThrowError('indices[0] = 5 is not in [0, 3)');
    expect(() => run1('GatherV2', [params, i32([2, 1], [0, 5]), i32([], [0])])).toThrowError(
      'indices[1,0] = 5 is not in [0, 3)',
    );
    expect(() => run1('GatherV2', [params, i32([], [-1]), i32([], [0])])).toThrowError('indices = -1 is not in [0, 3)');
    expect(() => run1('GatherV2', [params, i64([1], [2n ** 40n]), i32([], [0])])).toThrowError(
      'indices[0] = 1099511627776 is not in [0, 3)',
    );
    expect(() => run1('GatherV2', [params, i32([1], [0]), i32([], [1])])).toThrowError(
      'Shape must be at least rank 2 but is rank 1',
    );
    expect(() => run1('GatherV2', [onBackend('float32', [2], [1, 2]), i32([1], [2]), i32([], [0])])).toThrowError(StatusError);
  });
});

describe('Gather', () => {
  it('gathers rows along axis 0', () => {
    const out = run1('Gather', [bool([3, 1], [true, false, true]), i64([2], [1, 2])]);
    expect(view(out)).toEqual({ dtype: 'bool', shape: [2, 1], values: [false, true] });
  });
});

describe('GatherNd', () => {
  it('gathers elements and slices of a string matrix', () => {
    const params = str([2, 2], ['a', 'b', 'c', 'd']);
    expect(view(run1('GatherNd', [params, i32([2, 2], [1, 0, 0, 1])]))).toEqual({
      dtype: 'string',
      shape: [2],
      values: ['c', 'b'],
    });
    expect(view(run1('GatherNd', [params, i64([1, 1], [1])]))).toEqual({ dtype: 'string', shape: [1, 2], values: ['c', 'd'] });
  });

  it('gathers from a backend tensor', () => {
    const out = run1('GatherNd', [onBackend('float32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]), i32([2, 2], [0, 1, 1, 0])]);
    expect(view(out)).toEqual({ dtype: 'float32', shape: [2, 2], values: [3, 4, 5, 6] });
  });

  it('reports indices outside the params shape', () => {
    expect(() => run1('GatherNd', [f32([2, 2], [1, 2, 3, 4]), i32([2, 2], [0, 0, 0, 5])])).toThrowError(
      'indices[1] = [0, 5] does not index into param shape [2,2], node name: GatherNd_node',
    );
    expect(() => run1('GatherNd', [f32([2], [1, 2]), i32([1, 3], [0, 0, 0])])).toThrowError(
      'index innermost dimension length must be <= params rank; saw: 3 vs. 1',
    );
  });
});
