/**
 * Kernels that size their output from runtime values refuse absurd sizes
 * before allocating, with TensorFlow's status and wording (runtime/limits.ts):
 * RESOURCE_EXHAUSTED "OOM when allocating tensor with shape[...] and type T
 * on ... by allocator cpu" beyond --max_tensor_elements, INVALID_ARGUMENT for
 * negative, fractional or overflowing shapes. Ops that do not check are
 * caught where host storage (allocHost) and tfjs tensors are allocated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import '../../../runtime/kernels/index.js';
import {
  checkStringBytes,
  checkTensorSize,
  DEFAULT_MAX_STRING_TENSOR_BYTES,
  DEFAULT_MAX_TENSOR_ELEMENTS,
  runtimeLimits,
  setRuntimeLimits,
} from '../../../runtime/limits.js';
import { allocHost, Tensor } from '../../../runtime/tensor.js';
import { attr, f32, i32, i64, run, run1, str, vals } from './array_harness.js';

const CPU = 'on /job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu';
const oom = (shape: string, type: string) => `OOM when allocating tensor with shape${shape} and type ${type} ${CPU}`;

/** The StatusError `fn` throws (fails the test when it returns). */
function statusOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    const s = e as StatusError;
    return { code: s.code, message: s.message };
  }
  throw new Error('expected a StatusError');
}

const exhausted = (message: string) => ({ code: 'RESOURCE_EXHAUSTED', message });
const invalid = (message: string) => ({ code: 'INVALID_ARGUMENT', message });

beforeAll(async () => {
  await initBackend();
});

afterEach(() => setRuntimeLimits({ maxTensorElements: DEFAULT_MAX_TENSOR_ELEMENTS, maxStringTensorBytes: DEFAULT_MAX_STRING_TENSOR_BYTES }));

describe('checkTensorSize', () => {
  it('counts elements and refuses bad or oversized shapes with TF wording', () => {
    expect(checkTensorSize([2, 3], 'float32')).toBe(6);
    expect(checkTensorSize([], 'float32')).toBe(1);
    expect(checkTensorSize([0, 2 ** 40], 'float32')).toBe(0);
    expect(statusOf(() => checkTensorSize([2, -1], 'float32'))).toEqual(invalid('Dimension -1 must be >= 0'));
    expect(statusOf(() => checkTensorSize([1.5], 'float32'))).toEqual(invalid('Dimension 1.5 must be a whole number'));
    expect(statusOf(() => checkTensorSize([NaN], 'float32'))).toEqual(invalid('Dimension NaN must be a whole number'));
    expect(statusOf(() => checkTensorSize([2 ** 40, 2 ** 40], 'float32'))).toEqual(
      invalid('Encountered overflow when multiplying 1099511627776 with 1099511627776, result: -1'),
    );
    expect(statusOf(() => checkTensorSize([0, 2 ** 60], 'float32')).code).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => checkTensorSize([100000, 100000], 'float32'))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(statusOf(() => checkTensorSize([2 ** 28 + 1], 'int64'))).toEqual(exhausted(oom('[268435457]', 'int64')));
  });

  it('bounds string tensors by bytes (24 per element besides their own)', () => {
    expect(() => checkStringBytes([10], 1000)).not.toThrow();
    setRuntimeLimits({ maxStringTensorBytes: 1000 });
    expect(statusOf(() => checkStringBytes([10], 800))).toEqual(exhausted(oom('[10]', 'string')));
    expect(statusOf(() => checkTensorSize([50], 'string'))).toEqual(exhausted(oom('[50]', 'string')));
  });

  it('keeps JS arrays short enough for V8 whatever the limits (longer ones abort the process)', () => {
    setRuntimeLimits({ maxTensorElements: 2 ** 30, maxStringTensorBytes: 2 ** 40 });
    expect(statusOf(() => checkTensorSize([2 ** 25 + 1], 'string'))).toEqual(exhausted(oom('[33554433]', 'string')));
    expect(statusOf(() => allocHost('variant', 2 ** 26))).toEqual(exhausted(oom('[67108864]', 'variant')));
    const big = Tensor.fromHost('int32', [2 ** 25 + 1], new Int32Array(2 ** 25 + 1));
    expect(statusOf(() => big.numbers())).toEqual(
      exhausted('Tensor<int32>[33554433] has 33554433 elements, more than the 33554432 a kernel can read as JavaScript numbers'),
    );
  });

  it('setRuntimeLimits takes whole numbers >= 1 and keeps fields left out', () => {
    setRuntimeLimits({ maxTensorElements: 10 });
    expect(runtimeLimits()).toEqual({ maxTensorElements: 10, maxStringTensorBytes: DEFAULT_MAX_STRING_TENSOR_BYTES });
    expect(() => setRuntimeLimits({ maxTensorElements: 0 })).toThrowError('maxTensorElements must be a whole number >= 1');
    expect(() => setRuntimeLimits({ maxTensorElements: 1.5 })).toThrowError('maxTensorElements must be a whole number >= 1');
    expect(runtimeLimits().maxTensorElements).toBe(10);
  });
});

