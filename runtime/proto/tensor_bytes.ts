/**
 * Raw little-endian element bytes ⇄ host storage, the layout TensorFlow uses
 * for TensorProto.tensor_content and for numeric tensors in checkpoint data
 * files: each element in its native width, bool as one byte (0/1), float16 /
 * bfloat16 as 16-bit patterns (widened to float32 on the host), complex as
 * (re, im) pairs. Strings, resources and variants have no raw layout here.
 */
import type { DType } from '../dtypes.js';
import { internal, invalidArgument } from '../errors.js';
import { allocHost, type HostData } from '../tensor.js';
import { bfloat16BitsToFloat, floatToBfloat16Bits, floatToHalfBits, halfBitsToFloat } from './float16.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element in the raw layout, or undefined for dtypes without one. */
export function rawElementSize(dtype: DType): number | undefined {
  switch (dtype) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'int64':
    case 'uint64':
    case 'float64':
    case 'complex64':
      return 8;
    case 'complex128':
      return 16;
    default:
      return undefined;
  }
}

/** Copies `bytes` into a fresh, aligned buffer (protobuf and file slices may be unaligned). */
function aligned(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  return copy.buffer;
}

/** Decodes `count` elements of `dtype` from raw little-endian bytes (length must match exactly). */
export function decodeTensorBytes(dtype: DType, bytes: Uint8Array, count: number): HostData {
  const width = rawElementSize(dtype);
  if (width === undefined) throw internal(`${dtype} tensors have no raw byte layout`);
  if (bytes.length !== width * count) {
    throw invalidArgument(`expected ${width * count} bytes for ${count} ${dtype} values, got ${bytes.length}`);
  }
  if (!LITTLE_ENDIAN) throw internal('big-endian hosts are not supported');
  switch (dtype) {
    case 'float16':
    case 'bfloat16': {
      const bits = new Uint16Array(aligned(bytes));
      const out = new Float32Array(count);
      const conv = dtype === 'float16' ? halfBitsToFloat : bfloat16BitsToFloat;
      for (let i = 0; i < count; i++) out[i] = conv(bits[i]);
      return out;
    }
    case 'bool': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] ? 1 : 0;
      return out;
    }
    case 'float32':
    case 'complex64':
      return new Float32Array(aligned(bytes));
    case 'float64':
    case 'complex128':
      return new Float64Array(aligned(bytes));
    case 'int8':
      return new Int8Array(aligned(bytes));
    case 'uint8':
      return new Uint8Array(aligned(bytes));
    case 'int16':
      return new Int16Array(aligned(bytes));
    case 'uint16':
      return new Uint16Array(aligned(bytes));
    case 'int32':
      return new Int32Array(aligned(bytes));
    case 'uint32':
      return new Uint32Array(aligned(bytes));
    case 'int64':
      return new BigInt64Array(aligned(bytes));
    case 'uint64':
      return new BigUint64Array(aligned(bytes));
    default:
      // Unreachable: rawElementSize rejected the other dtypes.
      return allocHost(dtype, count);
  }
}

/** Encodes host storage of `dtype` as raw little-endian bytes. */
export function encodeTensorBytes(dtype: DType, data: HostData): Uint8Array {
  const width = rawElementSize(dtype);
  if (width === undefined) throw internal(`${dtype} tensors have no raw byte layout`);
  if (!LITTLE_ENDIAN) throw internal('big-endian hosts are not supported');
  switch (dtype) {
    case 'float16':
    case 'bfloat16': {
      const src = data as Float32Array;
      const bits = new Uint16Array(src.length);
      const conv = dtype === 'float16' ? floatToHalfBits : floatToBfloat16Bits;
      for (let i = 0; i < src.length; i++) bits[i] = conv(src[i]);
      return new Uint8Array(bits.buffer);
    }
    case 'bool': {
      const src = data as Uint8Array;
      const out = new Uint8Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = src[i] ? 1 : 0;
      return out;
    }
    default: {
      const view = data as Float32Array;
      return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
    }
  }
}
