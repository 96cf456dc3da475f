/**
 * TensorProto ⇄ Tensor, with TensorFlow's rules (Tensor::FromProto /
 * AsProtoField / AsProtoTensorContent):
 *  - a non-empty tensor_content holds the raw little-endian elements and must
 *    have exactly the tensor's byte size; for strings it holds every length
 *    as a varint32, then the concatenated bytes (port::EncodeStringList);
 *  - otherwise the typed list for the dtype is used (float_val, double_val,
 *    int_val for int32/int16/int8/uint8/uint16, int64_val, uint32_val,
 *    uint64_val, bool_val, string_val, half_val for float16/bfloat16 bit
 *    patterns, scomplex_val/dcomplex_val as (re, im) pairs); a list shorter
 *    than the tensor is padded with its last value, an empty list means
 *    zeros, and extra values are ignored;
 *  - int64/uint64 values are exact (bigint);
 *  - resource and variant tensors cannot be built from a proto here (they
 *    are runtime objects) and are rejected with UNIMPLEMENTED.
 */
import { type DType, dtypeFromEnum, dtypeToEnum, dtypeTfName } from '../dtypes.js';
import { invalidArgument, unimplemented } from '../errors.js';
import type { TensorShape } from '../graph/types.js';
import { allocHost, type HostData, shapeString, sizeOf, Tensor } from '../tensor.js';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from './float16.js';
import { bigIntToInt64, int64ToBigInt, int64ToNumber, type Int64Like } from './long.js';
import type { TensorProtoMsg, TensorShapeProtoMsg } from './messages.js';
import { protoEnum } from './schema.js';
import { decodeTensorBytes, encodeTensorBytes } from './tensor_bytes.js';

/** TF's DT_* name of a DataType enum value (numbers that are not in the enum print as such). */
export function dataTypeName(value: number): string {
  return protoEnum('tensorflow.DataType').valuesById[value] ?? `DataType(${value})`;
}

/** Our DType for a DataType enum value; unsupported ones are UNIMPLEMENTED, naming `where`. */
export function dtypeFromProto(value: number | undefined, where: string): DType {
  const d = dtypeFromEnum(value ?? 0);
  if (d === undefined) throw unimplemented(`${where}: data type ${dataTypeName(value ?? 0)} is not supported`);
  return d;
}

export function dtypeToProto(dtype: DType): number {
  return dtypeToEnum(dtype);
}

export function shapeFromProto(p: TensorShapeProtoMsg | null | undefined): TensorShape {
  if (!p) return { unknownRank: false, dims: [] };
  if (p.unknownRank) return { unknownRank: true, dims: [] };
  return { unknownRank: false, dims: (p.dim ?? []).map((d) => int64ToNumber(d.size ?? 0, 'dimension size')) };
}

/** Encodable TensorShapeProto; proto3 defaults are left out, as TF writes them. */
export function shapeToProto(s: TensorShape): TensorShapeProtoMsg {
  if (s.unknownRank) return { unknownRank: true };
  return { dim: s.dims.map((size) => (size === 0 ? {} : { size })) };
}

/** Fills `n` elements from a typed list with TF's padding rule; `get(i)` reads list element i. */
function fill<T>(listLength: number, n: number, get: (i: number) => T, set: (i: number, v: T) => void): void {
  if (listLength <= 0) return; // storage is already zeroed
  const copy = Math.min(n, listLength);
  for (let i = 0; i < copy; i++) set(i, get(i));
  if (copy < n) {
    const last = get(listLength - 1);
    for (let i = copy; i < n; i++) set(i, last);
  }
}

