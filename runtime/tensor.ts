/**
 * The runtime's tensor: a TF dtype, a shape, and its elements, held either in
 * host memory (typed arrays, byte strings, JS objects) or on the tfjs backend
 * (WASM). Conversions between the two happen lazily and are cached, so a chain
 * of numeric kernels stays on the backend and a string kernel stays in JS.
 *
 * Host storage by dtype:
 *   float32/float16/bfloat16 Float32Array · float64 Float64Array
 *   int8 Int8Array · int16 Int16Array · int32 Int32Array · int64 BigInt64Array
 *   uint8 Uint8Array · uint16 Uint16Array · uint32 Uint32Array · uint64 BigUint64Array
 *   bool Uint8Array (0/1) · string Uint8Array[] (raw bytes, as TF strings are)
 *   complex64 Float32Array / complex128 Float64Array (interleaved re, im)
 *   resource / variant: unknown[] (JS objects: variable handles, tensor lists)
 *
 * tfjs storage exists for float32, int32, bool and, converted, the small ints,
 * int64 (range-checked: a value outside int32 is INVALID_ARGUMENT, never a
 * silent wrap) and float16/bfloat16 (as float32). float64, strings, complex,
 * resource and variant live only on the host.
 */
import * as tf from '@tensorflow/tfjs-core';
import { DType, dtypeShortName } from './dtypes.js';
import { invalidArgument, internal, resourceExhausted } from './errors.js';
import { checkTensorSize, MAX_JS_ARRAY_ELEMENTS, runtimeLimits } from './limits.js';

export type HostData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Uint8Array[]
  | unknown[];

