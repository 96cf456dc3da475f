/**
 * Tensors in the Open Inference Protocol (KServe v2) REST encoding: the
 * datatype names, JSON `data` (flat or nested, row-major) and the binary
 * tensor extension (raw little-endian elements; BYTES elements each prefixed
 * with a 4-byte little-endian length; BOOL one byte each).
 *
 * JSON BYTES elements are strings (their UTF-8 bytes, as KServe clients send
 * them) or, for arbitrary bytes in JSON, `{"b64": "..."}` objects as in TF
 * Serving's REST API. BYTES outputs are written as UTF-8 strings in JSON
 * (invalid UTF-8 is replaced); ask for binary_data to get them exactly.
 */
import { INT_RANGE, dtypeShortName, type DType } from '../../runtime/dtypes.js';
import { invalidArgument } from '../../runtime/errors.js';
import { checkTensorSize } from '../../runtime/limits.js';
import { allocHost, decodeString, encodeString, sizeOf, Tensor, type HostData } from '../../runtime/tensor.js';
import { base64Decode } from '../../runtime/codec/base64.js';
import { formatDecimal } from '../../runtime/codec/index.js';

const TO_V2: Partial<Record<DType, string>> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  bfloat16: 'BF16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};
const FROM_V2 = new Map(Object.entries(TO_V2).map(([d, v]) => [v!, d as DType]));

/** Bytes per element in the binary extension (BYTES: variable). */
const ELEMENT_BYTES: Partial<Record<DType, number>> = {
  bool: 1, uint8: 1, int8: 1, uint16: 2, int16: 2, float16: 2, bfloat16: 2,
  uint32: 4, int32: 4, float32: 4, uint64: 8, int64: 8, float64: 8,
};

/** The v2 datatype name of a TF dtype, or undefined when the protocol has none (complex, resource...). */
export function v2Datatype(dtype: DType): string | undefined {
  return TO_V2[dtype];
}

/** The v2 shape of a signature dimension list: unknown dims stay -1; unknown rank is [-1]. */
export function v2Shape(dims: readonly number[], unknownRank: boolean): number[] {
  return unknownRank ? [-1] : [...dims];
}

export interface V2Input {
  name: string;
  shape: number[];
  datatype: string;
  /** JSON elements (absent for a binary input). */
  data?: unknown;
  /** Bytes of a binary input (binary_data_size), sliced from the body. */
  binary?: Uint8Array;
}

function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw invalidArgument(`Input '${name}': "shape" must be an array of non-negative integers`);
  }
  return shape as number[];
}

/** Reads one entry of the request's `inputs`; `expected` is the signature's dtype for its name. */
export function tensorFromV2(input: V2Input, expected: DType): Tensor {
  const { name, datatype } = input;
  const want = TO_V2[expected];
  if (!want) throw invalidArgument(`Input '${name}' is of type ${dtypeShortName(expected)}, which the Open Inference Protocol cannot carry`);
  if (!FROM_V2.has(datatype)) {
    throw invalidArgument(`Input '${name}' has unknown datatype "${datatype}"; expected one of ${[...FROM_V2.keys()].join(', ')}`);
  }
  if (datatype !== want) throw invalidArgument(`Input '${name}' has datatype ${datatype}, but the model expects ${want}`);
  const shape = checkShape(name, input.shape);
  const size = sizeOf(shape);
  checkTensorSize(shape, expected);
  return input.binary !== undefined ? fromBinary(name, expected, shape, size, input.binary) : fromJson(name, expected, shape, size, input.data);
}