function fromTypedFields(p: TensorProtoMsg, dtype: DType, n: number): HostData {
  const data = allocHost(dtype, n);
  switch (dtype) {
    case 'float32': {
      const v = p.floatVal ?? [];
      fill(v.length, n, (i) => v[i], (i, x) => ((data as Float32Array)[i] = x));
      break;
    }
    case 'float64': {
      const v = p.doubleVal ?? [];
      fill(v.length, n, (i) => v[i], (i, x) => ((data as Float64Array)[i] = x));
      break;
    }
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'uint16': {
      const v = p.intVal ?? [];
      const out = data as Int32Array;
      fill(v.length, n, (i) => v[i], (i, x) => (out[i] = x));
      break;
    }
    case 'int64': {
      const v = p.int64Val ?? [];
      fill(v.length, n, (i) => int64ToBigInt(v[i]), (i, x) => ((data as BigInt64Array)[i] = x));
      break;
    }
    case 'uint64': {
      const v = p.uint64Val ?? [];
      fill(v.length, n, (i) => int64ToBigInt(v[i], true), (i, x) => ((data as BigUint64Array)[i] = x));
      break;
    }
    case 'uint32': {
      const v = p.uint32Val ?? [];
      fill(v.length, n, (i) => v[i], (i, x) => ((data as Uint32Array)[i] = x));
      break;
    }
    case 'bool': {
      const v = p.boolVal ?? [];
      fill(v.length, n, (i) => (v[i] ? 1 : 0), (i, x) => ((data as Uint8Array)[i] = x));
      break;
    }
    case 'float16':
    case 'bfloat16': {
      const v = p.halfVal ?? [];
      const conv = dtype === 'float16' ? halfBitsToFloat : bfloat16BitsToFloat;
      fill(v.length, n, (i) => conv(v[i] & 0xffff), (i, x) => ((data as Float32Array)[i] = x));
      break;
    }
    case 'complex64':
    case 'complex128': {
      const v = (dtype === 'complex64' ? p.scomplexVal : p.dcomplexVal) ?? [];
      const out = data as Float32Array | Float64Array;
      fill(
        Math.floor(v.length / 2),
        n,
        (i) => [v[2 * i], v[2 * i + 1]] as const,
        (i, [re, im]) => {
          out[2 * i] = re;
          out[2 * i + 1] = im;
        },
      );
      break;
    }
    case 'string': {
      const v = p.stringVal ?? [];
      fill(v.length, n, (i) => v[i], (i, x) => ((data as Uint8Array[])[i] = new Uint8Array(x)));
      break;
    }
    default:
      throw unimplemented(`cannot build a ${dtype} tensor from a TensorProto`);
  }
  return data;
}

/** Builds a host tensor from a decoded (or hand-built) TensorProto. */
export function tensorFromProto(p: TensorProtoMsg): Tensor {
  const dtype = dtypeFromProto(p.dtype, 'TensorProto');
  const shape = shapeFromProto(p.tensorShape);
  if (shape.unknownRank || shape.dims.some((d) => d < 0)) {
    throw invalidArgument(`TensorProto shape ${shape.unknownRank ? '<unknown>' : shapeString(shape.dims)} is not fully defined`);
  }
  if (dtype === 'resource' || dtype === 'variant') {
    throw unimplemented(`a ${dataTypeName(dtypeToEnum(dtype))} TensorProto cannot be turned into a tensor: resource handles and variants are runtime objects`);
  }
  const n = sizeOf(shape.dims);
  const content = p.tensorContent;
  if (content && content.length > 0) {
    let data: HostData;
    try {
      data = dtype === 'string' ? decodeStringList(content, n) : decodeTensorBytes(dtype, content, n);
    } catch (e) {
      throw invalidArgument(
        `Invalid TensorProto of type ${dataTypeName(dtypeToEnum(dtype))} and shape ${shapeString(shape.dims)}: tensor_content has ${content.length} bytes (${(e as Error).message})`,
      );
    }
    return Tensor.fromHost(dtype, shape.dims, data);
  }
  let data: HostData;
  try {
    data = fromTypedFields(p, dtype, n);
  } catch (e) {
    // A short value list declaring a huge shape (it is repeated to fill it): refuse what cannot be allocated.
    if (!(e instanceof RangeError)) throw e;
    throw invalidArgument(
      `Invalid TensorProto of type ${dataTypeName(dtypeToEnum(dtype))} and shape ${shapeString(shape.dims)}: ${n} elements cannot be allocated (${e.message})`,
    );
  }
  return Tensor.fromHost(dtype, shape.dims, data);
}

