import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../../runtime/backend.js';
import { StatusError } from '../../../runtime/errors.js';
import { FunctionLibrary } from '../../../runtime/graph/functions.js';
import { Attrs } from '../../../runtime/kernels/attrs.js';
import { roundBfloat16, roundFloat16 } from '../../../runtime/kernels/half.js';
import '../../../runtime/kernels/index.js';
import { kernelFor } from '../../../runtime/kernels/registry.js';
import { Tensor } from '../../../runtime/tensor.js';
import { ModelResources } from '../../../runtime/variables.js';
import type { AttrValue } from '../../../runtime/graph/types.js';
import { attr, node } from '../graph/build.js';

beforeAll(async () => {
  await initBackend();
});

function run(op: string, inputs: Tensor[], a: Record<string, AttrValue> = {}): Tensor[] {
  const n = node('n', op, [], a);
  const resources = new ModelResources();
  return kernelFor(op)!.kernel({ node: n, attrs: new Attrs(n.attr, n.name, op), inputs, resources, functions: new FunctionLibrary([], [], resources) });
}

function fails(fn: () => unknown, code: string, msg: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(StatusError);
    expect((e as StatusError).code).toBe(code);
    expect((e as Error).message).toMatch(msg);
    return;
  }
  throw new Error('expected an error');
}

const seed = Tensor.from('int64', [2], [1n, 2n]);

