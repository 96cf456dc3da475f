/**
 * Runtime-wide limits on what one tensor may cost, and the one check every
 * allocation goes through.
 *
 * A model can compute shapes from request values (Fill, Tile, Range,
 * broadcasts, Pad, resize, StringJoin...), so a small request can ask for
 * 1e10 elements. Kernels call `checkTensorSize` with the output shape before
 * allocating; host storage (`allocHost` in tensor.ts) and the tfjs backend
 * (backend.ts wraps its allocator) check again, so ops that do not call it
 * are still refused before memory is taken. Refusals use TensorFlow's
 * statuses and words: a bad shape is INVALID_ARGUMENT ("Dimension -1 must be
 * >= 0", "Encountered overflow when multiplying ..."), a shape beyond the
 * limit is RESOURCE_EXHAUSTED ("OOM when allocating tensor with shape[...]
 * and type float on ... by allocator cpu"), as TF's allocator failure is.
 *
 * The limits are per thread (each inference worker has its own runtime):
 * `setRuntimeLimits` on the thread that runs models. The worker pool hands
 * the creating thread's limits to its workers (workerData).
 */
import { dtypeShortName, type DType } from './dtypes.js';
import { invalidArgument, resourceExhausted, type StatusError } from './errors.js';

export interface RuntimeLimits {
  /** Most elements one tensor may have (any dtype). */
  maxTensorElements: number;
  /**
   * Most bytes one string tensor may hold: its elements' bytes plus 24 per
   * element (TF's size of an empty tstring; a JS array of byte strings costs
   * at least that). Bounds StringJoin, Fill or Tile of a string...; resource
   * and variant tensors (TensorLists) count 24 bytes per element too.
   */
  maxStringTensorBytes: number;
}

/** 2^28 elements: 1 GiB of float32. */
export const DEFAULT_MAX_TENSOR_ELEMENTS = 2 ** 28;
/** 1 GiB of string bytes. */
export const DEFAULT_MAX_STRING_TENSOR_BYTES = 2 ** 30;

export const DEFAULT_RUNTIME_LIMITS: Readonly<RuntimeLimits> = Object.freeze({
  maxTensorElements: DEFAULT_MAX_TENSOR_ELEMENTS,
  maxStringTensorBytes: DEFAULT_MAX_STRING_TENSOR_BYTES,
});

let limits: RuntimeLimits = { ...DEFAULT_RUNTIME_LIMITS };

/** The limits in force on this thread. */
export function runtimeLimits(): Readonly<RuntimeLimits> {
  return limits;
}

/** Sets this thread's limits (fields left out keep their value); each must be a whole number >= 1. */
export function setRuntimeLimits(next: Partial<RuntimeLimits> | undefined): void {
  if (!next) return;
  const merged = { ...limits };
  for (const key of ['maxTensorElements', 'maxStringTensorBytes'] as const) {
    const v = next[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 1) throw invalidArgument(`runtime limit ${key} must be a whole number >= 1, got ${v}`);
    merged[key] = v;
  }
  limits = merged;
}

/** The device and allocator TF names in its OOM message for host (CPU) tensors. */
const DEVICE = '/job:localhost/replica:0/task:0/device:CPU:0';
const TWO_POW_63 = 2 ** 63;

/** A dimension as TF prints it: whole numbers in full (2^62 as 4611686018427387904, not 4611686018427388000). */
const dimText = (d: number): string => (Number.isInteger(d) ? BigInt(d).toString() : String(d));

/** TF's allocation failure: RESOURCE_EXHAUSTED "OOM when allocating tensor with shape[2,3] and type float on ... by allocator cpu". */
export function oomError(shape: readonly number[], dtype: DType): StatusError {
  return resourceExhausted(
    `OOM when allocating tensor with shape[${shape.map(dimText).join(',')}] and type ${dtypeShortName(dtype)} on ${DEVICE} by allocator cpu`,
  );
}

