// Tensors in the Open Inference Protocol encoding (server/v2/tensors.ts): every datatype read from JSON
// and from the binary extension, written back, and refused when out of range. Binary layouts are built
// here with Buffer's own little-endian writers, independently of the code under test.
import { describe, expect, it } from 'vitest';
import type { DType } from '../../runtime/dtypes.js';
import { StatusError } from '../../runtime/errors.js';
import { binaryData, jsonData, tensorFromV2, v2Datatype } from '../../server/v2/tensors.js';

const cases: [DType, string, unknown[], (b: Buffer, v: number, at: number) => void, number][] = [
  ['bool', 'BOOL', [true, false, true], (b, v, at) => b.writeUInt8(v, at), 1],
  ['uint8', 'UINT8', [0, 7, 255], (b, v, at) => b.writeUInt8(v, at), 1],
  ['int8', 'INT8', [-128, 0, 127], (b, v, at) => b.writeInt8(v, at), 1],
  ['uint16', 'UINT16', [0, 513, 65535], (b, v, at) => b.writeUInt16LE(v, at), 2],
  ['int16', 'INT16', [-32768, 5, 32767], (b, v, at) => b.writeInt16LE(v, at), 2],
  ['uint32', 'UINT32', [0, 70000, 4294967295], (b, v, at) => b.writeUInt32LE(v, at), 4],
  ['int32', 'INT32', [-2147483648, -3, 2147483647], (b, v, at) => b.writeInt32LE(v, at), 4],
  ['int64', 'INT64', [-9007199254740991, 3, 9007199254740991], (b, v, at) => b.writeBigInt64LE(BigInt(v), at), 8],
  ['uint64', 'UINT64', [0, 3, 9007199254740991], (b, v, at) => b.writeBigUInt64LE(BigInt(v), at), 8],
  ['float32', 'FP32', [0.5, -2.25, 1e-3], (b, v, at) => b.writeFloatLE(v, at), 4],
  ['float64', 'FP64', [0.1, -2.25, 1e300], (b, v, at) => b.writeDoubleLE(v, at), 8],
];

const input = (datatype: string, shape: number[], extra: object) => ({ name: 'in', datatype, shape, ...extra });

describe('datatypes', () => {
  it.each(cases)('%s (%s): JSON and binary give the same tensor, and write back the same', (dtype, datatype, values, write, width) => {
    expect(v2Datatype(dtype)).toBe(datatype);
    const fromJson = tensorFromV2(input(datatype, [3], { data: values }), dtype);
    const bytes = Buffer.alloc(3 * width);
    values.forEach((v, i) => write(bytes, Number(v), i * width));
    const fromBinary = tensorFromV2(input(datatype, [1, 3], { binary: bytes }), dtype);
    expect(fromBinary.shape).toEqual([1, 3]);
    expect(Array.from(fromBinary.values() as ArrayLike<unknown>)).toEqual(Array.from(fromJson.values() as ArrayLike<unknown>));
    expect(binaryData(fromJson).equals(bytes)).toBe(true);
    const expected = dtype === 'float32' ? values.map((v) => Math.fround(v as number)) : values;
    const written = JSON.parse(jsonData(fromJson)) as unknown[];
    if (dtype === 'float32') expect(written.map((v) => Math.fround(v as number))).toEqual(expected);
    else expect(written).toEqual(expected);
  });

  it('reads and writes FP16 and BF16 as their IEEE halves', () => {
    // 1.0, -2.0, 65504 (largest half), 2^-24 (smallest subnormal half), 0.1 (rounds to 0x2e66).
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x2e66];
    const bytes = Buffer.alloc(halves.length * 2);
    halves.forEach((h, i) => bytes.writeUInt16LE(h, i * 2));
    const t = tensorFromV2(input('FP16', [5], { binary: bytes }), 'float16');
    expect(Array.from(t.values() as Float32Array)).toEqual([1, -2, 65504, 2 ** -24, 0.0999755859375]);
    expect(binaryData(tensorFromV2(input('FP16', [5], { data: [1, -2, 65504, 2 ** -24, 0.1] }), 'float16')).equals(bytes)).toBe(true);
    const bf = tensorFromV2(input('BF16', [2], { data: [1, -0.5] }), 'bfloat16');
    expect(binaryData(bf)).toEqual(Buffer.from([0x80, 0x3f, 0x00, 0xbf]));
    expect(Array.from(tensorFromV2(input('BF16', [2], { binary: binaryData(bf) }), 'bfloat16').values() as Float32Array)).toEqual([1, -0.5]);
  });

  it('reads BYTES from strings, {"b64"} objects and length-prefixed binary', () => {
    const json = tensorFromV2(input('BYTES', [3], { data: ['héllo', { b64: Buffer.from([0, 255, 1]).toString('base64') }, ''] }), 'string');
    const elems = json.values() as Uint8Array[];
    expect(Buffer.from(elems[0]).toString('utf8')).toBe('héllo');
    expect(Array.from(elems[1])).toEqual([0, 255, 1]);
    const bin = binaryData(json);
    expect(bin.readUInt32LE(0)).toBe(6);
    const back = tensorFromV2(input('BYTES', [3], { binary: bin }), 'string').values() as Uint8Array[];
    expect(back.map((b) => Array.from(b))).toEqual(elems.map((b) => Array.from(b)));
    expect(jsonData(json)).toBe('["héllo","\\u0000\ufffd\\u0001",""]');
  });
});