describe('misc kernels: error paths', () => {
  it('stateless random ops check seed, key, counter, alg and sizes', () => {
    const shape = Tensor.from('int32', [1], [3]);
    fails(() => run('StatelessRandomGetKeyCounter', [Tensor.from('int64', [3], [1n, 2n, 3n])]), 'INVALID_ARGUMENT', /seed must have shape \[2\], not \[3\]/);
    const [key, counter] = run('StatelessRandomGetKeyCounter', [seed]);
    expect(key.dtype).toBe('uint64');
    expect(counter.shape).toEqual([2]);
    fails(() => run('StatelessRandomUniformV2', [shape, key, counter, Tensor.scalar('int32', 9)], { dtype: attr.type('float32') }), 'INVALID_ARGUMENT', /Unsupported algorithm id: 9/);
    fails(() => run('StatelessRandomUniformV2', [shape, key, counter, Tensor.scalar('int32', 2)], { dtype: attr.type('float32') }), 'UNIMPLEMENTED', /ThreeFry/);
    fails(() => run('StatelessRandomUniformV2', [shape, counter, counter, Tensor.scalar('int32', 1)], { dtype: attr.type('float32') }), 'INVALID_ARGUMENT', /key must have shape \[1\]/);
    const huge = Tensor.from('int64', [2], [1n << 40n, 1n << 40n]);
    expect(() => run('StatelessRandomUniform', [huge, seed], { dtype: attr.type('float32') })).toThrow(StatusError);
    fails(() => run('StatelessRandomUniformInt', [shape, seed, Tensor.scalar('int32', 5), Tensor.scalar('int32', 5)], { dtype: attr.type('int32') }), 'INVALID_ARGUMENT', /Need minval < maxval/);
  });

  it('Multinomial and TruncatedNormal check their inputs', () => {
    fails(() => run('Multinomial', [Tensor.from('float32', [2], [0, 1]), Tensor.scalar('int32', 3)]), 'INVALID_ARGUMENT', /logits should be a matrix/);
    fails(() => run('Multinomial', [Tensor.from('float32', [1, 2], [0, 1]), Tensor.scalar('int32', -1)]), 'INVALID_ARGUMENT', /num_samples should be nonnegative/);
    fails(() => run('Multinomial', [Tensor.from('float32', [1, 0], []), Tensor.scalar('int32', 1)]), 'INVALID_ARGUMENT', /num_classes should be positive/);
    const s = run('Multinomial', [Tensor.from('float32', [2, 3], [0, -Infinity, 0, 5, 0, -Infinity]), Tensor.scalar('int32', 20)], { seed: attr.i(1), seed2: attr.i(2) })[0];
    expect(s.shape).toEqual([2, 20]);
    for (const v of s.values() as BigInt64Array) expect(v === 0n || v === 2n || v === 1n).toBe(true);
    const t = run('TruncatedNormal', [Tensor.from('int32', [1], [101])], { dtype: attr.type('float32'), seed: attr.i(3), seed2: attr.i(4) })[0];
    for (const v of t.values() as Float32Array) expect(Math.abs(v)).toBeLessThan(2);
  });

  it('FakeQuant checks num_bits, min < max and ranks', () => {
    const x = Tensor.from('float32', [3], [-1, 0, 1]);
    fails(() => run('FakeQuantWithMinMaxArgs', [x], { num_bits: attr.i(17) }), 'INVALID_ARGUMENT', /num_bits must be between 2 and 16, inclusive/);
    fails(() => run('FakeQuantWithMinMaxArgs', [x], { min: { kind: 'f', f: 1 }, max: { kind: 'f', f: 1 } } as Record<string, AttrValue>), 'INVALID_ARGUMENT', /min has to be smaller than max/);
    fails(() => run('FakeQuantWithMinMaxVars', [x, Tensor.from('float32', [1], [0]), Tensor.scalar('float32', 1)]), 'INVALID_ARGUMENT', /`min` must be rank 0/);
    fails(() => run('FakeQuantWithMinMaxVarsPerChannel', [x, Tensor.from('float32', [2], [0, 0]), Tensor.from('float32', [2], [1, 1])]), 'INVALID_ARGUMENT', /`min` must be a vector of length 3/);
    fails(() => run('FakeQuantWithMinMaxVars', [Tensor.from('int32', [1], [1]), Tensor.scalar('float32', 0), Tensor.scalar('float32', 1)]), 'INVALID_ARGUMENT', /expects float/);
  });

  it('searchsorted, ListDiff, Reverse and TensorListSplit reject bad shapes', () => {
    const m = Tensor.from('float32', [1, 2], [0, 1]);
    fails(() => run('LowerBound', [m, Tensor.from('float32', [2, 1], [0, 1])]), 'INVALID_ARGUMENT', /Leading dim_size of both tensors must match/);
    fails(() => run('UpperBound', [Tensor.from('float32', [2], [0, 1]), m]), 'INVALID_ARGUMENT', /rank 2/);
    fails(() => run('ListDiff', [m, Tensor.from('float32', [1], [0])]), 'INVALID_ARGUMENT', /x should be a 1D vector/);
    fails(() => run('Reverse', [m, Tensor.from('bool', [1], [true])]), 'INVALID_ARGUMENT', /'dims' must have the same number of values/);
    const t = Tensor.from('float32', [3, 1], [1, 2, 3]);
    const shape = Tensor.from('int32', [2], [-1, 1]);
    fails(() => run('TensorListSplit', [t, shape, Tensor.from('int64', [2], [1n, 1n])]), 'INVALID_ARGUMENT', /Unused values in tensor/);
    fails(() => run('TensorListSplit', [t, shape, Tensor.from('int64', [2], [2n, 2n])]), 'INVALID_ARGUMENT', /Attempting to slice/);
    fails(() => run('TensorListSplit', [t, shape, Tensor.from('int64', [2], [-1n, 4n])]), 'INVALID_ARGUMENT', /Invalid value in lengths/);
  });

  it('rounds to half precision with ties to even, overflow and subnormals', () => {
    expect(roundFloat16(1 + 2 ** -11)).toBe(1); // tie → even
    expect(roundFloat16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(roundFloat16(65519)).toBe(65504);
    expect(roundFloat16(65520)).toBe(Infinity);
    expect(roundFloat16(-1e9)).toBe(-Infinity);
    expect(roundFloat16(2 ** -25)).toBe(0);
    expect(roundFloat16(3 * 2 ** -25)).toBe(2 ** -23);
    expect(roundFloat16(Number.NaN)).toBeNaN();
    expect(roundBfloat16(1 + 2 ** -8)).toBe(1);
    const h = run('Cast', [Tensor.from('float32', [2], [0.1, 1000.3])], { SrcT: attr.type('float32'), DstT: attr.type('float16') })[0];
    const y = run('AddV2', [h, h])[0];
    expect(Array.from(y.values() as Float32Array)).toEqual([roundFloat16(2 * roundFloat16(0.1)), roundFloat16(2 * roundFloat16(1000.3))]);
    const z = run('Mul', [h, Tensor.from('float16', [2], [3, 3])])[0];
    expect((z.values() as Float32Array)[1]).toBe(roundFloat16(Math.fround(roundFloat16(1000.3) * 3)));
  });

  it('V1 lookup table ops share the V2 kernels', () => {
    const resources = new ModelResources();
    const functions = new FunctionLibrary([], [], resources);
    const call = (op: string, inputs: Tensor[], a: Record<string, AttrValue> = {}) => {
      const n = node('t', op, [], a);
      return kernelFor(op)!.kernel({ node: n, attrs: new Attrs(n.attr, n.name, op), inputs, resources, functions });
    };
    const [h] = call('HashTable', [], { key_dtype: attr.type('string'), value_dtype: attr.type('int64') });
    call('InitializeTable', [h, Tensor.from('string', [2], ['a', 'b']), Tensor.from('int64', [2], [1n, 2n])]);
    const [found] = call('LookupTableFind', [h, Tensor.from('string', [3], ['b', 'z', 'a']), Tensor.scalar('int64', -1n)]);
    expect(Array.from(found.values() as BigInt64Array)).toEqual([2n, -1n, 1n]);
    expect((call('LookupTableSize', [h])[0].values() as BigInt64Array)[0]).toBe(2n);
  });

  it('partition, stitch, top-k, shifts and Bitcast reject bad inputs', () => {
    const data = Tensor.from('float32', [3], [1, 2, 3]);
    fails(() => run('DynamicPartition', [data, Tensor.from('int32', [3], [0, 5, 1])], { num_partitions: attr.i(2) }), 'INVALID_ARGUMENT', /partitions\[1\] = 5 is not in \[0, 2\)/);
    fails(() => run('DynamicPartition', [data, Tensor.from('int32', [2], [0, 1])], { num_partitions: attr.i(2) }), 'INVALID_ARGUMENT', /data.shape must start with partitions.shape/);
    fails(() => run('DynamicStitch', [Tensor.from('int32', [2], [0, 1]), data], { N: attr.i(1) }), 'INVALID_ARGUMENT', /does not start with indices/);
    fails(() => run('DynamicStitch', [Tensor.from('int32', [1], [-1]), Tensor.from('float32', [1], [1])], { N: attr.i(1) }), 'INVALID_ARGUMENT', /non-negative/);
    expect(() => run('DynamicStitch', [Tensor.from('int32', [1], [2 ** 30]), Tensor.from('float32', [1, 4096], new Array(4096).fill(1))], { N: attr.i(1) })).toThrow(StatusError);
    fails(() => run('InTopKV2', [Tensor.from('float32', [2, 2], [1, 2, 3, 4]), Tensor.from('int32', [1], [0]), Tensor.scalar('int32', 1)]), 'INVALID_ARGUMENT', /must match length of targets/);
    fails(() => run('LeftShift', [Tensor.from('int32', [2], [1, 2]), Tensor.from('int32', [3], [1, 2, 3])]), 'INVALID_ARGUMENT', /Incompatible shapes/);
    fails(() => run('Bitcast', [Tensor.from('int8', [3], [1, 2, 3])], { type: attr.type('int16') }), 'INVALID_ARGUMENT', /Cannot bitcast from int8 to int16: shape \[3\]/);
    const b = run('Bitcast', [Tensor.from('int8', [2, 2], [1, 0, -1, -1])], { type: attr.type('int16') })[0];
    expect(b.shape).toEqual([2]);
    expect(Array.from(b.values() as Int16Array)).toEqual([1, -1]);
    fails(() => run('StringFormat', [Tensor.scalar('int32', 1)], { template: attr.s('{} {}'), placeholder: attr.s('{}') }), 'INVALID_ARGUMENT', /num placeholders in template and num inputs must match: 2 vs. 1/);
    fails(() => run('QuantizeAndDequantizeV2', [data, Tensor.scalar('float32', 1), Tensor.scalar('float32', 0)], { range_given: attr.b(true) }), 'INVALID_ARGUMENT', /Invalid range: input_min 1 > input_max 0/);
    fails(() => run('QuantizeAndDequantizeV2', [data, Tensor.scalar('float32', 0), Tensor.scalar('float32', 1)], { num_bits: attr.i(70) }), 'INVALID_ARGUMENT', /num_bits is out of range/);
    fails(() => run('ImageProjectiveTransformV3', [data, Tensor.from('float32', [1, 8], new Array(8).fill(0)), Tensor.from('int32', [2], [2, 2]), Tensor.scalar('float32', 0)], { interpolation: attr.s('NEAREST') }), 'INVALID_ARGUMENT', /Input images must have rank 4/);
    fails(() => run('ImageProjectiveTransformV3', [Tensor.from('float32', [1, 1, 1, 1], [1]), Tensor.from('float32', [1, 8], new Array(8).fill(0)), Tensor.from('int32', [2], [2 ** 20, 2 ** 20]), Tensor.scalar('float32', 0)], { interpolation: attr.s('NEAREST') }), 'RESOURCE_EXHAUSTED', /./);
  });

  it('set, unicode, histogram and cross-entropy ops reject bad inputs', () => {
    const a = Tensor.from('int64', [2, 2], [1n, 2n, 3n, 4n]);
    fails(() => run('DenseToDenseSetOperation', [a, Tensor.from('int64', [3, 1], [1n, 2n, 3n])], { set_operation: attr.s('a-b') }), 'INVALID_ARGUMENT', /do not match/);
    fails(() => run('DenseToDenseSetOperation', [a, a], { set_operation: attr.s('xor') }), 'INVALID_ARGUMENT', /Invalid set_operation xor/);
    fails(() => run('DenseToDenseSetOperation', [Tensor.from('float32', [1, 1], [1]), Tensor.from('float32', [1, 1], [1])], { set_operation: attr.s('union') }), 'INVALID_ARGUMENT', /invalid set type float/);
    const bad = Tensor.from('string', [1], [new Uint8Array([0x61, 0xff])]);
    fails(() => run('UnicodeDecode', [bad], { input_encoding: attr.s('UTF-8'), errors: attr.s('strict') }), 'INVALID_ARGUMENT', /Invalid formatting on input string/);
    fails(() => run('UnicodeDecode', [bad], { input_encoding: attr.s('latin-9') }), 'INVALID_ARGUMENT', /Could not create converter/);
    fails(() => run('UnicodeEncode', [Tensor.from('int32', [1], [-1]), Tensor.from('int64', [2], [0n, 1n])], { output_encoding: attr.s('UTF-8'), errors: attr.s('strict') }), 'INVALID_ARGUMENT', /Code point is out of range/);
    fails(() => run('HistogramFixedWidth', [Tensor.from('float32', [1], [Number.NaN]), Tensor.from('float32', [2], [0, 1]), Tensor.scalar('int32', 2)]), 'INVALID_ARGUMENT', /must not contain NaN/);
    fails(() => run('HistogramFixedWidth', [Tensor.from('float32', [1], [0]), Tensor.from('float32', [2], [1, 0]), Tensor.scalar('int32', 2)]), 'INVALID_ARGUMENT', /value_range\[0\] < value_range\[1\]/);
    fails(() => run('SparseSoftmaxCrossEntropyWithLogits', [Tensor.from('float32', [1, 2], [0, 1]), Tensor.from('int32', [1], [2])]), 'INVALID_ARGUMENT', /Received a label value of 2 which is outside the valid range of \[0, 2\)/);
  });
});