export type Shape = readonly number[];

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const TF_STORAGE: Partial<Record<DType, 'float32' | 'int32' | 'bool'>> = {
  float32: 'float32',
  float16: 'float32',
  bfloat16: 'float32',
  int32: 'int32',
  int8: 'int32',
  int16: 'int32',
  uint8: 'int32',
  uint16: 'int32',
  uint32: 'int32',
  int64: 'int32',
  bool: 'bool',
};

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(',')}]`;
}

/*
 * Small host arrays come from shared slabs. V8 keeps typed arrays of up to 64
 * bytes on its own heap (cheap), but gives every larger one its own
 * off-heap ArrayBuffer: ~1 µs to create and more to collect, which is most of
 * the cost of per-element kernels inside map_fn loops (a 28×28 image is 3 KB).
 * Arrays of SLAB_MIN..SLAB_MAX bytes are therefore views into 64 KB slabs,
 * handed out once (bump allocation, never reused, so always zeroed); a slab is
 * freed when its last view is. Consequence for callers: the `.buffer` of a
 * host array may be shared; use byteOffset/byteLength (as every reader here
 * does) and never transfer or detach a buffer that is not wholly the array's.
 */
const SLAB_BYTES = 64 * 1024;
const SLAB_MIN = 65;
const SLAB_MAX = 8 * 1024;
let slab = new ArrayBuffer(0);
let slabUsed = SLAB_BYTES;

type TypedCtor<T> = { new (length: number): T; new (buffer: ArrayBuffer, byteOffset: number, length: number): T; readonly BYTES_PER_ELEMENT: number };

/** A zeroed typed array of `n` elements (see above for where its bytes live). */
export function hostArray<T>(Ctor: TypedCtor<T>, n: number): T {
  const bytes = n * Ctor.BYTES_PER_ELEMENT;
  if (bytes < SLAB_MIN || bytes > SLAB_MAX) return new Ctor(n);
  if (slabUsed + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Ctor(slab, slabUsed, n);
  slabUsed += (bytes + 7) & ~7;
  return out;
}

/** One shared empty byte string: string elements are replaced, never written into. */
const EMPTY_BYTES = new Uint8Array(0);

/**
 * Allocates zeroed host storage for `size` elements of `dtype`. A size that is
 * not a whole number >= 0, or beyond the runtime limits (limits.ts), is
 * refused before anything is allocated (INVALID_ARGUMENT / RESOURCE_EXHAUSTED).
 */
export function allocHost(dtype: DType, size: number): HostData {
  if (!(Number.isInteger(size) && size >= 0 && size <= runtimeLimits().maxTensorElements)) checkTensorSize([size], dtype);
  switch (dtype) {
    case 'float32':
    case 'float16':
    case 'bfloat16':
      return hostArray(Float32Array, size);
    case 'float64':
      return hostArray(Float64Array, size);
    case 'int8':
      return hostArray(Int8Array, size);
    case 'int16':
      return hostArray(Int16Array, size);
    case 'int32':
      return hostArray(Int32Array, size);
    case 'int64':
      return hostArray(BigInt64Array, size);
    case 'uint8':
    case 'bool':
      return hostArray(Uint8Array, size);
    case 'uint16':
      return hostArray(Uint16Array, size);
    case 'uint32':
      return hostArray(Uint32Array, size);
    case 'uint64':
      return hostArray(BigUint64Array, size);
    case 'complex64':
      return hostArray(Float32Array, size * 2);
    case 'complex128':
      return hostArray(Float64Array, size * 2);
    case 'string': {
      if (size > 4096) checkTensorSize([size], dtype); // JS arrays: also bounded by maxStringTensorBytes
      const out: Uint8Array[] = new Array(size);
      for (let i = 0; i < size; i++) out[i] = EMPTY_BYTES;
      return out;
    }
    case 'resource':
    case 'variant':
      if (size > 4096) checkTensorSize([size], dtype);
      return new Array(size).fill(undefined);
  }
}

/** True when this dtype can be held on the tfjs backend. */
export function hasTfStorage(dtype: DType): boolean {
  return TF_STORAGE[dtype] !== undefined;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();
export const encodeString = (s: string): Uint8Array => utf8.encode(s);
export const decodeString = (b: Uint8Array): string => utf8d.decode(b);

const SCALAR_SHAPE: Shape = Object.freeze([]);

/** Persistent tensors of fewer elements keep their host copy after upload (see Tensor.dropHostCopy). */
const KEEP_HOST_BELOW = 4096;

export class Tensor {
  readonly dtype: DType;
  readonly shape: Shape;
  readonly size: number;
  private tfValue: tf.Tensor | undefined;
  private hostValue: HostData | undefined;
  /** Persistent tensors (constants, variable values) outlive a run's scope. */
  private persistent = false;
  private disposed = false;

  private constructor(dtype: DType, shape: Shape, host?: HostData, tfv?: tf.Tensor, size = sizeOf(shape)) {
    this.dtype = dtype;
    // A private copy (the caller may reuse its array); `readonly` keeps it unchanged.
    // Freezing it would cost more than the rest of the constructor.
    this.shape = shape.length === 0 ? SCALAR_SHAPE : shape.slice();
    this.size = size;
    this.hostValue = host;
    this.tfValue = tfv;
  }

  /** Wraps host data; its length must match the shape (complex: 2 per element). */
  static fromHost(dtype: DType, shape: Shape, data: HostData): Tensor {
    const size = sizeOf(shape);
    const expected = dtype === 'complex64' || dtype === 'complex128' ? size * 2 : size;
    if (data.length !== expected) {
      throw internal(`tensor of shape ${shapeString(shape)} needs ${expected} values of ${dtype}, got ${data.length}`);
    }
    return new Tensor(dtype, shape, data, undefined, size);
  }

  /** Wraps a tfjs tensor. `dtype` tags the TF dtype when it differs from tfjs's (int64, uint8...). */
  static fromTf(t: tf.Tensor, dtype?: DType): Tensor {
    const d: DType = dtype ?? (t.dtype === 'float32' ? 'float32' : t.dtype === 'int32' ? 'int32' : t.dtype === 'bool' ? 'bool' : 'string');
    if (TF_STORAGE[d] === undefined) throw internal(`dtype ${d} cannot be held on the tfjs backend`);
    return new Tensor(d, t.shape, undefined, t);
  }

  /** Builds a tensor from plain JS values (convenience for tests, parsing and small constants). */
  static from(dtype: DType, shape: Shape, values: ArrayLike<number | bigint | boolean | string | Uint8Array | unknown>): Tensor {
    const size = sizeOf(shape);
    if (values.length !== size) {
      throw internal(`tensor of shape ${shapeString(shape)} needs ${size} values, got ${values.length}`);
    }
    const data = allocHost(dtype, size);
    for (let i = 0; i < size; i++) {
      const v = values[i];
      if (dtype === 'string') (data as Uint8Array[])[i] = typeof v === 'string' ? encodeString(v) : (v as Uint8Array);
      else if (dtype === 'resource' || dtype === 'variant') (data as unknown[])[i] = v;
      else if (dtype === 'int64' || dtype === 'uint64') (data as BigInt64Array)[i] = BigInt(v as number | bigint);
      else (data as Float64Array)[i] = Number(v);
    }
    return new Tensor(dtype, shape, data);
  }

  static scalar(dtype: DType, value: number | bigint | boolean | string | Uint8Array | unknown): Tensor {
    return Tensor.from(dtype, [], [value]);
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True when the value currently lives on the tfjs backend (no download needed). */
  get isOnBackend(): boolean {
    return this.tfValue !== undefined;
  }

  /** True when the elements are available on the host (no download needed). */
  get isOnHost(): boolean {
    return this.hostValue !== undefined;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** The tfjs tensor holding this value, uploading (and range-checking) host data once. */
  toTf(): tf.Tensor {
    this.assertLive();
    if (this.tfValue) {
      if (!this.tfValue.isDisposed) return this.tfValue;
      // Its backend copy was freed with a finished run's scope; upload again from the host copy.
      if (!this.hostValue) throw internal(`${this} lost its backend storage`);
      this.tfValue = undefined;
    }
    const storage = TF_STORAGE[this.dtype];
    if (!storage) throw internal(`a ${dtypeShortName(this.dtype)} tensor cannot be passed to a numeric tfjs kernel`);
    const host = this.hostValue!;
    let data: Float32Array | Int32Array | Uint8Array;
    if (this.dtype === 'int64' || this.dtype === 'uint32') {
      data = new Int32Array(this.size);
      const src = host as BigInt64Array | Uint32Array;
      for (let i = 0; i < this.size; i++) {
        const v = Number(src[i]);
        if (v < INT32_MIN || v > INT32_MAX) {
          throw invalidArgument(
            `${dtypeShortName(this.dtype)} value ${src[i]} is outside the int32 range that numeric kernels support`,
          );
        }
        data[i] = v;
      }
    } else if (storage === 'int32' && !(host instanceof Int32Array)) {
      data = Int32Array.from(host as ArrayLike<number>);
    } else {
      data = host as Float32Array | Int32Array | Uint8Array;
    }
    this.tfValue = tf.tensor(data, [...this.shape], storage);
    if (this.persistent) {
      tf.keep(this.tfValue);
      this.dropHostCopy();
    }
    return this.tfValue;
  }

  /** The elements in host storage (see the module comment), downloading once from the backend. */
  values(): HostData {
    this.assertLive();
    if (this.hostValue) return this.hostValue;
    const t = this.tfValue!;
    if (t.isDisposed) throw internal(`${this} lost its backend storage`);
    const raw = t.dataSync() as Float32Array | Int32Array | Uint8Array;
    let host: HostData;
    switch (this.dtype) {
      case 'float32':
      case 'float16':
      case 'bfloat16':
      case 'int32':
        host = raw;
        break;
      case 'bool':
        host = raw instanceof Uint8Array ? raw : Uint8Array.from(raw);
        break;
      case 'int64': {
        const out = new BigInt64Array(raw.length);
        for (let i = 0; i < raw.length; i++) out[i] = BigInt(raw[i]);
        host = out;
        break;
      }
      default: {
        const out = allocHost(this.dtype, raw.length) as Int8Array;
        out.set(raw as Int32Array);
        host = out;
      }
    }
    this.hostValue = host;
    return host;
  }

  /** String elements decoded as UTF-8 (only for dtype string). */
  strings(): string[] {
    if (this.dtype !== 'string') throw internal(`strings() on a ${this.dtype} tensor`);
    return (this.values() as Uint8Array[]).map(decodeString);
  }

  /**
   * Elements as JS numbers (int64 converted exactly when within 2^53).
   * RESOURCE_EXHAUSTED beyond MAX_JS_ARRAY_ELEMENTS (limits.ts): a longer JS
   * array is slow to build and can abort the process.
   */
  numbers(): number[] {
    if (this.size > MAX_JS_ARRAY_ELEMENTS) {
      throw resourceExhausted(`${this} has ${this.size} elements, more than the ${MAX_JS_ARRAY_ELEMENTS} a kernel can read as JavaScript numbers`);
    }
    const v = this.values();
    const out: number[] = new Array(this.size);
    for (let i = 0; i < this.size; i++) out[i] = Number((v as ArrayLike<number | bigint>)[i]);
    return out;
  }

  /** A tensor with the same elements and a new shape of equal size (storage shared). */
  reshape(shape: Shape): Tensor {
    if (sizeOf(shape) !== this.size) {
      throw invalidArgument(
        `Input to reshape is a tensor with ${this.size} values, but the requested shape has ${sizeOf(shape)}`,
      );
    }
    if (this.tfValue && !this.hostValue) return new Tensor(this.dtype, shape, undefined, tf.reshape(this.tfValue, [...shape]));
    return new Tensor(this.dtype, shape, this.hostValue ?? this.values());
  }

  /**
   * A new tensor sharing this one's storage (tfjs reference-counts the data),
   * so disposing one leaves the other intact. Used to hand out persistent
   * values (variables, constants) as run outputs the caller may dispose.
   */
  clone(): Tensor {
    this.assertLive();
    const tfv = this.tfValue && !this.tfValue.isDisposed ? tf.clone(this.tfValue) : undefined;
    return new Tensor(this.dtype, this.shape, this.hostValue, tfv);
  }

  /** Marks the tensor as living beyond the current run (constants, variable values). */
  keep(): this {
    this.persistent = true;
    if (this.tfValue) {
      tf.keep(this.tfValue);
      this.dropHostCopy();
    }
    return this;
  }

  /**
   * A persistent tensor (weights, constants) on the backend lets go of its
   * host copy, so it is held once (the backend keeps it: kept tensors are
   * never freed by a run's scope). A host kernel reading it later downloads
   * it once and keeps both copies: each tensor ends with the copies its use
   * needs. Small tensors keep theirs (host kernels read small operands).
   */
  private dropHostCopy(): void {
    if (this.hostValue === undefined || this.size < KEEP_HOST_BELOW || !this.tfValue || this.tfValue.isDisposed) return;
    this.hostValue = undefined;
  }

  get isPersistent(): boolean {
    return this.persistent;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.tfValue?.dispose();
    this.tfValue = undefined;
    this.hostValue = undefined;
  }

  private assertLive(): void {
    if (this.disposed) throw internal('use of a disposed tensor');
  }

  toString(): string {
    return `Tensor<${this.dtype}>${shapeString(this.shape)}`;
  }
}