/**
 * Validates a shape the way TF's TensorShape does and checks it against
 * maxTensorElements; returns its element count. Throws INVALID_ARGUMENT for
 * a dimension that is negative or not a whole number, or a product beyond
 * 2^63 - 1 (TF's overflow), RESOURCE_EXHAUSTED (TF's OOM wording) for more
 * elements than the limit, and INVALID_ARGUMENT for a dimension beyond
 * 2^53 - 1 in an empty shape (not representable exactly here).
 */
export function checkTensorSize(shape: readonly number[], dtype: DType): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d)) throw invalidArgument(`Dimension ${d} must be a whole number`);
    if (d < 0) throw invalidArgument(`Dimension ${d} must be >= 0`);
    const next = n * d;
    if (next >= TWO_POW_63) throw invalidArgument(`Encountered overflow when multiplying ${dimText(n)} with ${dimText(d)}, result: -1`);
    n = next;
  }
  if (n > limits.maxTensorElements) throw oomError(shape, dtype);
  // Only an empty tensor can get here with such a dimension (the limit is below 2^53).
  for (const d of shape) {
    if (d > Number.MAX_SAFE_INTEGER) {
      throw invalidArgument(`Dimension ${dimText(d)} is larger than this runtime supports (2^53 - 1)`);
    }
  }
  if (n > 0 && HELD_IN_JS_ARRAYS.has(dtype)) checkStringBytes(shape, 0, dtype);
  return n;
}

/**
 * The longest JS array the runtime builds (string, resource and variant
 * tensors; Tensor.numbers()). V8 keeps arrays up to 2^25 elements in fast
 * storage; longer ones become dictionaries (~20x slower to fill) and near
 * 2^27 elements V8 aborts the whole process ("invalid table size"), so
 * longer ones are refused with RESOURCE_EXHAUSTED whatever the limits say.
 */
export const MAX_JS_ARRAY_ELEMENTS = 2 ** 25;

/** Dtypes whose elements are JS values in a JS array (see tensor.ts). */
const HELD_IN_JS_ARRAYS: ReadonlySet<DType> = new Set(['string', 'resource', 'variant']);
/** What one element of a string tensor counts towards maxStringTensorBytes besides its bytes. */
export const STRING_ELEMENT_BYTES = 24;

/**
 * Checks a string tensor of `shape` whose elements hold `bytes` bytes in all
 * against maxStringTensorBytes (each element also counts STRING_ELEMENT_BYTES)
 * and MAX_JS_ARRAY_ELEMENTS; RESOURCE_EXHAUSTED with TF's OOM wording.
 */
export function checkStringBytes(shape: readonly number[], bytes: number, dtype: DType = 'string'): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (n > MAX_JS_ARRAY_ELEMENTS || bytes + n * STRING_ELEMENT_BYTES > limits.maxStringTensorBytes) throw oomError(shape, dtype);
}

/**
 * TF's TensorShapeUtils::MakeShape over dimension values read from a tensor
 * (Fill's dims, BroadcastTo's shape, ScatterNd's shape...): "Dimension -1
 * must be >= 0", "Shape [...] would have more than 2**63 - 1 elements",
 * then the size check above for `dtype`. int64 dims are checked exactly.
 */
export function makeCheckedShape(dims: ArrayLike<number | bigint>, dtype: DType): number[] {
  const big: bigint[] = [];
  for (let i = 0; i < dims.length; i++) {
    const d = dims[i];
    if (typeof d === 'number' && !Number.isInteger(d)) throw invalidArgument(`Dimension ${d} must be a whole number`);
    big.push(BigInt(d));
  }
  let n = 1n;
  for (const d of big) {
    if (d < 0n) throw invalidArgument(`Dimension ${d} must be >= 0`);
    n *= d;
    if (n >= 2n ** 63n) throw invalidArgument(`Shape [${big.join(',')}] would have more than 2**63 - 1 elements`);
  }
  const shape = big.map(Number);
  checkTensorSize(shape, dtype);
  return shape;
}