export interface TensorToProtoOptions {
  /** Store numeric elements as raw bytes in tensor_content (like AsProtoTensorContent). Default: typed *_val fields (AsProtoField). */
  tensorContent?: boolean;
}

/** port::DecodeStringList: n varint32 lengths, then the bytes of each string. */
function decodeStringList(bytes: Uint8Array, n: number): Uint8Array[] {
  const lengths: number[] = new Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    let len = 0;
    let shift = 0;
    for (;;) {
      if (pos >= bytes.length || shift > 28) throw invalidArgument('truncated string lengths');
      const b = bytes[pos++];
      len += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    lengths[i] = len;
  }
  const out: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    if (pos + lengths[i] > bytes.length) throw invalidArgument('string bytes are truncated');
    out[i] = new Uint8Array(bytes.subarray(pos, pos + lengths[i]));
    pos += lengths[i];
  }
  if (pos !== bytes.length) throw invalidArgument(`${bytes.length - pos} unexpected trailing bytes`);
  return out;
}

function encodeStringList(strings: Uint8Array[]): Uint8Array {
  const head: number[] = [];
  let total = 0;
  for (const s of strings) {
    let len = s.length;
    while (len >= 0x80) {
      head.push((len & 0x7f) | 0x80);
      len = Math.floor(len / 128);
    }
    head.push(len);
    total += s.length;
  }
  const out = new Uint8Array(head.length + total);
  out.set(head);
  let pos = head.length;
  for (const s of strings) {
    out.set(s, pos);
    pos += s.length;
  }
  return out;
}

/** Encodable TensorProto of a tensor. */
export function tensorToProto(t: Tensor, options: TensorToProtoOptions = {}): TensorProtoMsg {
  const dtype = t.dtype;
  if (dtype === 'resource' || dtype === 'variant') {
    throw unimplemented(`a ${dtypeTfName(dtype)} tensor cannot be written as a TensorProto`);
  }
  const out: TensorProtoMsg = { dtype: dtypeToEnum(dtype), tensorShape: shapeToProto({ unknownRank: false, dims: [...t.shape] }) };
  const data = t.values();
  if (options.tensorContent) {
    if (t.size > 0) out.tensorContent = dtype === 'string' ? encodeStringList(data as Uint8Array[]) : encodeTensorBytes(dtype, data);
    return out;
  }
  if (dtype === 'string') {
    out.stringVal = (data as Uint8Array[]).slice();
    return out;
  }
  switch (dtype) {
    case 'float32':
      out.floatVal = Array.from(data as Float32Array);
      break;
    case 'float64':
      out.doubleVal = Array.from(data as Float64Array);
      break;
    case 'int32':
    case 'int16':
    case 'int8':
    case 'uint8':
    case 'uint16':
      out.intVal = Array.from(data as Int32Array);
      break;
    case 'int64':
      out.int64Val = Array.from(data as BigInt64Array, (v): Int64Like => bigIntToInt64(v));
      break;
    case 'uint64':
      out.uint64Val = Array.from(data as BigUint64Array, (v): Int64Like => bigIntToInt64(v, true));
      break;
    case 'uint32':
      out.uint32Val = Array.from(data as Uint32Array);
      break;
    case 'bool':
      out.boolVal = Array.from(data as Uint8Array, (v) => v !== 0);
      break;
    case 'float16':
      out.halfVal = Array.from(data as Float32Array, floatToHalfBits);
      break;
    case 'bfloat16':
      out.halfVal = Array.from(data as Float32Array, floatToBfloat16Bits);
      break;
    case 'complex64':
      out.scomplexVal = Array.from(data as Float32Array);
      break;
    case 'complex128':
      out.dcomplexVal = Array.from(data as Float64Array);
      break;
  }
  return out;
}
