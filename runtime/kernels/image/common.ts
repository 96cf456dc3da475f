/** Shared helpers of the image kernel folder (host loops over small typed arrays). */
import { dtypeShortName, type DType } from '../../dtypes.js';
import { invalidArgument } from '../../errors.js';
import { checkTensorSize } from '../../limits.js';
import { allocHost, Tensor } from '../../tensor.js';

export const f32 = Math.fround;

const REAL = new Set<DType>(['float16', 'bfloat16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

/** The values of a real tensor as float32 (float32 in, copied otherwise). */
export function floatData(t: Tensor): Float32Array {
  if (t.dtype === 'float32') return t.values() as Float32Array;
  if (!REAL.has(t.dtype)) throw invalidArgument(`expected a real numeric tensor, got ${dtypeShortName(t.dtype)}`);
  return Float32Array.from(t.numbers());
}

/** A new float32 host tensor of this shape, size checked against the runtime limits. */
export function newFloat(shape: number[]): { data: Float32Array; make: () => Tensor } {
  checkTensorSize(shape, 'float32');
  const data = allocHost('float32', shape.reduce((a, b) => a * b, 1)) as Float32Array;
  return { data, make: () => Tensor.fromHost('float32', shape, data) };
}
