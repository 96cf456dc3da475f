import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import type { DType } from '../../../runtime/dtypes.js';
import { StatusError } from '../../../runtime/errors.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import '../../../runtime/kernels/math.js';
import { type KernelContext, kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}): Tensor[] {
  const def = kernelFor(op);
  if (!def) throw new Error(`no kernel for ${op}`);
  const ctx: KernelContext = {
    node: { name: `test_${op}`, op, input: [], device: '', attr },
    attrs: new Attrs(attr, `test_${op}`, op),
    inputs,
    resources: undefined as never,
    functions: undefined as never,
  };
  return def.kernel(ctx);
}
const run1 = (op: string, inputs: Tensor[], attr: Record<string, AttrValue> = {}) => run(op, inputs, attr)[0];
const b = (v: boolean): AttrValue => ({ kind: 'b', b: v });
const type = (t: DType): AttrValue => ({ kind: 'type', type: t });
const f = (v: number): AttrValue => ({ kind: 'f', f: v });

const T = (dtype: DType, shape: number[], values: ArrayLike<number | bigint | boolean | string>) => Tensor.from(dtype, shape, values);
const vals = (t: Tensor) => Array.from(t.values() as ArrayLike<number | bigint>);

function expectStatus(fn: () => unknown, code: string, message: string | RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe(code);
    if (typeof message === 'string') expect((e as StatusError).message).toBe(message);
    else expect((e as StatusError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}

describe('elementwise binary ops', () => {
  it('broadcasts [2,1] + [3] to [2,3]', () => {
    const r = run1('AddV2', [T('float32', [2, 1], [10, 20]), T('float32', [3], [1, 2, 3])]);
    expect(r.dtype).toBe('float32');
    expect(r.shape).toEqual([2, 3]);
    expect(vals(r)).toEqual([11, 12, 13, 21, 22, 23]);
  });

  it('rejects incompatible shapes with TF wording, for every dtype', () => {
    for (const dtype of ['float32', 'float64', 'int64'] as DType[]) {
      expectStatus(() => run('Add', [T(dtype, [2], [1, 2]), T(dtype, [3], [1, 2, 3])]), 'INVALID_ARGUMENT', 'Incompatible shapes: [2] vs. [3]');
    }
  });

  it('rejects inputs of different dtypes', () => {
    expectStatus(
      () => run('Mul', [T('float32', [1], [1]), T('int32', [1], [1])]),
      'INVALID_ARGUMENT',
      'cannot compute Mul as input #1(zero-based) was expected to be a float tensor but is a int32 tensor',
    );
  });

  it('keeps float64 precision: 0.1 + 0.2 is the double value', () => {
    const r = run1('AddV2', [T('float64', [1], [0.1]), T('float64', [1], [0.2])]);
    expect(r.dtype).toBe('float64');
    expect(vals(r)[0]).toBe(0.1 + 0.2);
    expect(vals(r)[0]).not.toBe(Math.fround(0.1 + 0.2));
  });

  it('computes int64 beyond the int32 range exactly and keeps the int64 tag', () => {
    const r = run1('AddV2', [T('int64', [2], [2n ** 40n, 9223372036854775807n]), T('int64', [2], [1n, 1n])]);
    expect(r.dtype).toBe('int64');
    expect(vals(r)).toEqual([2n ** 40n + 1n, -(2n ** 63n)]); // int64 wraps like TF
    const m = run1('Mul', [T('int64', [1], [3_000_000_000n]), T('int64', [1], [3n])]);
    expect(vals(m)).toEqual([9_000_000_000n]);
  });

  it('keeps the int64 tag for int64 values that came from the backend', () => {
    const onBackend = Tensor.fromTf(tf.tensor1d([5, -7], 'int32'), 'int64');
    const r = run1('Sub', [onBackend, T('int64', [2], [1n, 1n])]);
    expect(r.dtype).toBe('int64');
    expect(vals(r)).toEqual([4n, -8n]);
    onBackend.dispose();
  });

  it('wraps int32 and uint8 overflow like TF', () => {
    expect(vals(run1('AddV2', [T('int32', [1], [2147483647]), T('int32', [1], [1])]))).toEqual([-2147483648]);
    expect(vals(run1('Mul', [T('int32', [1], [65536]), T('int32', [1], [65536])]))).toEqual([0]);
    const u = run1('AddV2', [T('uint8', [2], [200, 0]), T('uint8', [2], [100, 0])]);
    expect(u.dtype).toBe('uint8');
    expect(vals(u)).toEqual([44, 0]);
    expect(vals(run1('Sub', [T('uint8', [1], [0]), T('uint8', [1], [1])]))).toEqual([255]);
  });

  it('divides integers the TF way: Div truncates, FloorDiv floors, FloorMod follows the divisor', () => {
    const a = T('int32', [4], [-7, 7, -7, 7]);
    const d = T('int32', [4], [2, 2, -2, -2]);
    expect(vals(run1('Div', [a, d]))).toEqual([-3, 3, 3, -3]);
    expect(vals(run1('FloorDiv', [a, d]))).toEqual([-4, 3, 3, -4]);
    expect(vals(run1('FloorMod', [T('int32', [2], [-7, 7]), T('int32', [2], [3, -3])]))).toEqual([2, -2]);
    expect(vals(run1('TruncateMod', [T('int32', [2], [-7, 7]), T('int32', [2], [3, -3])]))).toEqual([-1, 1]);
    expect(vals(run1('Mod', [T('int64', [1], [-7n]), T('int64', [1], [3n])]))).toEqual([-1n]);
    expect(vals(run1('FloorDiv', [T('int64', [1], [-7n]), T('int64', [1], [2n])]))).toEqual([-4n]);
  });

  it('divides large int32 values exactly', () => {
    expect(vals(run1('FloorDiv', [T('int32', [1], [2147483647]), T('int32', [1], [3])]))).toEqual([715827882]);
  });

  it('floors float division and float FloorMod', () => {
    expect(vals(run1('FloorDiv', [T('float32', [2], [-7, 7]), T('float32', [2], [2, 2])]))).toEqual([-4, 3]);
    expect(vals(run1('FloorMod', [T('float32', [2], [-7.5, 7.5]), T('float32', [2], [2, -2])]))).toEqual([0.5, -0.5]);
    expect(vals(run1('RealDiv', [T('float32', [1], [1]), T('float32', [1], [0])]))).toEqual([Infinity]);
    expect(vals(run1('DivNoNan', [T('float32', [2], [1, 6]), T('float32', [2], [0, 3])]))).toEqual([0, 2]);
  });

  it('refuses integer division by zero', () => {
    for (const op of ['Div', 'FloorDiv', 'FloorMod', 'TruncateMod']) {
      expectStatus(() => run(op, [T('int32', [1], [1]), T('int32', [1], [0])]), 'INVALID_ARGUMENT', 'Integer division by zero');
    }
    expectStatus(() => run('Div', [T('int64', [1], [1n]), T('int64', [1], [0n])]), 'INVALID_ARGUMENT', 'Integer division by zero');
  });

  it('raises integers to integer powers with wrapping, refusing negative exponents', () => {
    const r = run1('Pow', [T('int32', [3], [2, -2, 3]), T('int32', [3], [10, 3, 30])]);
    expect(vals(r)).toEqual([1024, -8, Number(BigInt.asIntN(32, 3n ** 30n))]);
    expectStatus(
      () => run('Pow', [T('int32', [1], [2]), T('int32', [1], [-1])]),
      'INVALID_ARGUMENT',
      'Integers to negative integer powers are not allowed',
    );
    expect(vals(run1('Pow', [T('float32', [2], [4, 2]), T('float32', [2], [0.5, -1])]))).toEqual([2, 0.5]);
  });

  it('propagates NaN through Maximum and Minimum from either side', () => {
    const a = T('float32', [3], [NaN, 1, 2]);
    const c = T('float32', [3], [1, NaN, 3]);
    expect(vals(run1('Maximum', [a, c]))).toEqual([NaN, NaN, 3]);
    expect(vals(run1('Minimum', [a, c]))).toEqual([NaN, NaN, 2]);
    expect(vals(run1('Maximum', [T('float64', [2], [1, NaN]), T('float64', [2], [NaN, 0])]))).toEqual([NaN, NaN]);
    expect(vals(run1('Maximum', [T('int32', [2], [1, -5]), T('int32', [1], [0])]))).toEqual([1, 0]);
  });

  it('computes SquaredDifference and Atan2', () => {
    expect(vals(run1('SquaredDifference', [T('float32', [2], [1, 5]), T('float32', [2], [4, 5])]))).toEqual([9, 0]);
    const at = vals(run1('Atan2', [T('float64', [2], [1, 0]), T('float64', [2], [0, -1])]));
    expect(at).toEqual([Math.PI / 2, Math.PI]);
  });

  it('compares into bool tensors', () => {
    const r = run1('Less', [T('float32', [3], [1, 2, 3]), T('float32', [], [2])]);
    expect(r.dtype).toBe('bool');
    expect(vals(r)).toEqual([1, 0, 0]);
    expect(vals(run1('GreaterEqual', [T('int64', [2], [2n ** 40n, 1n]), T('int64', [2], [2n ** 40n, 2n])]))).toEqual([1, 0]);
  });

  it('compares strings and bools with Equal/NotEqual', () => {
    const s = run1('Equal', [T('string', [3], ['a', 'Ankle boot', '']), T('string', [], ['Ankle boot'])]);
    expect(s.dtype).toBe('bool');
    expect(vals(s)).toEqual([0, 1, 0]);
    expect(vals(run1('NotEqual', [T('string', [2], ['x', 'y']), T('string', [2], ['x', 'z'])]))).toEqual([0, 1]);
    expect(vals(run1('Equal', [T('bool', [2], [true, false]), T('bool', [2], [true, true])]))).toEqual([1, 0]);
  });

  it('returns a scalar for incompatible shapes when incompatible_shape_error is false', () => {
    const eq = run1('Equal', [T('int32', [2], [1, 2]), T('int32', [3], [1, 2, 3])], { incompatible_shape_error: b(false) });
    expect(eq.shape).toEqual([]);
    expect(vals(eq)).toEqual([0]);
    const ne = run1('NotEqual', [T('int32', [2], [1, 2]), T('int32', [3], [1, 2, 3])], { incompatible_shape_error: b(false) });
    expect(vals(ne)).toEqual([1]);
    expectStatus(() => run('Equal', [T('int32', [2], [1, 2]), T('int32', [3], [1, 2, 3])]), 'INVALID_ARGUMENT', /Incompatible shapes/);
  });

  it('concatenates strings with Add', () => {
    expect(run1('Add', [T('string', [2], ['Ankle', 'Pull']), T('string', [], [' boot'])]).strings()).toEqual(['Ankle boot', 'Pull boot']);
  });

  it('computes logical ops on bools', () => {
    const x = T('bool', [4], [true, true, false, false]);
    const y = T('bool', [4], [true, false, true, false]);
    expect(vals(run1('LogicalAnd', [x, y]))).toEqual([1, 0, 0, 0]);
    expect(vals(run1('LogicalOr', [x, y]))).toEqual([1, 1, 1, 0]);
    expect(vals(run1('LogicalNot', [x]))).toEqual([0, 0, 1, 1]);
  });

  it('does not leak tfjs tensors', () => {
    const a = T('float32', [2, 2], [1, 2, 3, NaN]);
    const c = T('float32', [2], [NaN, 1]);
    a.toTf();
    c.toTf();
    const before = tf.memory().numTensors;
    const r = run1('Maximum', [a, c]);
    expect(tf.memory().numTensors).toBe(before + 1);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(a.isDisposed).toBe(false);
    expect(vals(a)).toEqual([1, 2, 3, NaN]);
  });
});

describe('elementwise unary ops', () => {
  it('rounds half to even like TF', () => {
    const x = [0.5, 1.5, 2.5, -2.5, -0.4, 3.7];
    expect(vals(run1('Round', [T('float32', [6], x)]))).toEqual([0, 2, 2, -2, -0, 4]);
    expect(vals(run1('Round', [T('float64', [6], x)]))).toEqual([0, 2, 2, -2, -0, 4]);
    expect(vals(run1('Rint', [T('float32', [2], [0.5, 1.5])]))).toEqual([0, 2]);
  });

  it('computes activations', () => {
    expect(vals(run1('Relu', [T('float32', [3], [-1, 0, 2])]))).toEqual([0, 0, 2]);
    expect(vals(run1('Relu6', [T('float32', [4], [-1, 3, 8, NaN])]))).toEqual([0, 3, 6, NaN]);
    expect(vals(run1('LeakyRelu', [T('float32', [2], [-2, 3])], { alpha: f(0.5) }))).toEqual([-1, 3]);
    expect(vals(run1('LeakyRelu', [T('float64', [1], [-2])]))[0]).toBeCloseTo(-0.4, 15);
    const elu = vals(run1('Elu', [T('float64', [2], [-1, 2])]));
    expect(elu).toEqual([Math.expm1(-1), 2]);
    const selu = vals(run1('Selu', [T('float32', [1], [1])]));
    expect(selu[0]).toBeCloseTo(1.0507009873554805, 6);
    const sig = vals(run1('Sigmoid', [T('float32', [3], [-10, 0, 100])])) as number[];
    expect(sig[0]).toBeCloseTo(4.5397868702434395e-5, 9);
    expect(sig.slice(1)).toEqual([0.5, 1]);
    expect(vals(run1('Softsign', [T('float32', [2], [1, -3])]))).toEqual([0.5, -0.75]);
    expect(vals(run1('Softplus', [T('float64', [2], [0, 100])]))).toEqual([Math.log(2), 100]);
  });

  it('computes log1p accurately near zero on float32', () => {
    const r = vals(run1('Log1p', [T('float32', [3], [1e-10, 1e-3, -1])])) as number[];
    expect(r[0] / 1e-10).toBeCloseTo(1, 6);
    expect(r[1]).toBeCloseTo(Math.log1p(1e-3), 9);
    expect(r[2]).toBe(-Infinity);
  });

  it('keeps double precision for float64 math', () => {
    expect(vals(run1('Exp', [T('float64', [1], [1])]))).toEqual([Math.E]);
    expect(vals(run1('Sqrt', [T('float64', [1], [2])]))).toEqual([Math.SQRT2]);
    const e = vals(run1('Erf', [T('float64', [3], [0.5, -1, 3])])) as number[];
    expect(e[0]).toBeCloseTo(0.5204998778130465, 15);
    expect(e[1]).toBeCloseTo(-0.8427007929497149, 15);
    expect(e[2]).toBeCloseTo(0.9999779095030014, 15);
  });

  it('gives Sign of NaN as NaN and Sign of ints', () => {
    expect(vals(run1('Sign', [T('float32', [4], [NaN, -0, -3, 2])]))).toEqual([NaN, 0, -1, 1]);
    expect(vals(run1('Sign', [T('int64', [3], [-(2n ** 40n), 0n, 5n])]))).toEqual([-1n, 0n, 1n]);
  });

  it('classifies floats with IsNan/IsInf/IsFinite', () => {
    const x = T('float32', [4], [NaN, Infinity, -Infinity, 1]);
    expect(vals(run1('IsNan', [x]))).toEqual([1, 0, 0, 0]);
    expect(vals(run1('IsInf', [x]))).toEqual([0, 1, 1, 0]);
    expect(vals(run1('IsFinite', [x]))).toEqual([0, 0, 0, 1]);
  });

  it('computes integer Neg/Abs/Square/Reciprocal with TF semantics', () => {
    expect(vals(run1('Neg', [T('int64', [1], [2n ** 40n])]))).toEqual([-(2n ** 40n)]);
    expect(vals(run1('Neg', [T('int32', [2], [16777217, -2147483648])]))).toEqual([-16777217, -2147483648]);
    expect(vals(run1('Abs', [T('int32', [3], [-16777217, 5, -2147483648])]))).toEqual([16777217, 5, -2147483648]);
    expect(vals(run1('Square', [T('int32', [2], [65536, -3])]))).toEqual([0, 9]);
    expect(vals(run1('Abs', [T('int8', [2], [-128, -5])]))).toEqual([-128, 5]);
    expect(vals(run1('Reciprocal', [T('int32', [3], [1, -1, 2])]))).toEqual([1, -1, 0]);
  });

  it('refuses dtypes the op has no kernel for, naming op and dtype', () => {
    expectStatus(() => run('Exp', [T('int32', [1], [1])]), 'INVALID_ARGUMENT', 'Exp does not support DT_INT32 tensors');
    expectStatus(() => run('LogicalNot', [T('float32', [1], [1])]), 'INVALID_ARGUMENT', /LogicalNot.*DT_FLOAT/);
  });

  it('adds N tensors and checks their shapes', () => {
    const r = run1('AddN', [T('float32', [2], [1, 2]), T('float32', [2], [10, 20]), T('float32', [2], [100, 200])]);
    expect(vals(r)).toEqual([111, 222]);
    expect(vals(run1('AddN', [T('float64', [1], [0.1]), T('float64', [1], [0.2])]))).toEqual([0.1 + 0.2]);
    expectStatus(
      () => run('AddN', [T('float32', [2], [1, 2]), T('float32', [3], [1, 2, 3])]),
      'INVALID_ARGUMENT',
      'Inputs to operation test_AddN of type AddN must have the same size and shape.  Input 0: [2] != input 1: [3]',
    );
  });

  it('clips by value, keeping NaN, with TF shape rules', () => {
    const r = run1('ClipByValue', [T('float32', [4], [-5, 0.5, 5, NaN]), T('float32', [], [-1]), T('float32', [], [1])]);
    expect(vals(r)).toEqual([-1, 0.5, 1, NaN]);
    const i = run1('ClipByValue', [T('int64', [2], [-(2n ** 40n), 2n ** 40n]), T('int64', [], [0n]), T('int64', [], [10n])]);
    expect(vals(i)).toEqual([0n, 10n]);
    expectStatus(
      () => run('ClipByValue', [T('float32', [3], [1, 2, 3]), T('float32', [2], [0, 0]), T('float32', [], [1])]),
      'INVALID_ARGUMENT',
      'clip_value_min and clip_value_max must be either of the same shape as input, or a scalar. input shape: [3]clip_value_min shape: [2]clip_value_max shape: []',
    );
  });
});

describe('Cumsum and Cumprod', () => {
  const axis0 = T('int32', [], [0]);
  it('scans with exclusive and reverse', () => {
    const x = T('float32', [3], [1, 2, 3]);
    expect(vals(run1('Cumsum', [x, axis0]))).toEqual([1, 3, 6]);
    expect(vals(run1('Cumsum', [x, axis0], { exclusive: b(true) }))).toEqual([0, 1, 3]);
    expect(vals(run1('Cumsum', [x, axis0], { reverse: b(true) }))).toEqual([6, 5, 3]);
    expect(vals(run1('Cumsum', [x, axis0], { exclusive: b(true), reverse: b(true) }))).toEqual([5, 3, 0]);
    expect(vals(run1('Cumprod', [x, axis0], { exclusive: b(true) }))).toEqual([1, 1, 2]);
  });

  it('scans along a negative axis and on the host for int64', () => {
    const m = T('int64', [2, 2], [2n ** 40n, 1n, 3n, 4n]);
    expect(vals(run1('Cumsum', [m, T('int64', [], [-1n])]))).toEqual([2n ** 40n, 2n ** 40n + 1n, 3n, 7n]);
    expect(vals(run1('Cumprod', [m, T('int32', [], [0])]))).toEqual([2n ** 40n, 1n, 3n * 2n ** 40n, 4n]);
    expectStatus(() => run('Cumsum', [m, T('int32', [], [2])]), 'INVALID_ARGUMENT', 'ScanOp: Expected scan axis in the range [-2, 2), but got 2');
  });
});

describe('MatMul and BatchMatMul', () => {
  const a = T('float32', [2, 3], [1, 2, 3, 4, 5, 6]);
  const c = T('float32', [3, 2], [1, 2, 3, 4, 5, 6]);

  it('multiplies matrices on the backend', () => {
    const r = run1('MatMul', [a, c]);
    expect(r.shape).toEqual([2, 2]);
    expect(vals(r)).toEqual([22, 28, 49, 64]);
    expect(r.isOnBackend).toBe(true);
  });

  it('honours transpose_a and transpose_b', () => {
    const r = run1('MatMul', [a, a], { transpose_b: b(true) });
    expect(vals(r)).toEqual([14, 32, 32, 77]);
    const s = run1('MatMul', [a, a], { transpose_a: b(true) });
    expect(s.shape).toEqual([3, 3]);
    expect(vals(s)).toEqual([17, 22, 27, 22, 29, 36, 27, 36, 45]);
  });

  it('reports size mismatches with TF wording', () => {
    expectStatus(() => run('MatMul', [a, a]), 'INVALID_ARGUMENT', 'Matrix size-incompatible: In[0]: [2,3], In[1]: [2,3]');
    expectStatus(() => run('MatMul', [a, T('float32', [3], [1, 2, 3])]), 'INVALID_ARGUMENT', 'In[0] and In[1] has different ndims: [2,3] vs. [3]');
  });

  it('multiplies float64 and integer matrices exactly on the host', () => {
    const d = run1('MatMul', [T('float64', [1, 2], [0.1, 0.2]), T('float64', [2, 1], [1, 1])]);
    expect(d.dtype).toBe('float64');
    expect(vals(d)).toEqual([0.1 + 0.2]);
    const i = run1('MatMul', [T('int32', [1, 2], [16777217, 1]), T('int32', [2, 1], [1, 1])]);
    expect(vals(i)).toEqual([16777218]);
    const l = run1('MatMul', [T('int64', [1, 1], [2n ** 40n]), T('int64', [1, 1], [3n])]);
    expect(vals(l)).toEqual([3n * 2n ** 40n]);
  });

  it('broadcasts batch dimensions in BatchMatMulV2 and honours adj_x', () => {
    const x = T('float32', [2, 1, 2, 3], [1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0]);
    const y = T('float32', [3, 3, 1], [1, 1, 1, 2, 2, 2, 0, 0, 1]);
    const r = run1('BatchMatMulV2', [x, y]);
    expect(r.shape).toEqual([2, 3, 2, 1]);
    expect(vals(r)).toEqual([6, 15, 12, 30, 3, 6, 1, 1, 2, 2, 0, 0]);
    const t = run1('BatchMatMulV2', [T('float64', [1, 2, 1], [1, 2]), T('float64', [2, 1], [3, 4])], { adj_x: b(true) });
    expect(vals(t)).toEqual([11]);
    const t32 = run1('BatchMatMulV2', [T('float32', [1, 2, 1], [1, 2]), T('float32', [2, 1], [3, 4])], { adj_x: b(true) });
    expect(t32.shape).toEqual([1, 1, 1]);
    expect(vals(t32)).toEqual([11]);
    const seq = run1('BatchMatMulV2', [T('float32', [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), T('float32', [3, 1], [1, 0, 1])]);
    expect(seq.shape).toEqual([2, 2, 1]);
    expect(vals(seq)).toEqual([4, 10, 16, 22]);
    expectStatus(
      () => run('BatchMatMulV2', [T('float32', [2, 1, 1], [1, 2]), T('float32', [3, 1, 1], [1, 2, 3])]),
      'INVALID_ARGUMENT',
      'In[0] and In[1] must have compatible batch dimensions: [2,1,1] vs. [3,1,1]',
    );
  });

  it('casts inputs to Tout in BatchMatMulV3', () => {
    const r = run1('BatchMatMulV3', [T('int8', [1, 2], [100, 100]), T('int8', [2, 1], [100, 100])], { Tout: type('int32') });
    expect(r.dtype).toBe('int32');
    expect(vals(r)).toEqual([20000]);
  });
});

describe('Einsum', () => {
  /** A direct evaluation of an explicit einsum over every label assignment (the test oracle). */
  function reference(equation: string, xs: { shape: number[]; values: number[] }[]): number[] {
    const [lhs, out] = equation.split('->');
    const subs = lhs.split(',');
    const size = new Map<string, number>();
    subs.forEach((s, i) => [...s].forEach((l, d) => size.set(l, xs[i].shape[d])));
    const labels = [...size.keys()];
    const outSize = [...out].reduce((n, l) => n * size.get(l)!, 1);
    const result = new Array<number>(outSize).fill(0);
    const assign = new Map<string, number>();
    const flat = (ls: string, shape: number[]) => [...ls].reduce((acc, l, d) => acc * shape[d] + assign.get(l)!, 0);
    const visit = (k: number) => {
      if (k === labels.length) {
        let p = 1;
        subs.forEach((s, i) => (p *= xs[i].values[flat(s, xs[i].shape)]));
        result[flat(out, [...out].map((l) => size.get(l)!))] += p;
        return;
      }
      for (let v = 0; v < size.get(labels[k])!; v++) {
        assign.set(labels[k], v);
        visit(k + 1);
      }
    };
    visit(0);
    return result;
  }
  const data = (shape: number[], seed: number) => ({
    shape,
    values: Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => ((i * 7 + seed * 3) % 11) - 5),
  });
  const einsum = (equation: string, dtype: DType, ...xs: { shape: number[]; values: number[] }[]) =>
    run1(
      'Einsum',
      xs.map((x) => T(dtype, x.shape, x.values)),
      { equation: { kind: 's', s: new TextEncoder().encode(equation) } },
    );

  it('matches a direct evaluation for matmul, dense and attention equations', () => {
    const cases: [string, number[][]][] = [
      ['ij,jk->ik', [[2, 3], [3, 4]]],
      ['abc,cd->abd', [[2, 3, 4], [4, 5]]],
      ['abc,cde->abde', [[2, 3, 4], [4, 2, 3]]],
      ['aecd,abcd->acbe', [[2, 3, 2, 4], [2, 5, 2, 4]]],
      ['acbe,aecd->abcd', [[2, 2, 5, 3], [2, 3, 2, 4]]],
      ['ij,ij->i', [[3, 4], [3, 4]]],
      ['ij,k->ijk', [[2, 3], [4]]],
      ['ijk->kj', [[2, 3, 4]]],
    ];
    for (const [eq, shapes] of cases) {
      const xs = shapes.map((s, i) => data(s, i + 1));
      const expected = reference(eq, xs);
      for (const dtype of ['float32', 'float64', 'int64'] as DType[]) {
        const r = einsum(eq, dtype, ...xs);
        expect(r.dtype).toBe(dtype);
        expect(vals(r).map(Number)).toEqual(expected);
      }
    }
  });

  it('broadcasts ellipsis dimensions and infers an implicit output', () => {
    const x = T('float32', [2, 1, 2, 3], [1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0]);
    const y = T('float32', [3, 3, 1], [1, 1, 1, 2, 2, 2, 0, 0, 1]);
    const r = run1('Einsum', [x, y], { equation: { kind: 's', s: new TextEncoder().encode('...ij,...jk->...ik') } });
    expect(r.shape).toEqual([2, 3, 2, 1]);
    expect(vals(r)).toEqual([6, 15, 12, 30, 3, 6, 1, 1, 2, 2, 0, 0]);
    const implicit = einsum('ij,jk', 'float32', data([2, 3], 1), data([3, 2], 2));
    expect(vals(implicit)).toEqual(reference('ij,jk->ik', [data([2, 3], 1), data([3, 2], 2)]));
  });

  it('takes diagonals for labels repeated in an operand and spreads repeated output labels', () => {
    const cases: [string, number[][]][] = [
      ['ii->i', [[3, 3]]],
      ['ii->', [[3, 3]]],
      ['bii->bi', [[2, 3, 3]]],
      ['iji->j', [[2, 3, 2]]],
      ['iij->j', [[2, 2, 3]]],
      ['ii,ij->ij', [[3, 3], [3, 2]]],
      ['ii,jk->jk', [[2, 2], [2, 3]]],
      ['ii,ii->i', [[2, 2], [2, 2]]],
      ['i->ii', [[3]]],
      ['ij->iji', [[2, 3]]],
      ['ij,jk->iki', [[2, 3], [3, 2]]],
    ];
    for (const [eq, shapes] of cases) {
      const xs = shapes.map((s, i) => data(s, i + 1));
      const expected = reference(eq, xs);
      for (const dtype of ['float32', 'float64', 'int32', 'int64'] as DType[]) {
        const r = einsum(eq, dtype, ...xs);
        expect(r.dtype).toBe(dtype);
        expect(vals(r).map(Number)).toEqual(expected);
      }
    }
    const batched = run1('Einsum', [T('float32', [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8])], {
      equation: { kind: 's', s: new TextEncoder().encode('...ii->...i') },
    });
    expect(batched.shape).toEqual([2, 2]);
    expect(vals(batched)).toEqual([1, 4, 5, 8]);
  });

  it("answers TF's errors for mismatched repeated dimensions and too many operands", () => {
    expectStatus(() => einsum('ii->i', 'float32', data([2, 3], 1)), 'INVALID_ARGUMENT',
      'Expected dimension 2 at axis 1 of the input shaped [2,3] but got dimension 3');
    expectStatus(() => einsum('ij,jk,kl->il', 'float32', data([2, 2], 1), data([2, 2], 1), data([2, 2], 1)), 'INVALID_ARGUMENT',
      "Expecting 1 or 2 input subscripts in equation 'ij,jk,kl->il' but got: 3");
    expectStatus(() => einsum('ijk->i', 'float32', data([2, 3], 1)), 'INVALID_ARGUMENT', 'Expected input 0 to have rank 3 but got: 2');
    expectStatus(() => einsum('ij,jk->ik', 'float32', data([2, 2], 1)), 'INVALID_ARGUMENT', 'Expected 2 inputs but got: 1');
    expectStatus(() => einsum('ij->ji->', 'float32', data([2, 2], 1)), 'INVALID_ARGUMENT', "Expecting exactly one '->' in einsum equation: ij->ji->");
  });
});