describe('refusals (INVALID_ARGUMENT with what was wrong)', () => {
  const refuse = (dtype: DType, datatype: string, extra: object, shape = [1]) => {
    try {
      tensorFromV2(input(datatype, shape, extra), dtype);
    } catch (e) {
      expect(e).toBeInstanceOf(StatusError);
      return (e as StatusError).code + ': ' + (e as StatusError).message;
    }
    throw new Error('accepted');
  };
  it.each([
    ['int8', 'INT8', { data: [300] }, 'within the range of INT8'],
    ['uint8', 'UINT8', { data: [-1] }, 'within the range of UINT8'],
    ['int32', 'INT32', { data: [1.5] }, 'an integer within the range of INT32'],
    ['int64', 'INT64', { data: [1.5] }, 'an integer (INT64)'],
    ['uint64', 'UINT64', { data: [-1] }, 'within the range of UINT64'],
    ['bool', 'BOOL', { data: [1] }, 'is not a boolean'],
    ['float32', 'FP32', { data: [null] }, 'is not a number (FP32)'],
    ['string', 'BYTES', { data: [5] }, 'is not a string'],
    ['string', 'BYTES', { data: [{ b64: '%%%' }] }, 'valid base64'],
    ['float32', 'FP32', { data: 5 }, '"data" must be an array'],
    ['float32', 'FP32', { binary: Buffer.alloc(3) }, 'binary_data_size is 3'],
    ['string', 'BYTES', { binary: Buffer.from([9, 0, 0, 0, 1]) }, 'claims 9 bytes'],
    ['string', 'BYTES', { binary: Buffer.from([0, 0]) }, 'ends before element 0'],
    ['string', 'BYTES', { binary: Buffer.from([0, 0, 0, 0, 7]) }, '1 bytes of binary data are left'],
    ['complex64', 'FP32', { data: [1] }, 'cannot carry'],
  ] as [DType, string, object, string][])('%s %s %j', (dtype, datatype, extra, message) => {
    expect(refuse(dtype, datatype, extra)).toContain(message);
  });

  it('refuses a shape over the tensor size limit before reading any data', () => {
    expect(refuse('float32', 'FP32', { data: [1] }, [1e9, 1e9])).toMatch(/^RESOURCE_EXHAUSTED|^INVALID_ARGUMENT/);
  });
});