describe('the central allocation points', () => {
  it('allocHost refuses sizes beyond the limit and sizes that are not whole numbers', () => {
    expect(statusOf(() => allocHost('float32', 1e10))).toEqual(exhausted(oom('[10000000000]', 'float')));
    expect(statusOf(() => allocHost('string', 2 ** 29))).toEqual(exhausted(oom('[536870912]', 'string')));
    expect(statusOf(() => allocHost('float64', -1))).toEqual(invalid('Dimension -1 must be >= 0'));
    expect(allocHost('float32', 3)).toHaveLength(3);
  });

  it('the tfjs backend refuses before allocating, for ops the kernels do not check', () => {
    expect(statusOf(() => tf.fill([100000, 100000], 1))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(statusOf(() => tf.tidy(() => tf.add(tf.zeros([100000, 1]), tf.zeros([1, 100000]))))).toEqual(
      exhausted(oom('[100000,100000]', 'float')),
    );
    // A broadcasting binary kernel over backend tensors: refused where tfjs allocates its output.
    const a = Tensor.fromTf(tf.zeros([100000, 1]), 'float32');
    const b = Tensor.fromTf(tf.zeros([1, 100000]), 'float32');
    expect(statusOf(() => run1('AddV2', [a, b], { T: attr.type('float32') }))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    a.dispose();
    b.dispose();
    // The same on the host (int64 stays there), and a MatMul whose output outgrows its operands.
    const ha = Tensor.fromHost('int64', [100000, 1], new BigInt64Array(100000));
    const hb = Tensor.fromHost('int64', [1, 100000], new BigInt64Array(100000));
    expect(statusOf(() => run1('Mul', [ha, hb], { T: attr.type('int64') }))).toEqual(exhausted(oom('[100000,100000]', 'int64')));
    const col = Tensor.fromTf(tf.zeros([100000, 1]), 'float32');
    const row = Tensor.fromTf(tf.zeros([1, 100000]), 'float32');
    expect(statusOf(() => run1('MatMul', [col, row], { T: attr.type('float32') }))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    col.dispose();
    row.dispose();
    // The backend still works afterwards.
    expect(Array.from(tf.fill([2], 3).dataSync())).toEqual([3, 3]);
  });

  it('a WASM malloc that fails (heap at its ~4 GiB maximum) is RESOURCE_EXHAUSTED, not a tensor at address 0', () => {
    expect(tf.getBackend()).toBe('wasm');
    type Malloc = (bytes: number) => number;
    const wasm = (tf.backend() as unknown as { wasm: { _malloc: Malloc; asm: { malloc: Malloc } } }).wasm;
    const numTensors = tf.memory().numTensors;
    wasm._malloc = () => 0; // what Emscripten's malloc answers when the heap cannot grow
    try {
      expect(statusOf(() => tf.fill([4, 2], 1))).toEqual(exhausted(oom('[4,2]', 'float')));
    } finally {
      wasm._malloc = wasm.asm.malloc;
    }
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(Array.from(tf.fill([2], 3).dataSync())).toEqual([3, 3]);
  });
});

describe('kernels sized by runtime values', () => {
  it('Fill', () => {
    expect(statusOf(() => run1('Fill', [i32([2], [100000, 100000]), f32([], [1])]))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(statusOf(() => run1('Fill', [i64([2], [2n ** 62n, 4n]), f32([], [1])]))).toEqual(
      invalid('Shape [4611686018427387904,4] would have more than 2**63 - 1 elements'),
    );
    expect(statusOf(() => run1('Fill', [i64([3], [3037000500n, 3037000500n, 0n]), str([], ['x'])])).code).toBe('INVALID_ARGUMENT');
    expect(statusOf(() => run1('Fill', [i32([1], [-3]), f32([], [1])]))).toEqual(invalid('Dimension -3 must be >= 0'));
    // A string value repeated: bounded by bytes.
    setRuntimeLimits({ maxStringTensorBytes: 10_000 });
    expect(statusOf(() => run1('Fill', [i32([1], [100]), str([], ['x'.repeat(100)])]))).toEqual(exhausted(oom('[100]', 'string')));
    expect(vals(run1('Fill', [i32([1], [2]), str([], ['ab'])]))).toEqual(['ab', 'ab']);
  });

  it('Range (TF: "Requires ((limit - start) / delta) <= ...", then the allocation)', () => {
    expect(statusOf(() => run1('Range', [i64([], [0n]), i64([], [10n ** 10n]), i64([], [1n])]))).toEqual(exhausted(oom('[10000000000]', 'int64')));
    expect(statusOf(() => run1('Range', [i32([], [-2147483648]), i32([], [2147483647]), i32([], [1])]))).toEqual(
      exhausted(oom('[4294967295]', 'int32')),
    );
    expect(statusOf(() => run1('Range', [f32([], [0]), f32([], [1e10]), f32([], [1])]))).toEqual(exhausted(oom('[10000000000]', 'float')));
    expect(statusOf(() => run1('Range', [f32([], [0]), f32([], [Infinity]), f32([], [1])]))).toEqual(
      invalid('Requires ((limit - start) / delta) <= 9223372036854775807'),
    );
    expect(statusOf(() => run1('Range', [f32([], [0]), f32([], [NaN]), f32([], [1])]))).toEqual(invalid('Requires start <= limit when delta > 0: 0/nan'));
    expect(vals(run1('Range', [i32([], [0]), i32([], [3]), i32([], [1])]))).toEqual([0, 1, 2]);
  });

  it('LinSpace and OneHot', () => {
    expect(statusOf(() => run1('LinSpace', [f32([], [0]), f32([], [1]), i64([], [10n ** 10n])]))).toEqual(exhausted(oom('[10000000000]', 'float')));
    expect(statusOf(() => run1('OneHot', [i32([2], [0, 1]), i32([], [2000000000]), f32([], [1]), f32([], [0])], { axis: attr.i(-1) }))).toEqual(
      exhausted(oom('[2,2000000000]', 'float')),
    );
  });

  it('Tile (host and backend inputs)', () => {
    const x = f32([10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(statusOf(() => run1('Tile', [x, i32([1], [1000000000])]))).toEqual(exhausted(oom('[10000000000]', 'float')));
    const big = Tensor.fromTf(tf.zeros([1000]), 'float32');
    expect(statusOf(() => run1('Tile', [big, i32([1], [100000000])]))).toEqual(exhausted(oom('[100000000000]', 'float')));
    big.dispose();
    expect(statusOf(() => run1('Tile', [str([1], ['a']), i64([1], [2n ** 62n])]))).toEqual(exhausted(oom('[4611686018427387904]', 'string')));
    expect(statusOf(() => run1('Tile', [x, i64([1], [2n ** 62n])]))).toEqual(
      invalid('Encountered overflow when multiplying 1 with 46116860184273879040, result: -1'),
    );
  });

  it('BroadcastTo and Pad', () => {
    expect(statusOf(() => run1('BroadcastTo', [f32([1], [1]), i32([2], [100000, 100000])]))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(statusOf(() => run1('BroadcastTo', [str([1], ['a']), i64([2], [2n ** 40n, 2n ** 40n])]))).toEqual(
      invalid('Shape [1099511627776,1099511627776] would have more than 2**63 - 1 elements'),
    );
    const x = f32([2, 2], [1, 2, 3, 4]);
    expect(statusOf(() => run1('Pad', [x, i32([2, 2], [0, 100000, 0, 100000])]))).toEqual(exhausted(oom('[100002,100002]', 'float')));
    expect(statusOf(() => run1('PadV2', [str([1], ['a']), i32([1, 2], [0, 1000000000]), str([], [''])]))).toEqual(
      exhausted(oom('[1000000001]', 'string')),
    );
  });

  it('Reshape refuses products beyond int64 as TF does', () => {
    const empty = Tensor.fromHost('float32', [0], new Float32Array(0));
    expect(statusOf(() => run1('Reshape', [f32([1], [1]), i64([3], [2n ** 40n, 2n ** 40n, 2n ** 40n])]))).toEqual(
      invalid('Shape [1099511627776, 1099511627776, 1099511627776] has too many elements'),
    );
    expect(run1('Reshape', [empty, i32([2], [0, 5])]).shape).toEqual([0, 5]);
  });

  it('ResizeBilinear and ResizeNearestNeighbor check the output image', () => {
    const img = f32([1, 2, 2, 1], [1, 2, 3, 4]);
    expect(statusOf(() => run1('ResizeBilinear', [img, i32([2], [100000, 100000])]))).toEqual(exhausted(oom('[1,100000,100000,1]', 'float')));
    const u8 = Tensor.from('uint8', [1, 2, 2, 3], new Array(12).fill(1));
    expect(statusOf(() => run1('ResizeNearestNeighbor', [u8, i32([2], [50000, 50000])]))).toEqual(exhausted(oom('[1,50000,50000,3]', 'uint8')));
  });

  it('StringJoin counts the bytes a repeated scalar makes', () => {
    setRuntimeLimits({ maxStringTensorBytes: 100_000 });
    const many = str([1000], new Array(1000).fill('x'));
    expect(statusOf(() => run1('StringJoin', [str([], ['y'.repeat(1000)]), many], { N: attr.i(2) }))).toEqual(exhausted(oom('[1000]', 'string')));
    expect(vals(run1('StringJoin', [str([], ['a']), str([2], ['b', 'c'])], { N: attr.i(2) }))).toEqual(['ab', 'ac']);
  });

  it('Substr counts the bytes a broadcast repeats', () => {
    setRuntimeLimits({ maxStringTensorBytes: 100_000 });
    const input = str([1, 1], ['z'.repeat(1000)]);
    const pos = i32([1000, 1], new Array(1000).fill(0));
    const len = i32([1000, 1], new Array(1000).fill(1000));
    expect(statusOf(() => run1('Substr', [input, pos, len]))).toEqual(exhausted(oom('[1000,1]', 'string')));
    expect(vals(run1('Substr', [str([1, 1], ['abc']), i32([2, 1], [0, 1]), i32([2, 1], [1, 2])]))).toEqual(['a', 'bc']);
  });

  it('RegexReplace stops when a short input and a long rewrite outgrow the string bytes', () => {
    setRuntimeLimits({ maxStringTensorBytes: 100_000 });
    const input = str([1], ['a'.repeat(2000)]);
    const rewrite = str([], ['b'.repeat(1000)]);
    expect(statusOf(() => run1('RegexReplace', [input, str([], ['a']), rewrite]))).toEqual(exhausted(oom('[1]', 'string')));
    expect(statusOf(() => run1('StaticRegexReplace', [input], { pattern: attr.s(''), rewrite: attr.s('x'.repeat(200)) }))).toEqual(
      exhausted(oom('[1]', 'string')),
    );
    expect(vals(run1('RegexReplace', [str([2], ['aXa', 'b']), str([], ['a']), str([], ['cc'])]))).toEqual(['ccXcc', 'b']);
  });

  it('GatherV2 and GatherNd: few indices into wide params', () => {
    const wide = Tensor.fromHost('float32', [1, 100000], new Float32Array(100000));
    const zeros = i32([100000], new Array(100000).fill(0));
    expect(statusOf(() => run1('GatherV2', [wide, zeros, i32([], [0])]))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(statusOf(() => run1('GatherNd', [wide, i32([100000, 1], new Array(100000).fill(0))]))).toEqual(exhausted(oom('[100000,100000]', 'float')));
  });

  it('SpaceToBatchND paddings and SelectV2 broadcasting', () => {
    expect(statusOf(() => run1('SpaceToBatchND', [f32([1, 2, 1], [1, 2]), i32([1], [1]), i64([1, 2], [0n, 10n ** 10n])]))).toEqual(
      exhausted(oom('[1,10000000002,1]', 'float')),
    );
    const cond = Tensor.fromHost('bool', [100000, 1], new Uint8Array(100000));
    expect(statusOf(() => run1('SelectV2', [cond, f32([1, 100000], new Array(100000).fill(1)), f32([], [0])]))).toEqual(
      exhausted(oom('[100000,100000]', 'float')),
    );
  });

  it('MatrixDiag, Concat, ScatterNd, random ops and TensorListReserve', () => {
    expect(
      statusOf(() => run1('MatrixDiagV2', [f32([1000, 10], new Array(10000).fill(1)), i32([], [0]), i32([], [100000]), i32([], [-1]), f32([], [0])])),
    ).toEqual(exhausted(oom('[1000,100000,10]', 'float')));
    expect(statusOf(() => run1('Diag', [f32([100000], new Array(100000).fill(1))]))).toEqual(exhausted(oom('[100000,100000]', 'float')));
    setRuntimeLimits({ maxTensorElements: 5 });
    expect(statusOf(() => run1('ConcatV2', [f32([3], [1, 2, 3]), f32([3], [4, 5, 6]), i32([], [0])], { N: attr.i(2) }))).toEqual(
      exhausted(oom('[6]', 'float')),
    );
    setRuntimeLimits({ maxTensorElements: DEFAULT_MAX_TENSOR_ELEMENTS });
    expect(statusOf(() => run1('ScatterNd', [i32([1, 1], [0]), f32([1], [1]), i32([2], [100000, 100000])]))).toEqual(
      exhausted(oom('[100000,100000]', 'float')),
    );
    expect(
      statusOf(() => run1('RandomUniform', [i32([2], [100000, 100000])], { dtype: attr.type('float32'), seed: attr.i(1), seed2: attr.i(2) })),
    ).toEqual(exhausted(oom('[100000,100000]', 'float')));
    expect(
      statusOf(() => run('TensorListReserve', [i32([], [-1]), i32([], [2000000000])], { element_dtype: attr.type('float32') })),
    ).toEqual(exhausted(oom('[2000000000]', 'variant')));
  });
});