/** The elements of nested arrays, in row-major order; `data` must be an array. */
function flatten(name: string, data: unknown): unknown[] {
  if (!Array.isArray(data)) throw invalidArgument(`Input '${name}': "data" must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (a: unknown[]) => {
    for (const v of a) {
      if (Array.isArray(v)) walk(v);
      else out.push(v);
    }
  };
  walk(data);
  return out;
}

function fromJson(name: string, dtype: DType, shape: number[], size: number, data: unknown): Tensor {
  const values = flatten(name, data);
  if (values.length !== size) {
    throw invalidArgument(`Input '${name}' has shape [${shape.join(',')}] (${size} elements), but its data holds ${values.length}`);
  }
  const bad = (i: number, what: string) =>
    invalidArgument(`Input '${name}': element ${i} (${JSON.stringify(values[i])?.slice(0, 40)}) is not ${what}`);
  const host = allocHost(dtype, size);
  if (dtype === 'string') {
    const out = host as Uint8Array[];
    for (let i = 0; i < size; i++) {
      const v = values[i];
      if (typeof v === 'string') out[i] = encodeString(v);
      else if (v !== null && typeof v === 'object' && typeof (v as { b64?: unknown }).b64 === 'string' && Object.keys(v).length === 1) {
        const bytes = base64Decode((v as { b64: string }).b64);
        if (!bytes) throw bad(i, 'valid base64 in "b64"');
        out[i] = bytes;
      } else throw bad(i, 'a string (or {"b64": "..."})');
    }
  } else if (dtype === 'bool') {
    const out = host as Uint8Array;
    for (let i = 0; i < size; i++) {
      if (typeof values[i] !== 'boolean') throw bad(i, 'a boolean');
      out[i] = values[i] ? 1 : 0;
    }
  } else if (dtype === 'int64' || dtype === 'uint64') {
    const out = host as BigInt64Array | BigUint64Array;
    const min = dtype === 'int64' ? -(2n ** 63n) : 0n;
    const max = dtype === 'int64' ? 2n ** 63n - 1n : 2n ** 64n - 1n;
    for (let i = 0; i < size; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(i, `an integer (${TO_V2[dtype]})`);
      const b = BigInt(v);
      if (b < min || b > max) throw bad(i, `within the range of ${TO_V2[dtype]}`);
      out[i] = b;
    }
  } else {
    const out = host as Float64Array;
    const range = INT_RANGE[dtype];
    for (let i = 0; i < size; i++) {
      const v = values[i];
      if (typeof v !== 'number') throw bad(i, `a number (${TO_V2[dtype]})`);
      if (range && (!Number.isInteger(v) || v < range[0] || v > range[1])) throw bad(i, `an integer within the range of ${TO_V2[dtype]}`);
      out[i] = v;
    }
  }
  return Tensor.fromHost(dtype, shape, host);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // Rounding may carry into the exponent, which is still the right value.
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

function fromBinary(name: string, dtype: DType, shape: number[], size: number, bytes: Uint8Array): Tensor {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === 'string') {
    const out = allocHost('string', size) as Uint8Array[];
    let at = 0;
    for (let i = 0; i < size; i++) {
      if (at + 4 > bytes.length) throw invalidArgument(`Input '${name}': its binary data ends before element ${i} of ${size}`);
      const n = view.getUint32(at, true);
      at += 4;
      if (at + n > bytes.length) throw invalidArgument(`Input '${name}': element ${i} claims ${n} bytes, more than its binary data holds`);
      out[i] = bytes.slice(at, at + n);
      at += n;
    }
    if (at !== bytes.length) throw invalidArgument(`Input '${name}': ${bytes.length - at} bytes of binary data are left after its ${size} elements`);
    return Tensor.fromHost('string', shape, out);
  }
  const width = ELEMENT_BYTES[dtype]!;
  if (bytes.length !== size * width) {
    throw invalidArgument(`Input '${name}' has shape [${shape.join(',')}] (${size} elements of ${width} bytes), but binary_data_size is ${bytes.length}`);
  }
  const host = allocHost(dtype, size);
  for (let i = 0; i < size; i++) {
    const at = i * width;
    switch (dtype) {
      case 'bool': (host as Uint8Array)[i] = bytes[at] ? 1 : 0; break;
      case 'uint8': (host as Uint8Array)[i] = bytes[at]; break;
      case 'int8': (host as Int8Array)[i] = view.getInt8(at); break;
      case 'uint16': (host as Uint16Array)[i] = view.getUint16(at, true); break;
      case 'int16': (host as Int16Array)[i] = view.getInt16(at, true); break;
      case 'float16': (host as Float32Array)[i] = halfToFloat(view.getUint16(at, true)); break;
      case 'bfloat16': (host as Float32Array)[i] = new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0]; break;
      case 'uint32': (host as Uint32Array)[i] = view.getUint32(at, true); break;
      case 'int32': (host as Int32Array)[i] = view.getInt32(at, true); break;
      case 'float32': (host as Float32Array)[i] = view.getFloat32(at, true); break;
      case 'uint64': (host as BigUint64Array)[i] = view.getBigUint64(at, true); break;
      case 'int64': (host as BigInt64Array)[i] = view.getBigInt64(at, true); break;
      case 'float64': (host as Float64Array)[i] = view.getFloat64(at, true); break;
    }
  }
  return Tensor.fromHost(dtype, shape, host);
}

/** The elements of an output as a JSON array text (floats printed as /v1 prints them). */
export function jsonData(t: Tensor): string {
  const v: HostData = t.values();
  const parts: string[] = new Array(t.size);
  switch (t.dtype) {
    case 'float32':
    case 'float16':
    case 'bfloat16':
      for (let i = 0; i < t.size; i++) parts[i] = formatDecimal((v as Float32Array)[i], 'float');
      break;
    case 'float64':
      for (let i = 0; i < t.size; i++) parts[i] = formatDecimal((v as Float64Array)[i], 'double');
      break;
    case 'bool':
      for (let i = 0; i < t.size; i++) parts[i] = (v as Uint8Array)[i] ? 'true' : 'false';
      break;
    case 'string':
      for (let i = 0; i < t.size; i++) parts[i] = JSON.stringify(decodeString((v as Uint8Array[])[i]));
      break;
    default:
      for (let i = 0; i < t.size; i++) parts[i] = String((v as ArrayLike<number | bigint>)[i]);
  }
  return `[${parts.join(',')}]`;
}

/** The elements of an output in the binary extension's layout. */
export function binaryData(t: Tensor): Buffer {
  const v: HostData = t.values();
  if (t.dtype === 'string') {
    const items = v as Uint8Array[];
    const out = Buffer.alloc(items.reduce((n, b) => n + 4 + b.length, 0));
    let at = 0;
    for (const b of items) {
      out.writeUInt32LE(b.length, at);
      out.set(b, at + 4);
      at += 4 + b.length;
    }
    return out;
  }
  const width = ELEMENT_BYTES[t.dtype]!;
  const out = Buffer.alloc(t.size * width);
  for (let i = 0; i < t.size; i++) {
    const at = i * width;
    switch (t.dtype) {
      case 'bool':
      case 'uint8': out[at] = (v as Uint8Array)[i]; break;
      case 'int8': out.writeInt8((v as Int8Array)[i], at); break;
      case 'uint16': out.writeUInt16LE((v as Uint16Array)[i], at); break;
      case 'int16': out.writeInt16LE((v as Int16Array)[i], at); break;
      case 'float16': out.writeUInt16LE(floatToHalf((v as Float32Array)[i]), at); break;
      case 'bfloat16': { f32[0] = (v as Float32Array)[i]; out.writeUInt16LE(u32[0] >>> 16, at); break; }
      case 'uint32': out.writeUInt32LE((v as Uint32Array)[i], at); break;
      case 'int32': out.writeInt32LE((v as Int32Array)[i], at); break;
      case 'float32': out.writeFloatLE((v as Float32Array)[i], at); break;
      case 'uint64': out.writeBigUInt64LE((v as BigUint64Array)[i], at); break;
      case 'int64': out.writeBigInt64LE((v as BigInt64Array)[i], at); break;
      case 'float64': out.writeDoubleLE((v as Float64Array)[i], at); break;
    }
  }
  return out;
}
